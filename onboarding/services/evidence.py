"""The evidence check: is every acceptance and every published terms text as it was written?

Run daily by the `verify_evidence` task and by hand with `manage.py verify_evidence`.
"""

from __future__ import annotations

from django.db import transaction
from django.utils import timezone

from onboarding import emails
from onboarding.models import EvidenceCheck, TermsAcceptance, TermsVersion
from onboarding.models.evidence import GENESIS_SHA256, Problem, acceptance_sha256


@transaction.atomic
def evidence_verify(*, alert_staff: bool = False) -> EvidenceCheck:
    """Check the acceptances' hash chain and the published terms; store and return the check.

    Found: an acceptance whose content no longer matches its hash (altered); a gap in the
    numbering (deleted) or a link to a hash that is not the previous record's (inserted,
    deleted or replaced); an acceptance whose text hash is not its terms version's; a published
    version whose text no longer hashes to its SHA-256; and the head of the last intact check
    gone or changed (deleted from the end, or the chain rewritten). With `alert_staff`, a failed
    check emails staff (`emails.evidence_alert`) in the same transaction.
    """
    problems: list[Problem] = []
    acceptances = TermsAcceptance.objects.select_related("terms_version").order_by("sequence")
    previous_sequence, previous_sha256 = 0, GENESIS_SHA256
    seen: dict[int, str] = {}
    records = 0
    for acceptance in acceptances.iterator(chunk_size=1000):
        records += 1
        seen[acceptance.sequence] = acceptance.record_sha256
        problems += _acceptance_problems(acceptance, previous_sequence, previous_sha256)
        previous_sequence, previous_sha256 = acceptance.sequence, acceptance.record_sha256

    for terms in TermsVersion.objects.published().order_by("published_at"):
        if terms.compute_content_sha256() != terms.content_sha256:
            problems.append(Problem("terms_altered", {"version": terms.version}))

    last_good = (
        EvidenceCheck.objects.filter(ok=True, head_sequence__isnull=False)
        .order_by("-checked_at", "-id")
        .first()
    )
    if last_good is not None:
        params = {
            "sequence": last_good.head_sequence,
            "checked_at": timezone.localtime(last_good.checked_at).strftime("%Y-%m-%d %H:%M"),
        }
        if last_good.head_sequence not in seen:
            problems.append(Problem("head_missing", params))
        elif seen[last_good.head_sequence] != last_good.head_sha256:
            problems.append(Problem("head_changed", params))

    check = EvidenceCheck.objects.create(
        ok=not problems,
        records=records,
        head_sequence=previous_sequence or None,
        head_sha256=previous_sha256 if previous_sequence else "",
        problems=[{"code": p.code, "params": p.params} for p in problems],
    )
    if problems and alert_staff:
        emails.evidence_alert(check)
    return check


def _acceptance_problems(
    acceptance: TermsAcceptance, previous_sequence: int, previous_sha256: str
) -> list[Problem]:
    """What is wrong with one acceptance, read after the one numbered `previous_sequence`."""
    found = []
    about = {
        "sequence": acceptance.sequence,
        "oid": acceptance.organisation_oid,
        "version": acceptance.terms_version.version,
    }
    if acceptance_sha256(acceptance) != acceptance.record_sha256:
        found.append(Problem("altered", about))
    if acceptance.sequence > previous_sequence + 1:
        gap = {"first": previous_sequence + 1, "last": acceptance.sequence - 1}
        found.append(Problem("missing_one" if gap["first"] == gap["last"] else "missing", gap))
    elif acceptance.previous_sha256 != previous_sha256:
        found.append(Problem("broken_link", about))
    if acceptance.content_sha256 != acceptance.terms_version.content_sha256:
        found.append(Problem("terms_hash", about))
    return found

"""The acceptances' hash chain and the checks of it.

Every `TermsAcceptance` stores the SHA-256 of its own canonical content, which includes the
previous acceptance's hash (`previous_sha256`): an append-only chain in `sequence` order. A
record changed, deleted or slipped in afterwards, even by a database superuser with the
triggers off, no longer matches its hash or breaks the chain; `services.evidence` finds it and
stores each check as an `EvidenceCheck`, whose head anchors the next check (a deleted tail).

The canonical content is JSON with sorted keys, UTF-8 and no spaces, of plain values anyone
can read back from the database (`acceptance_document`); keep it stable: a change of form breaks
every stored hash.
"""

from __future__ import annotations

import hashlib
import ipaddress
import json
from dataclasses import dataclass
from datetime import UTC, date, datetime
from typing import Any

from django.db import connection, models
from django.utils.translation import gettext_lazy as _

# The `previous_sha256` of the first acceptance.
GENESIS_SHA256 = "0" * 64
# The key of the PostgreSQL advisory lock that serialises appends to the chain.
CHAIN_LOCK_KEY = 0x4D504153  # "MPAS"


def acceptance_document(acceptance: Any) -> dict[str, Any]:
    """The evidence of an acceptance as plain values: the input of its `record_sha256`.

    `acceptance` is a TermsAcceptance (or the migration's historical model): its fields and its
    terms version's label. The OID and the email are those stored on the acceptance when it
    was written, so a later change of the organisation or the user leaves the evidence whole.
    """
    accepted_at: datetime = acceptance.accepted_at
    in_force_from: date = acceptance.in_force_from
    ip_address = acceptance.ip_address
    return {
        "sequence": acceptance.sequence,
        "organisation_id": acceptance.organisation_id,
        "organisation_oid": acceptance.organisation_oid,
        "terms_version_id": acceptance.terms_version_id,
        "terms_version": acceptance.terms_version.version,
        "content_sha256": acceptance.content_sha256,
        "accepted_by_id": acceptance.accepted_by_id,
        "accepted_by_email": acceptance.accepted_by_email,
        "accepter_name": acceptance.accepter_name,
        "accepter_title": acceptance.accepter_title,
        "authority_confirmed": bool(acceptance.authority_confirmed),
        "accepted_at": accepted_at.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%S.%fZ"),
        # PostgreSQL gives an address back in its own spelling ("2001:db8::1"): hash that one.
        "ip_address": str(ipaddress.ip_address(ip_address)) if ip_address else None,
        "user_agent": acceptance.user_agent,
        "language": acceptance.language,
        "registration_id": acceptance.registration_id,
        "in_force_from": in_force_from.isoformat(),
        "previous_sha256": acceptance.previous_sha256,
    }


def acceptance_sha256(acceptance: Any) -> str:
    """The SHA-256 of `acceptance_document(acceptance)` in its canonical JSON form."""
    canonical = json.dumps(
        acceptance_document(acceptance), sort_keys=True, ensure_ascii=False, separators=(",", ":")
    )
    return hashlib.sha256(canonical.encode()).hexdigest()


def lock_chain() -> None:
    """Serialise appends to the chain until the transaction ends (PostgreSQL; SQLite, the
    demo's database, serialises every write anyway)."""
    if connection.vendor == "postgresql":
        with connection.cursor() as cursor:
            cursor.execute("SELECT pg_advisory_xact_lock(%s)", [CHAIN_LOCK_KEY])


@dataclass(frozen=True)
class Problem:
    """One thing `services.evidence.evidence_verify` found wrong: `code` names the kind (one
    of PROBLEMS) and `params` its details; str() is its line in the active language."""

    code: str
    params: dict[str, Any]

    def __str__(self) -> str:
        return str(PROBLEMS[self.code]) % self.params


PROBLEMS = {
    "altered": _(
        "Acceptance no. %(sequence)s (%(oid)s, terms %(version)s) no longer matches its "
        "hash: its content was changed."
    ),
    "missing_one": _("Acceptance no. %(first)s is missing from the chain: it was deleted."),
    "missing": _(
        "Acceptances no. %(first)s to %(last)s are missing from the chain: they were deleted."
    ),
    "broken_link": _(
        "Acceptance no. %(sequence)s (%(oid)s, terms %(version)s) does not follow the one "
        "before it: a record was inserted, deleted or replaced."
    ),
    "terms_hash": _(
        "Acceptance no. %(sequence)s (%(oid)s) records a text hash that is not the one of "
        "terms version %(version)s."
    ),
    "terms_altered": _(
        "The published text of terms version %(version)s no longer matches its SHA-256: "
        "it was changed."
    ),
    "head_missing": _(
        "Acceptance no. %(sequence)s, the last one the check of %(checked_at)s found intact, "
        "is missing: acceptances were deleted from the end of the chain."
    ),
    "head_changed": _(
        "Acceptance no. %(sequence)s is no longer the one the check of %(checked_at)s found "
        "intact: the chain was rewritten."
    ),
}


class EvidenceCheck(models.Model):
    """One run of `services.evidence.evidence_verify`: what it found and the chain's head."""

    checked_at = models.DateTimeField(_("checked at"), auto_now_add=True)
    ok = models.BooleanField(_("intact"))
    records = models.PositiveIntegerField(_("acceptances checked"))
    head_sequence = models.PositiveIntegerField(_("last acceptance"), null=True, blank=True)
    head_sha256 = models.CharField(_("hash of the last acceptance"), max_length=64, blank=True)
    problems = models.JSONField(_("problems"), default=list, blank=True)

    class Meta:
        verbose_name = _("evidence check")
        verbose_name_plural = _("evidence checks")
        ordering = ["-checked_at"]

    def __str__(self) -> str:
        return f"{self.checked_at:%Y-%m-%d %H:%M} {'ok' if self.ok else 'FAILED'}"

    @property
    def problem_list(self) -> list[Problem]:
        return [Problem(code=p["code"], params=p["params"]) for p in self.problems]

    @property
    def problem_lines(self) -> list[str]:
        """Each problem as one line in the active language."""
        return [str(problem) for problem in self.problem_list]

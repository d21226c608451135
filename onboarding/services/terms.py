from __future__ import annotations

import hashlib
import json
from datetime import datetime

from django.core.exceptions import ValidationError
from django.db import transaction
from django.utils import timezone
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy

from onboarding import emails
from onboarding.models import TermsVersion

TEXT_CHANGED = gettext_lazy(
    "The text was changed after you opened this page; check it again before publishing."
)


class TermsTextChanged(ValidationError):
    """The draft's text is no longer the one the publisher was shown: never publish unseen."""

    def __init__(self):
        super().__init__(TEXT_CHANGED, code="text_changed")


@transaction.atomic
def terms_publish(
    *,
    terms_version: TermsVersion,
    expected_sha256: str,
    expected_announcement_sha256: str | None = None,
    now: datetime | None = None,
) -> TermsVersion:
    """Publish a draft: fix its content hash and publication time; from then on it is immutable.

    Exactly the text the publisher was shown is published: `expected_sha256` is the
    `compute_content_sha256` of the text on their page, and the row is locked while the
    current text is hashed and compared (TermsTextChanged if another staff member saved a
    change meanwhile; nothing is published then). An edit saved at the same moment waits for
    the lock, then finds the version published (`TermsVersionAdmin` says so). With
    `expected_announcement_sha256` (`terms_announcement_sha256` of the page), what members are
    told, or asked, must be as shown too.

    The text must be complete in Finnish and Swedish (English is optional).

    Members learn of it in the same transaction (`terms_announced_when_published`): a version
    that needs no new acceptance is announced to every member's administrative contacts; one
    that needs acceptance is asked for by an acceptance campaign that staff start. Either the
    version is published and every announcement written, or neither.
    """
    locked = TermsVersion.objects.select_for_update().get(pk=terms_version.pk)
    if locked.is_published:
        raise ValidationError(
            _("Version %(version)s is already published.") % {"version": locked.version}
        )
    content_sha256 = locked.compute_content_sha256()
    if content_sha256 != expected_sha256 or expected_announcement_sha256 not in (
        None,
        terms_announcement_sha256(locked),
    ):
        raise TermsTextChanged()
    locked.full_clean()
    locked.published_at = now or timezone.now()
    locked.content_sha256 = content_sha256
    locked.save()
    if terms_announced_when_published(locked):
        emails.terms_changed(locked)
    return locked


def terms_announcement_sha256(terms_version: TermsVersion) -> str:
    """The SHA-256 of what publishing does besides fixing the text, which the confirmation page
    shows too: whether members must accept again, and the summary of changes they are told."""
    document = {"requires_reacceptance": terms_version.requires_reacceptance} | {
        f"change_summary_{code}": getattr(terms_version, f"change_summary_{code}")
        for code in ("fi", "sv", "en")
    }
    return hashlib.sha256(json.dumps(document, sort_keys=True).encode()).hexdigest()


def terms_announced_when_published(terms_version: TermsVersion) -> bool:
    """Whether publishing a version announces it (a version that needs no new acceptance) or
    leaves it to an acceptance campaign (one that needs acceptance)."""
    return not terms_version.requires_reacceptance

from __future__ import annotations

from datetime import datetime

from django.core.exceptions import ValidationError
from django.db import transaction
from django.utils import timezone
from django.utils.translation import gettext as _

from onboarding import emails
from onboarding.models import TermsVersion


@transaction.atomic
def terms_publish(*, terms_version: TermsVersion, now: datetime | None = None) -> TermsVersion:
    """Publish a draft: fix its content hash and publication time; from then on it is immutable.

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
    locked.full_clean()
    locked.published_at = now or timezone.now()
    locked.content_sha256 = locked.compute_content_sha256()
    locked.save()
    if terms_announced_when_published(locked):
        emails.terms_changed(locked)
    return locked


def terms_announced_when_published(terms_version: TermsVersion) -> bool:
    """Whether publishing a version announces it (a version that needs no new acceptance) or
    leaves it to an acceptance campaign (one that needs acceptance)."""
    return not terms_version.requires_reacceptance

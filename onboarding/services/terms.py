from __future__ import annotations

from datetime import datetime

from django.core.exceptions import ValidationError
from django.db import transaction
from django.db.models import Prefetch
from django.utils import timezone
from django.utils.translation import gettext as _

from onboarding.models import TermsVersion


@transaction.atomic
def terms_publish(*, terms_version: TermsVersion, now: datetime | None = None) -> TermsVersion:
    """Publish a draft: fix its content hash and publication time; from then on it is immutable.

    The text must be complete in Finnish and Swedish (English is optional).
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
    return locked


def terms_announce_changes(*, terms_version: TermsVersion) -> int:
    """Tell every member's administrative contacts what changed in a version that needs no
    new acceptance. Each contact is told once per version. Returns the number of emails."""
    from onboarding import selectors
    from onboarding.emails import queue_email

    count = 0
    members = selectors.members_in_force().prefetch_related(
        Prefetch("contacts", queryset=selectors.administrative_contacts_all(), to_attr="admins")
    )
    for organisation in members:
        for contact in organisation.admins:
            with transaction.atomic():
                queue_email(
                    key=f"terms-changed:{terms_version.pk}:{organisation.pk}:{contact.email.lower()}",
                    to=contact.email,
                    language=contact.language,
                    template="terms_changed",
                    context={"terms": terms_version, "organisation": organisation},
                )
            count += 1
    return count

"""How long the portal keeps what it no longer needs.

A rejected or withdrawn notification is kept NOTIFICATION_RETENTION_DAYS after its decision or
withdrawal (for questions and appeals), then deleted with everything that exists only because
of it: its emails and its history. Every other notification is kept: an approved one is the
evidence of a membership, and one still waiting (or replaced by its correction) is in use.
"""

from __future__ import annotations

from datetime import datetime, timedelta

from django.conf import settings
from django.db import transaction
from django.db.models import Q
from django.utils import timezone

from onboarding.models import OutgoingEmail, Registration, TermsAcceptance

CLOSED = (Registration.Status.REJECTED, Registration.Status.WITHDRAWN)


def registrations_expired(*, now: datetime) -> set[int]:
    """The ids of the rejected and withdrawn notifications past their retention period.

    Left out: one an acceptance of the terms points to (evidence, never deleted), and one that a
    notification staying behind corrects (its `corrects` is read-only evidence)."""
    cutoff = now - timedelta(days=settings.NOTIFICATION_RETENTION_DAYS)
    expired = set(
        Registration.objects.filter(
            Q(status=Registration.Status.REJECTED, reviewed_at__lt=cutoff)
            | Q(status=Registration.Status.WITHDRAWN, withdrawn_at__lt=cutoff)
        )
        .exclude(
            pk__in=TermsAcceptance.objects.filter(registration__isnull=False).values("registration")
        )
        .values_list("pk", flat=True)
    )
    corrected_by = dict(
        Registration.objects.filter(corrects__in=expired).values_list("corrects", "pk")
    )
    # Drop, until none is left to drop, those whose correction stays.
    while kept := {
        pk for pk, correction in corrected_by.items() if pk in expired and correction not in expired
    }:
        expired -= kept
    return expired


@transaction.atomic
def registrations_delete_expired(*, now: datetime | None = None) -> list[int]:
    """Delete the rejected and withdrawn notifications past their retention period
    (`registrations_expired`), with their emails and their history; returns their ids.

    A correction is deleted before the notification it corrects (its reference protects it)."""
    expired = registrations_expired(now=now or timezone.now())
    if not expired:
        return []
    OutgoingEmail.objects.filter(registration__in=expired).delete()
    remaining = set(expired)
    while remaining:
        still_corrected = set(
            Registration.objects.filter(pk__in=remaining, correction__isnull=False).values_list(
                "pk", flat=True
            )
        )
        for registration in Registration.objects.filter(pk__in=remaining - still_corrected):
            registration.skip_history_when_saving = True  # no "deleted" copy of its data
            registration.delete()
        remaining = still_corrected
    Registration.history.filter(id__in=expired).delete()
    return sorted(expired)

"""Celery tasks: thin, they take ids and call a service."""

from __future__ import annotations

from importlib import import_module

from celery import shared_task
from django.conf import settings

from onboarding.models import OutgoingEmail
from onboarding.services.campaigns import reminders_send_due
from onboarding.services.confirmations import contacts_confirmations_send_due
from onboarding.services.evidence import evidence_verify
from onboarding.services.import_uploads import import_uploads_delete_abandoned
from onboarding.services.outgoing_emails import (
    outgoing_email_give_up,
    outgoing_email_send,
    outgoing_emails_stranded,
)
from onboarding.services.registry import registry_recheck_members
from onboarding.services.retention import registrations_delete_expired

EMAIL_MAX_RETRIES = 8


@shared_task(bind=True, max_retries=EMAIL_MAX_RETRIES, acks_late=True)
def send_outgoing_email(self, email_id: int) -> str:
    """Send one email; a temporary refusal is tried again later. The tries are counted on
    the email, not the task, so an email the sweep re-enqueues keeps its count."""
    email = outgoing_email_send(email_id=email_id)
    if email.status == OutgoingEmail.Status.QUEUED:
        if email.attempts > EMAIL_MAX_RETRIES:
            outgoing_email_give_up(email_id=email_id)
            return OutgoingEmail.Status.FAILED
        # Exponential backoff: 30 s, 1 min, 2 min, ... up to an hour between tries.
        raise self.retry(countdown=min(30 * 2 ** (email.attempts - 1), 3600))
    return email.status


@shared_task
def send_stranded_emails() -> int:
    """Enqueue emails nobody will send otherwise: never tried (the broker was down at
    commit, a worker died), or a retry that never came (the broker refused it)."""
    stranded = outgoing_emails_stranded()
    for email_id in stranded:
        send_outgoing_email.delay(email_id)
    return len(stranded)


@shared_task
def send_due_reminders() -> int:
    """Daily (Celery beat, 08:00 Helsinki time): what the open campaigns owe today."""
    return len(reminders_send_due())


@shared_task
def delete_abandoned_import_uploads() -> int:
    """Nightly (Celery beat, 03:30 Helsinki time): import files nobody confirmed within a day."""
    return len(import_uploads_delete_abandoned())


@shared_task
def recheck_members_in_registry() -> int:
    """Weekly (Celery beat, Monday 05:00 Helsinki time): every member in force asked again in
    OPH's organisation registry, and staff told once of what is new. Returns how many the
    registry answered about (0 with lookups off)."""
    check = registry_recheck_members()
    return check.checked if check else 0


@shared_task
def start_contacts_confirmation() -> int:
    """Daily (Celery beat, 08:30 Helsinki time): in CONTACTS_CONFIRMATION_MONTH, the year's
    request to confirm contacts starts on the first run; until its deadline, what it owes
    (requests a run cut short left out, the latest due reminder). Returns the emails written."""
    return len(contacts_confirmations_send_due())


@shared_task
def delete_expired_notifications() -> int:
    """Nightly (Celery beat, 03:45 Helsinki time): rejected and withdrawn notifications older
    than NOTIFICATION_RETENTION_DAYS, with their emails. Returns how many were deleted."""
    return len(registrations_delete_expired())


@shared_task
def clear_expired_sessions() -> None:
    """Nightly (Celery beat, 03:15 Helsinki time): the session store forgets expired sessions
    (Django does not on its own; `manage.py clearsessions` does the same)."""
    import_module(settings.SESSION_ENGINE).SessionStore.clear_expired()


@shared_task
def verify_evidence() -> bool:
    """Daily (Celery beat, 04:15 Helsinki time): the acceptances' hash chain and the published
    terms checked; a failed check emails staff once. Returns whether the evidence is intact."""
    return evidence_verify(alert_staff=True).ok

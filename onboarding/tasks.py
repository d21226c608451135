"""Celery tasks: thin, they take ids and call a service."""

from __future__ import annotations

from importlib import import_module

from celery import shared_task
from django.conf import settings

from onboarding.models import OutgoingEmail
from onboarding.models.emails import ACCOUNT_KINDS
from onboarding.services.campaigns import reminders_send_due
from onboarding.services.confirmations import contacts_confirmations_send_due
from onboarding.services.evidence import evidence_verify
from onboarding.services.import_uploads import import_uploads_delete_abandoned
from onboarding.services.outgoing_emails import outgoing_email_send, outgoing_emails_sweep
from onboarding.services.registry import registry_recheck_members
from onboarding.services.retention import registrations_delete_expired

#: The Celery queue of account emails (sign-in codes, password resets): a campaign's backlog
#: on the default queue never delays them. Every worker consumes both (deploy/systemd).
ACCOUNT_QUEUE = "account"


def enqueue_email(email_id: int, kind: str) -> None:
    """Queue the sending of an email, an account email on its own queue."""
    queue = ACCOUNT_QUEUE if kind in ACCOUNT_KINDS else None
    send_outgoing_email.apply_async((email_id,), queue=queue)


@shared_task(bind=True, max_retries=None, acks_late=True)
def send_outgoing_email(self, email_id: int) -> str:
    """Try one email; refused for now, it is tried again when due (`next_attempt_at`), by a
    retry of this task or, if that is lost, by the sweep. The tries are counted on the email:
    a duplicate task does nothing, and the cap holds however many tasks there were."""
    email = outgoing_email_send(email_id=email_id)
    if email is None:
        return "nothing to do"
    if email.status == OutgoingEmail.Status.QUEUED:
        raise self.retry(eta=email.next_attempt_at)
    return email.status


@shared_task
def send_stranded_emails() -> int:
    """Every minute (Celery beat): expire what outlived its lifetime, and enqueue again the
    emails overdue by more than the sweep's grace, whose task was lost (the broker was down
    at commit, a worker died, the broker refused a retry). Returns how many."""
    overdue = outgoing_emails_sweep()
    for email in overdue:
        enqueue_email(email.pk, email.kind)
    return len(overdue)


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

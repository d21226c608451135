from __future__ import annotations

import smtplib
from datetime import timedelta

from django.core.mail import EmailMultiAlternatives
from django.db import transaction
from django.utils import timezone

from onboarding.models import OutgoingEmail

#: Tries before an email that is only ever refused for now is failed: about two hours of
#: refusals, with the backoff below (30 s, 1, 2 and 4 minutes, then every 5 minutes).
EMAIL_MAX_ATTEMPTS = 28
#: The longest wait between two tries. Well under 15 minutes: once the SMTP server answers
#: again, every email due again is tried within this, plus the sweep's grace and period.
RETRY_DELAY_MAX = timedelta(minutes=5)
#: How late a queued email may be before the sweep takes it for lost and enqueues it again.
#: Its own task (the first one, or a retry a worker holds until `next_attempt_at`) is then
#: either lost (the worker died, the broker refused it) or stuck behind a backlog, where a
#: second one is harmless: whichever comes first tries, the other finds nothing due.
SWEEP_GRACE = timedelta(minutes=5)
#: A task this much early still counts as on time (the timers and clocks of two workers).
ON_TIME = timedelta(seconds=5)


def retry_delay(attempts: int) -> timedelta:
    """The wait after the `attempts`-th try was refused for now: 30 s, doubling, at most
    RETRY_DELAY_MAX."""
    return min(timedelta(seconds=30 * 2 ** min(attempts - 1, 10)), RETRY_DELAY_MAX)


def _is_permanent(error: Exception) -> bool:
    """A 5xx answer about this message or its recipient means it will never be taken.

    A refused connection, greeting, login or sender is about our relay or configuration, not
    the message: it is retried.
    """
    about_the_relay = (
        smtplib.SMTPConnectError,
        smtplib.SMTPHeloError,
        smtplib.SMTPAuthenticationError,
        smtplib.SMTPSenderRefused,
    )
    if isinstance(error, about_the_relay):
        return False
    if isinstance(error, smtplib.SMTPResponseException):
        return 500 <= error.smtp_code < 600
    if isinstance(error, smtplib.SMTPRecipientsRefused):
        return all(500 <= code < 600 for code, _msg in error.recipients.values())
    return False


@transaction.atomic
def outgoing_email_send(*, email_id: int) -> OutgoingEmail | None:
    """Try a queued email once it is due; None when there was nothing to do (it is sent,
    failed or expired, or not due yet: a duplicate task).

    The row stays locked while the SMTP server answers, so a second worker waits and then
    finds it sent. A refusal is recorded, never swallowed: a permanent one, or the last of
    EMAIL_MAX_ATTEMPTS, fails the email; a temporary one makes it due again after
    `retry_delay`. An email with a lifetime is never tried after `expires_at`: it expires.
    """
    email = OutgoingEmail.objects.select_for_update().get(pk=email_id)
    now = timezone.now()
    if email.status != OutgoingEmail.Status.QUEUED:
        return None
    if email.next_attempt_at is not None and email.next_attempt_at > now + ON_TIME:
        return None
    if email.expires_at is not None and email.expires_at <= now:
        _expire(email)
        _save(email)
        return email
    message = EmailMultiAlternatives(email.subject, email.body_text, to=[email.to])
    if email.body_html:
        message.attach_alternative(email.body_html, "text/html")
    email.attempts += 1
    email.last_attempt_at = now
    try:
        message.send(fail_silently=False)
    except Exception as error:  # recorded and retried (or failed), never swallowed
        email.last_error = f"{type(error).__name__}: {error}"[:2000]
        email.next_attempt_at = timezone.now() + retry_delay(email.attempts)
        if _is_permanent(error) or email.attempts >= EMAIL_MAX_ATTEMPTS:
            _settle(email, OutgoingEmail.Status.FAILED)
        elif email.expires_at is not None and email.next_attempt_at >= email.expires_at:
            _expire(email)
    else:
        _settle(email, OutgoingEmail.Status.SENT)
        email.sent_at = timezone.now()
        email.last_error = ""
    _save(email)
    return email


def _save(email: OutgoingEmail) -> None:
    """Writes what a try changes; the bodies only when a code or link was dropped."""
    fields = ["status", "attempts", "last_attempt_at", "last_error", "next_attempt_at", "sent_at"]
    if email.carries_a_secret and email.status != OutgoingEmail.Status.QUEUED:
        fields += ["body_text", "body_html"]
    email.save(update_fields=fields)


def _settle(email: OutgoingEmail, status: str) -> None:
    """No longer queued: nothing is due, and a code or link is not kept."""
    email.status = status
    email.next_attempt_at = None
    if email.carries_a_secret:
        email.body_text = email.body_html = ""


def _expire(email: OutgoingEmail) -> None:
    reason = f"Given up: its lifetime ends at {email.expires_at:%Y-%m-%d %H:%M:%S} UTC."
    if email.last_error:
        reason += f" Last error: {email.last_error}"
    email.last_error = reason[:2000]
    _settle(email, OutgoingEmail.Status.EXPIRED)


@transaction.atomic
def outgoing_emails_sweep(*, grace: timedelta = SWEEP_GRACE) -> list[OutgoingEmail]:
    """The backstop of the sending tasks, run every minute: expires the queued emails past
    their lifetime, and returns those overdue by more than `grace`, for enqueueing again.

    Overdue, their task was lost: never enqueued (the broker was down at commit), died with a
    worker, or a retry the broker refused. Each is counted as offered again now (due now, so
    its new task finds it due), and the next sweeps leave it for another `grace`.
    """
    now = timezone.now()
    queued = OutgoingEmail.objects.select_for_update(skip_locked=True).filter(
        status=OutgoingEmail.Status.QUEUED
    )
    for email in queued.filter(expires_at__lte=now):
        _expire(email)
        _save(email)
    overdue = list(
        queued.filter(next_attempt_at__lte=now - grace)
        .order_by("next_attempt_at")
        .only("pk", "kind", "next_attempt_at")[:1000]
    )
    OutgoingEmail.objects.filter(pk__in=[email.pk for email in overdue]).update(next_attempt_at=now)
    return overdue

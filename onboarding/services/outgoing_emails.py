from __future__ import annotations

import smtplib
from datetime import timedelta

from django.core.mail import EmailMultiAlternatives
from django.db import transaction
from django.db.models import Q
from django.utils import timezone

from onboarding.models import OutgoingEmail


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
def outgoing_email_send(*, email_id: int) -> OutgoingEmail:
    """Send a queued email once. The row stays locked while the SMTP server answers, so a
    second worker waits and then finds it sent. A refusal is recorded, never swallowed: a
    permanent one marks the email failed, a temporary one leaves it queued for a retry."""
    email = OutgoingEmail.objects.select_for_update().get(pk=email_id)
    if email.status != OutgoingEmail.Status.QUEUED:
        return email
    message = EmailMultiAlternatives(email.subject, email.body_text, to=[email.to])
    if email.body_html:
        message.attach_alternative(email.body_html, "text/html")
    email.attempts += 1
    email.last_attempt_at = timezone.now()
    try:
        message.send(fail_silently=False)
    except Exception as error:  # recorded and retried (or failed), never swallowed
        email.last_error = f"{type(error).__name__}: {error}"[:2000]
        if _is_permanent(error):
            email.status = OutgoingEmail.Status.FAILED
    else:
        email.status = OutgoingEmail.Status.SENT
        email.sent_at = timezone.now()
        email.last_error = ""
    email.save(update_fields=["status", "attempts", "last_error", "sent_at", "last_attempt_at"])
    return email


def outgoing_email_give_up(*, email_id: int) -> None:
    """After the last retry: the email is failed, and staff see it with its last error."""
    OutgoingEmail.objects.filter(pk=email_id, status=OutgoingEmail.Status.QUEUED).update(
        status=OutgoingEmail.Status.FAILED
    )


RETRY_LOST_AFTER = timedelta(hours=2)  # longer than the longest retry countdown (1 h)


def outgoing_emails_stranded(*, older_than: timedelta = timedelta(minutes=15)) -> list[int]:
    """Queued emails whose task was lost (never tried, or a retry that never came): nobody
    would ever send them otherwise."""
    now = timezone.now()
    never_tried = Q(attempts=0, created_at__lt=now - older_than)
    retry_lost = Q(attempts__gt=0, last_attempt_at__lt=now - max(older_than, RETRY_LOST_AFTER))
    return list(
        OutgoingEmail.objects.filter(never_tried | retry_lost, status=OutgoingEmail.Status.QUEUED)
        .order_by("created_at")
        .values_list("pk", flat=True)[:1000]
    )

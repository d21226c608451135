from __future__ import annotations

import smtplib
from datetime import timedelta

from django.core.mail import EmailMultiAlternatives
from django.db import transaction
from django.utils import timezone

from onboarding.models import OutgoingEmail


def _is_permanent(error: Exception) -> bool:
    """A 5xx answer about this message or its recipient means it will never be taken.

    A refused login or sender is our configuration, not the message: it is retried.
    """
    if isinstance(error, smtplib.SMTPAuthenticationError | smtplib.SMTPSenderRefused):
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
    email.save(update_fields=["status", "attempts", "last_error", "sent_at"])
    return email


def outgoing_email_give_up(*, email_id: int) -> None:
    """After the last retry: the email is failed, and staff see it with its last error."""
    OutgoingEmail.objects.filter(pk=email_id, status=OutgoingEmail.Status.QUEUED).update(
        status=OutgoingEmail.Status.FAILED
    )


def outgoing_emails_stranded(*, older_than: timedelta = timedelta(minutes=15)) -> list[int]:
    """Queued emails never tried: their task was lost, so nobody would ever send them."""
    return list(
        OutgoingEmail.objects.filter(
            status=OutgoingEmail.Status.QUEUED,
            attempts=0,
            created_at__lt=timezone.now() - older_than,
        ).values_list("pk", flat=True)
    )

"""Emails of the portal: rendered in the recipient's language, written to the outbox with the
event that causes them, and sent by a Celery task after the transaction commits."""

from __future__ import annotations

import hashlib
import logging

from django.conf import settings
from django.db import transaction
from django.template.loader import render_to_string
from django.utils import translation

from onboarding.localised import LANGUAGE_CODES
from onboarding.models import OutgoingEmail

logger = logging.getLogger(__name__)


def render_email(template: str, context: dict, language: str) -> tuple[str, str, str]:
    """(subject, text, html) of templates/emails/<template>.{subject.txt,txt,html}."""
    context = {
        "site_url": settings.SITE_URL,
        "customer_service_email": settings.CUSTOMER_SERVICE_EMAIL,
        **context,
    }
    with translation.override(language):
        subject = render_to_string(f"emails/{template}.subject.txt", context)
        text = render_to_string(f"emails/{template}.txt", context)
        html = render_to_string(f"emails/{template}.html", context)
    return " ".join(subject.split()), text, html


def queue_email(*, key: str, to: str, language: str, template: str, context: dict) -> OutgoingEmail:
    """Write the email to the outbox unless `key` was queued before; returns the outbox row.

    Call inside the transaction of the event: the email exists if and only if the event does.
    """
    language = language if language in LANGUAGE_CODES else settings.LANGUAGE_CODE
    subject, text, html = render_email(template, context, language)
    email, created = OutgoingEmail.objects.get_or_create(
        key=_fit(key),
        defaults={
            "to": to,
            "language": language,
            "subject": subject,
            "body_text": text,
            "body_html": html,
        },
    )
    if created:
        transaction.on_commit(lambda: _enqueue(email.pk))
    return email


def _fit(key: str) -> str:
    """Keys name the event and the recipient; a long one keeps its start and a hash of the
    whole, so two different keys never collapse into one."""
    if len(key) <= 200:
        return key
    return f"{key[:135]}#{hashlib.sha256(key.encode()).hexdigest()}"


def _enqueue(email_id: int) -> None:
    """After commit the email is safe in the outbox; a failure to enqueue (broker down, or an
    in-process retry in development) must not turn the committed request into an error."""
    from onboarding.tasks import send_outgoing_email

    try:
        send_outgoing_email.delay(email_id)
    except Exception:
        logger.warning("Email %s stays queued: enqueueing failed", email_id, exc_info=True)

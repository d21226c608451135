"""The outbox: a queued email is sent once; the SMTP server's refusals are recorded, a
temporary one is retried by the Celery task and a permanent one fails the email."""

from __future__ import annotations

import smtplib
from collections.abc import Sequence
from typing import ClassVar

import pytest
from celery.exceptions import Retry
from django.core.mail import EmailMessage
from django.core.mail.backends.locmem import EmailBackend as LocmemBackend

from onboarding.models import OutgoingEmail
from onboarding.services.outgoing_emails import outgoing_email_give_up, outgoing_email_send
from onboarding.tasks import EMAIL_MAX_RETRIES, send_outgoing_email
from tests.factories import ALICE

pytestmark = pytest.mark.django_db

TEMPORARY_ERRORS = [
    pytest.param(
        smtplib.SMTPServerDisconnected("Connection unexpectedly closed"), id="disconnected"
    ),
    pytest.param(smtplib.SMTPResponseException(451, b"try later"), id="451"),
    pytest.param(ConnectionRefusedError(111, "Connection refused"), id="connection-refused"),
    pytest.param(
        smtplib.SMTPRecipientsRefused({"a@b.fi": (450, b"mailbox busy")}), id="recipient-450"
    ),
    # 5xx about our relay, not the message: a misconfigured relay must not fail every email.
    pytest.param(smtplib.SMTPConnectError(554, b"no service for you"), id="greeting-554"),
    pytest.param(smtplib.SMTPAuthenticationError(535, b"bad credentials"), id="login-535"),
    pytest.param(smtplib.SMTPSenderRefused(553, b"not ours", "noreply@oph.fi"), id="sender-553"),
]
PERMANENT_ERRORS = [
    pytest.param(smtplib.SMTPResponseException(550, b"mailbox unavailable"), id="550"),
    pytest.param(
        smtplib.SMTPRecipientsRefused({"a@b.fi": (550, b"no such user")}), id="recipient-550"
    ),
]


class ScriptedSmtp(LocmemBackend):
    """An SMTP server that refuses the next `refusals` messages with `error`, then takes them
    into django.core.mail.outbox like the locmem backend."""

    error: ClassVar[Exception | None] = None
    refusals: ClassVar[float] = 0

    @classmethod
    def refuse(cls, error: Exception, *, times: float = float("inf")) -> None:
        cls.error, cls.refusals = error, times

    def send_messages(self, messages: Sequence[EmailMessage]) -> int:
        cls = type(self)
        if cls.error is not None and cls.refusals > 0:
            cls.refusals -= 1
            raise cls.error
        return super().send_messages(messages)


@pytest.fixture
def smtp(settings) -> type[ScriptedSmtp]:
    settings.EMAIL_BACKEND = f"{__name__}.{ScriptedSmtp.__qualname__}"
    ScriptedSmtp.error, ScriptedSmtp.refusals = None, 0
    yield ScriptedSmtp
    ScriptedSmtp.error, ScriptedSmtp.refusals = None, 0


def queued_email(**changes: object) -> OutgoingEmail:
    values: dict[str, object] = {
        "key": f"receipt:1:{ALICE}",
        "kind": OutgoingEmail.Kind.RECEIPT,
        "to": ALICE,
        "language": "fi",
        "subject": "MPASSid: we received your notification",
        "body_text": "Thank you. We received your MPASSid notification.",
        "body_html": "<p>Thank you. We received your MPASSid notification.</p>",
    } | changes
    return OutgoingEmail.objects.create(**values)


def stored(email: OutgoingEmail) -> OutgoingEmail:
    email.refresh_from_db()
    return email


def test_a_queued_email_is_sent_once_and_marked_sent(smtp, mailoutbox):
    email = queued_email()
    outgoing_email_send(email_id=email.pk)
    email = stored(email)
    assert email.status == OutgoingEmail.Status.SENT
    assert email.sent_at is not None
    assert email.attempts == 1
    assert email.last_error == ""
    [message] = mailoutbox
    assert message.to == [ALICE]
    assert message.subject == "MPASSid: we received your notification"
    assert message.body == "Thank you. We received your MPASSid notification."
    assert message.alternatives[0][1] == "text/html"


def test_sending_a_sent_email_again_does_nothing(smtp, mailoutbox):
    email = queued_email()
    outgoing_email_send(email_id=email.pk)
    sent_at = stored(email).sent_at
    outgoing_email_send(email_id=email.pk)
    assert len(mailoutbox) == 1
    email = stored(email)
    assert (email.status, email.attempts, email.sent_at) == ("sent", 1, sent_at)


def test_an_email_without_html_is_sent_as_plain_text(smtp, mailoutbox):
    outgoing_email_send(email_id=queued_email(body_html="").pk)
    [message] = mailoutbox
    assert message.alternatives == []


@pytest.mark.parametrize("error", TEMPORARY_ERRORS)
def test_a_temporary_refusal_leaves_the_email_queued_with_the_error(smtp, mailoutbox, error):
    smtp.refuse(error)
    email = queued_email()
    outgoing_email_send(email_id=email.pk)
    email = stored(email)
    assert email.status == OutgoingEmail.Status.QUEUED
    assert email.attempts == 1
    assert email.last_error.startswith(f"{type(error).__name__}: ")
    assert email.sent_at is None
    assert mailoutbox == []


@pytest.mark.parametrize("error", PERMANENT_ERRORS)
def test_a_permanent_refusal_fails_the_email_with_the_error(smtp, mailoutbox, error):
    smtp.refuse(error)
    email = queued_email()
    outgoing_email_send(email_id=email.pk)
    email = stored(email)
    assert email.status == OutgoingEmail.Status.FAILED
    assert email.attempts == 1
    assert email.last_error.startswith(f"{type(error).__name__}: ")
    assert "550" in email.last_error
    assert email.sent_at is None


def test_a_failed_email_is_not_sent_again(smtp, mailoutbox):
    smtp.refuse(smtplib.SMTPResponseException(550, b"mailbox unavailable"), times=1)
    email = queued_email()
    outgoing_email_send(email_id=email.pk)
    outgoing_email_send(email_id=email.pk)
    assert mailoutbox == []
    assert stored(email).attempts == 1


def test_a_later_success_clears_the_last_error(smtp, mailoutbox):
    smtp.refuse(smtplib.SMTPServerDisconnected("Connection unexpectedly closed"), times=1)
    email = queued_email()
    outgoing_email_send(email_id=email.pk)
    outgoing_email_send(email_id=email.pk)
    email = stored(email)
    assert (email.status, email.attempts, email.last_error) == ("sent", 2, "")
    assert len(mailoutbox) == 1


def test_giving_up_fails_a_queued_email_and_keeps_its_last_error(smtp):
    smtp.refuse(smtplib.SMTPServerDisconnected("Connection unexpectedly closed"))
    email = queued_email()
    outgoing_email_send(email_id=email.pk)
    outgoing_email_give_up(email_id=email.pk)
    email = stored(email)
    assert email.status == OutgoingEmail.Status.FAILED
    assert "Connection unexpectedly closed" in email.last_error


def test_giving_up_leaves_a_sent_email_sent(smtp):
    email = queued_email()
    outgoing_email_send(email_id=email.pk)
    outgoing_email_give_up(email_id=email.pk)
    assert stored(email).status == OutgoingEmail.Status.SENT


def test_the_task_sends_a_queued_email(smtp, mailoutbox):
    email = queued_email()
    result = send_outgoing_email.apply(args=[email.pk])
    assert result.get() == OutgoingEmail.Status.SENT
    assert stored(email).status == OutgoingEmail.Status.SENT
    assert len(mailoutbox) == 1


def test_the_task_retries_a_temporary_refusal(smtp, mailoutbox):
    smtp.refuse(smtplib.SMTPResponseException(451, b"try later"))
    email = queued_email()
    with pytest.raises(Retry):
        send_outgoing_email.apply(args=[email.pk])
    email = stored(email)
    assert (email.status, email.attempts) == (OutgoingEmail.Status.QUEUED, 1)


def test_the_last_try_of_the_task_fails_the_email(smtp, mailoutbox):
    smtp.refuse(smtplib.SMTPResponseException(451, b"try later"))
    email = queued_email(attempts=EMAIL_MAX_RETRIES)
    result = send_outgoing_email.apply(args=[email.pk])
    assert result.get() == OutgoingEmail.Status.FAILED
    email = stored(email)
    assert email.status == OutgoingEmail.Status.FAILED
    assert "451" in email.last_error
    assert mailoutbox == []


def run_like_a_worker(email_id: int) -> tuple[str, list[float]]:
    """Run the task as a worker would, each retry as the next try: (result, countdowns).

    Eager Celery raises the first Retry; the worker would run the task again later with
    `retries` one higher, which `apply(retries=...)` does at once."""
    countdowns: list[float] = []
    for retries in range(EMAIL_MAX_RETRIES + 1):
        try:
            return send_outgoing_email.apply(args=[email_id], retries=retries).get(), countdowns
        except Retry as retry:
            countdowns.append(retry.when)
    raise AssertionError(f"the task still retried after {EMAIL_MAX_RETRIES} retries")


def test_the_task_tries_until_the_server_takes_the_email(smtp, mailoutbox):
    smtp.refuse(smtplib.SMTPServerDisconnected("Connection unexpectedly closed"), times=2)
    email = queued_email()
    result, countdowns = run_like_a_worker(email.pk)
    assert result == OutgoingEmail.Status.SENT
    assert countdowns == [30, 60]
    email = stored(email)
    assert (email.status, email.attempts, email.last_error) == ("sent", 3, "")
    assert len(mailoutbox) == 1


def test_the_task_backs_off_exponentially_and_gives_up_after_its_retries(smtp, mailoutbox):
    smtp.refuse(smtplib.SMTPServerDisconnected("Connection unexpectedly closed"))
    email = queued_email()
    result, countdowns = run_like_a_worker(email.pk)
    assert result == OutgoingEmail.Status.FAILED
    assert countdowns == [30, 60, 120, 240, 480, 960, 1920, 3600]
    email = stored(email)
    assert email.status == OutgoingEmail.Status.FAILED
    assert email.attempts == EMAIL_MAX_RETRIES + 1
    assert "Connection unexpectedly closed" in email.last_error
    assert mailoutbox == []


def test_the_task_does_not_retry_a_permanent_refusal(smtp):
    smtp.refuse(smtplib.SMTPRecipientsRefused({"a@b.fi": (550, b"no such user")}))
    email = queued_email()
    result = send_outgoing_email.apply(args=[email.pk])
    assert result.get() == OutgoingEmail.Status.FAILED
    assert stored(email).attempts == 1


def test_an_email_whose_retry_never_came_is_picked_up_again():
    from datetime import timedelta

    from django.utils import timezone

    from onboarding.models import OutgoingEmail
    from onboarding.services.outgoing_emails import outgoing_emails_stranded

    def queued(key, **fields):
        return OutgoingEmail.objects.create(
            key=key,
            kind=OutgoingEmail.Kind.RECEIPT,
            to="a@koulu.fi",
            language="fi",
            subject="s",
            body_text="t",
            **fields,
        )

    long_ago = timezone.now() - timedelta(hours=3)
    lost_retry = queued("lost", attempts=2, last_attempt_at=long_ago, last_error="451")
    waiting_retry = queued("waiting", attempts=1, last_attempt_at=timezone.now())
    never_tried = queued("never")
    OutgoingEmail.objects.filter(pk=never_tried.pk).update(created_at=long_ago)
    queued("failed", status="failed", attempts=1, last_attempt_at=long_ago)
    assert set(outgoing_emails_stranded()) == {lost_retry.pk, never_tried.pk}
    assert waiting_retry.pk not in outgoing_emails_stranded()


def test_an_email_the_sweep_sends_again_keeps_its_count_of_tries(smtp, mailoutbox):
    """A task enqueued afresh (its retry was lost) does not get a new set of retries."""
    smtp.refuse(smtplib.SMTPServerDisconnected("Connection unexpectedly closed"))
    email = queued_email(attempts=EMAIL_MAX_RETRIES - 1)
    with pytest.raises(Retry) as retry:
        send_outgoing_email.apply(args=[email.pk])
    assert retry.value.when == 3600
    assert send_outgoing_email.apply(args=[email.pk]).get() == OutgoingEmail.Status.FAILED
    assert stored(email).attempts == EMAIL_MAX_RETRIES + 1

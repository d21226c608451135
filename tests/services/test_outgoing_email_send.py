"""The outbox: a queued email is sent once; the SMTP server's refusals are recorded, a
temporary one makes the email due again after a backoff (tried by a retry of the Celery task,
or by the sweep when that is lost) and a permanent one fails the email. A code is never sent
after its lifetime, and its body is not kept."""

from __future__ import annotations

import smtplib
from collections.abc import Sequence
from datetime import timedelta
from typing import ClassVar

import pytest
from celery.exceptions import Retry
from django.core.mail import EmailMessage
from django.core.mail.backends.locmem import EmailBackend as LocmemBackend
from django.db.models import F
from django.utils import timezone

from onboarding.models import OutgoingEmail
from onboarding.services.outgoing_emails import (
    EMAIL_MAX_ATTEMPTS,
    RETRY_DELAY_MAX,
    SWEEP_GRACE,
    outgoing_email_send,
    outgoing_emails_sweep,
    retry_delay,
)
from onboarding.tasks import send_outgoing_email, send_stranded_emails
from tests.factories import ALICE, queued_email

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


def stored(email: OutgoingEmail) -> OutgoingEmail:
    email.refresh_from_db()
    return email


def test_a_queued_email_is_sent_once_and_marked_sent(smtp, mailoutbox):
    email = queued_email()
    outgoing_email_send(email_id=email.pk)
    email = stored(email)
    assert email.status == OutgoingEmail.Status.SENT
    assert email.sent_at is not None
    assert email.next_attempt_at is None
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
def test_a_temporary_refusal_leaves_the_email_queued_with_the_error_and_due_later(
    smtp, mailoutbox, error
):
    smtp.refuse(error)
    email = queued_email()
    outgoing_email_send(email_id=email.pk)
    email = stored(email)
    assert email.status == OutgoingEmail.Status.QUEUED
    assert email.attempts == 1
    assert email.last_error.startswith(f"{type(error).__name__}: ")
    assert email.sent_at is None
    assert email.next_attempt_at - email.last_attempt_at >= timedelta(seconds=30)
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
    assert email.next_attempt_at is None


def test_a_failed_email_is_not_sent_again(smtp, mailoutbox):
    smtp.refuse(smtplib.SMTPResponseException(550, b"mailbox unavailable"), times=1)
    email = queued_email()
    outgoing_email_send(email_id=email.pk)
    outgoing_email_send(email_id=email.pk)
    assert mailoutbox == []
    assert stored(email).attempts == 1


def time_passes(email: OutgoingEmail, delta: timedelta) -> None:
    """Move the email's times back by `delta`, as if that much time had passed."""
    OutgoingEmail.objects.filter(pk=email.pk).update(
        next_attempt_at=F("next_attempt_at") - delta,
        created_at=F("created_at") - delta,
    )


def test_a_later_success_clears_the_last_error(smtp, mailoutbox):
    smtp.refuse(smtplib.SMTPServerDisconnected("Connection unexpectedly closed"), times=1)
    email = queued_email()
    outgoing_email_send(email_id=email.pk)
    time_passes(email, timedelta(seconds=30))
    outgoing_email_send(email_id=email.pk)
    email = stored(email)
    assert (email.status, email.attempts, email.last_error) == ("sent", 2, "")
    assert len(mailoutbox) == 1


def test_an_email_refused_for_now_is_not_tried_again_before_it_is_due(smtp, mailoutbox):
    """A second task (a duplicate, or a retry Redis handed out twice) comes too early."""
    smtp.refuse(smtplib.SMTPResponseException(451, b"try later"), times=1)
    email = queued_email()
    outgoing_email_send(email_id=email.pk)
    assert outgoing_email_send(email_id=email.pk) is None
    assert stored(email).attempts == 1
    assert mailoutbox == []
    time_passes(email, timedelta(seconds=30))
    outgoing_email_send(email_id=email.pk)
    assert (stored(email).status, stored(email).attempts) == ("sent", 2)
    assert len(mailoutbox) == 1


def test_the_wait_between_tries_doubles_from_30_seconds_to_at_most_5_minutes():
    waits = [retry_delay(attempts).total_seconds() for attempts in range(1, 9)]
    assert waits == [30, 60, 120, 240, 300, 300, 300, 300]
    assert RETRY_DELAY_MAX + SWEEP_GRACE + timedelta(minutes=1) < timedelta(minutes=15)


def test_the_last_try_fails_the_email(smtp, mailoutbox):
    smtp.refuse(smtplib.SMTPResponseException(451, b"try later"))
    email = queued_email(attempts=EMAIL_MAX_ATTEMPTS - 1)
    outgoing_email_send(email_id=email.pk)
    email = stored(email)
    assert (email.status, email.attempts) == ("failed", EMAIL_MAX_ATTEMPTS)
    assert "451" in email.last_error
    assert email.next_attempt_at is None
    assert mailoutbox == []


def test_the_task_sends_a_queued_email(smtp, mailoutbox):
    email = queued_email()
    result = send_outgoing_email.apply(args=[email.pk])
    assert result.get() == OutgoingEmail.Status.SENT
    assert stored(email).status == OutgoingEmail.Status.SENT
    assert len(mailoutbox) == 1


def test_the_task_retries_a_temporary_refusal_when_the_email_is_due_again(smtp, mailoutbox):
    smtp.refuse(smtplib.SMTPResponseException(451, b"try later"))
    email = queued_email()
    with pytest.raises(Retry) as retry:
        send_outgoing_email.apply(args=[email.pk])
    email = stored(email)
    assert (email.status, email.attempts) == (OutgoingEmail.Status.QUEUED, 1)
    assert retry.value.when == email.next_attempt_at


def test_a_task_that_finds_nothing_due_neither_sends_nor_retries(smtp, mailoutbox):
    email = queued_email(next_attempt_at=timezone.now() + timedelta(minutes=2))
    assert send_outgoing_email.apply(args=[email.pk]).get() == "nothing to do"
    assert stored(email).attempts == 0
    assert mailoutbox == []


def run_like_a_worker(email: OutgoingEmail) -> tuple[str, list[float]]:
    """Run the task as a worker would, each retry when the email is due: (result, waits).

    Eager Celery raises the first Retry; the worker would run the task again at its ETA,
    which is done here at once after moving the email's due time to now."""
    waits: list[float] = []
    for retries in range(EMAIL_MAX_ATTEMPTS):
        try:
            return send_outgoing_email.apply(args=[email.pk], retries=retries).get(), waits
        except Retry:
            email = stored(email)
            waits.append(round((email.next_attempt_at - email.last_attempt_at).total_seconds()))
            time_passes(email, email.next_attempt_at - timezone.now())
    raise AssertionError(f"the task still retried after {EMAIL_MAX_ATTEMPTS} tries")


def test_the_task_tries_until_the_server_takes_the_email(smtp, mailoutbox):
    smtp.refuse(smtplib.SMTPServerDisconnected("Connection unexpectedly closed"), times=2)
    email = queued_email()
    result, waits = run_like_a_worker(email)
    assert result == OutgoingEmail.Status.SENT
    assert waits == [30, 60]
    email = stored(email)
    assert (email.status, email.attempts, email.last_error) == ("sent", 3, "")
    assert len(mailoutbox) == 1


def test_the_task_backs_off_and_gives_up_after_about_two_hours_of_refusals(smtp, mailoutbox):
    smtp.refuse(smtplib.SMTPServerDisconnected("Connection unexpectedly closed"))
    email = queued_email()
    result, waits = run_like_a_worker(email)
    assert result == OutgoingEmail.Status.FAILED
    assert waits == [30, 60, 120, 240] + [300] * (EMAIL_MAX_ATTEMPTS - 5)
    assert (
        timedelta(hours=1, minutes=50)
        < timedelta(seconds=sum(waits))
        < timedelta(hours=2, minutes=10)
    )
    email = stored(email)
    assert email.status == OutgoingEmail.Status.FAILED
    assert email.attempts == EMAIL_MAX_ATTEMPTS
    assert "Connection unexpectedly closed" in email.last_error
    assert mailoutbox == []


def test_the_task_does_not_retry_a_permanent_refusal(smtp):
    smtp.refuse(smtplib.SMTPRecipientsRefused({"a@b.fi": (550, b"no such user")}))
    email = queued_email()
    result = send_outgoing_email.apply(args=[email.pk])
    assert result.get() == OutgoingEmail.Status.FAILED
    assert stored(email).attempts == 1


# A code's lifetime.

CODE = "Your sign-in code: 4XK-9QZ"


def code_email(*, lifetime: timedelta = timedelta(minutes=3), **changes) -> OutgoingEmail:
    return queued_email(
        key=f"sign_in_code:{lifetime}:{ALICE}",
        kind=OutgoingEmail.Kind.SIGN_IN_CODE,
        subject="MPASSid: Sign-in code",
        body_text=CODE,
        body_html=f"<p>{CODE}</p>",
        expires_at=timezone.now() + lifetime,
        **changes,
    )


def test_a_sent_code_is_not_kept_in_the_outbox(smtp, mailoutbox):
    email = code_email()
    outgoing_email_send(email_id=email.pk)
    [message] = mailoutbox
    assert message.body == CODE
    email = stored(email)
    assert email.status == "sent"
    assert (email.body_text, email.body_html) == ("", "")
    assert email.subject == "MPASSid: Sign-in code"


def test_an_email_without_a_lifetime_keeps_its_body_once_sent(smtp, mailoutbox):
    email = queued_email()
    outgoing_email_send(email_id=email.pk)
    assert stored(email).body_text == "Thank you. We received your MPASSid notification."


def test_a_code_past_its_lifetime_is_not_sent_and_is_marked_expired(smtp, mailoutbox):
    smtp.refuse(smtplib.SMTPConnectError(421, b"Service not available"), times=1)
    email = code_email()
    outgoing_email_send(email_id=email.pk)
    OutgoingEmail.objects.filter(pk=email.pk).update(expires_at=timezone.now())
    time_passes(email, timedelta(seconds=30))
    outgoing_email_send(email_id=email.pk)
    assert mailoutbox == []
    email = stored(email)
    assert (email.status, email.attempts, email.next_attempt_at) == ("expired", 1, None)
    assert email.last_error.startswith("Given up: its lifetime ends at ")
    assert "421" in email.last_error
    assert (email.body_text, email.body_html) == ("", "")


def test_a_code_whose_next_try_would_come_after_its_lifetime_expires_at_once(smtp, mailoutbox):
    smtp.refuse(smtplib.SMTPResponseException(451, b"try later"))
    email = code_email(lifetime=timedelta(seconds=20))
    assert send_outgoing_email.apply(args=[email.pk]).get() == "expired"
    email = stored(email)
    assert (email.status, email.attempts) == ("expired", 1)
    assert "451" in email.last_error
    assert email.body_text == ""


def test_a_code_refused_for_good_is_not_kept_either(smtp, mailoutbox):
    smtp.refuse(smtplib.SMTPRecipientsRefused({ALICE: (550, b"no such user")}))
    email = code_email()
    outgoing_email_send(email_id=email.pk)
    email = stored(email)
    assert (email.status, email.body_text, email.body_html) == ("failed", "", "")


# The sweep, every minute.


def test_the_sweep_enqueues_emails_overdue_past_its_grace_once_per_grace(smtp, mailoutbox):
    overdue = queued_email(key="overdue")
    time_passes(overdue, SWEEP_GRACE + timedelta(seconds=1))
    queued_email(key="due now")  # its task is on its way
    queued_email(key="due soon", next_attempt_at=timezone.now() + timedelta(minutes=1))
    sent = queued_email(key="sent", status="sent", next_attempt_at=None)
    time_passes(sent, timedelta(hours=1))
    failed = queued_email(key="failed", status="failed", next_attempt_at=None)
    time_passes(failed, timedelta(hours=1))

    assert [email.pk for email in outgoing_emails_sweep()] == [overdue.pk]
    assert stored(overdue).next_attempt_at > timezone.now() - timedelta(seconds=5)
    assert outgoing_emails_sweep() == [], "enqueued again, it is given another grace"


def test_an_email_the_sweep_enqueues_is_sent_and_keeps_its_count_of_tries(smtp, mailoutbox):
    """The task enqueued afresh (a retry was lost) does not get a new set of tries."""
    smtp.refuse(smtplib.SMTPServerDisconnected("Connection unexpectedly closed"), times=1)
    email = queued_email(attempts=3)
    outgoing_email_send(email_id=email.pk)
    time_passes(email, SWEEP_GRACE + RETRY_DELAY_MAX)
    assert send_stranded_emails.apply().get() == 1
    email = stored(email)
    assert (email.status, email.attempts) == ("sent", 5)
    assert len(mailoutbox) == 1


def test_the_sweep_expires_a_code_past_its_lifetime_and_blanks_it(smtp, mailoutbox):
    email = code_email(next_attempt_at=timezone.now() + timedelta(minutes=1))
    OutgoingEmail.objects.filter(pk=email.pk).update(expires_at=timezone.now())
    assert send_stranded_emails.apply().get() == 0
    email = stored(email)
    assert (email.status, email.body_text, email.next_attempt_at) == ("expired", "", None)
    assert email.last_error.startswith("Given up: its lifetime ends at ")
    assert mailoutbox == []

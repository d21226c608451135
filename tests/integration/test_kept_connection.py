"""The outbox's emails share one SMTP connection (portal/mail.py), to a real server on
loopback: a campaign's thousands of emails do not each pay a handshake, a greeting and a
login. A connection the server has closed, or one a send failed on, is never used again, and
no email is lost or counted as refused because of it."""

from __future__ import annotations

from collections import Counter

import pytest

from onboarding.models import OutgoingEmail
from onboarding.services.outgoing_emails import outgoing_email_send
from portal.mail import close_kept
from tests.factories import queued_email

pytestmark = pytest.mark.django_db


@pytest.fixture(autouse=True)
def _nothing_kept():
    close_kept()
    yield
    close_kept()


def queued(*addresses: str) -> list[OutgoingEmail]:
    return [queued_email(key=f"receipt:{address}", to=address) for address in addresses]


def send(emails: list[OutgoingEmail]) -> list[tuple[str, int, str]]:
    """Each email sent as its task sends it; (status, attempts, error) of each afterwards."""
    for email in emails:
        outgoing_email_send(email_id=email.pk)
    return [
        (e.status, e.attempts, e.last_error)
        for e in OutgoingEmail.objects.filter(pk__in=[e.pk for e in emails]).order_by("pk")
    ]


SENT_FIRST_TIME = ("sent", 1, "")


def test_many_emails_arrive_over_few_connections_20_emails_each(smtp_settings):
    emails = queued(*(f"rehtori{n}@koulu.example" for n in range(45)))

    assert send(emails) == [SENT_FIRST_TIME] * 45
    assert smtp_settings.recipients() == Counter(e.to for e in emails)
    assert smtp_settings.greetings == 3  # 20, 20 and 5: relays cap emails per connection


def test_a_connection_idle_too_long_is_replaced_without_being_tried(smtp_settings, monkeypatch):
    [first, second] = queued("eka@koulu.example", "toka@koulu.example")
    assert send([first]) == [SENT_FIRST_TIME]

    monkeypatch.setattr("portal.mail.KEPT_IDLE", 0)  # any pause is now too long
    assert send([second]) == [SENT_FIRST_TIME]
    assert smtp_settings.greetings == 2


def test_a_connection_the_server_closed_is_replaced_before_the_next_email(mail_server):
    mail_server.up()
    [first] = queued("eka@koulu.example")
    assert send([first]) == [SENT_FIRST_TIME]

    mail_server.up()  # restarted: the kept connection is gone, as after a relay's idle timeout
    [second] = queued("toka@koulu.example")

    assert send([second]) == [SENT_FIRST_TIME]
    assert [m.recipients for m in mail_server.sink.received] == [[first.to], [second.to]]
    assert mail_server.sink.greetings == 2


def test_after_a_dropped_line_the_next_email_opens_a_new_connection(smtp_settings):
    smtp_settings.drop(times=1, to="pudonnut@koulu.example")
    dropped, after = queued("pudonnut@koulu.example", "seuraava@koulu.example")

    [(status, attempts, error), next_one] = send([dropped, after])

    assert (status, attempts) == ("queued", 1)  # tried again later, as before
    assert error.startswith("SMTPServerDisconnected")
    assert next_one == SENT_FIRST_TIME
    assert smtp_settings.recipients() == Counter(["seuraava@koulu.example"])
    assert smtp_settings.greetings == 2


def test_a_refused_message_does_not_hold_back_the_next_one(smtp_settings):
    smtp_settings.answer("550 5.1.1 No such user here", times=1)
    refused, after = queued("ei-ole@koulu.example", "on@koulu.example")

    [(status, attempts, error), next_one] = send([refused, after])

    assert (status, attempts) == ("failed", 1)
    assert "550" in error
    assert next_one == SENT_FIRST_TIME
    assert smtp_settings.recipients() == Counter(["on@koulu.example"])


def test_an_email_to_another_server_is_not_sent_on_the_kept_connection(
    smtp_settings, mail_server, settings
):
    mail_server.up()  # the fixture that came last: Django's email goes to mail_server
    [first] = queued("eka@koulu.example")
    assert send([first]) == [SENT_FIRST_TIME]

    settings.EMAIL_PORT = smtp_settings.port
    [second] = queued("toka@koulu.example")

    assert send([second]) == [SENT_FIRST_TIME]
    assert mail_server.sink.recipients() == Counter([first.to])
    assert smtp_settings.recipients() == Counter([second.to])

"""Signing in while the mail server is down: the request answers at once, whatever the server
does (refuses, is absent, hangs), and the code comes through the outbox and a real worker
once the server answers again, unless its lifetime has passed. A campaign's backlog does not
hold it up: account emails have their own queue."""

from __future__ import annotations

import re
from datetime import timedelta

import pytest
from django.urls import reverse
from django.utils import timezone

from onboarding.models import OutgoingEmail
from onboarding.services.outgoing_emails import SWEEP_GRACE
from onboarding.tasks import send_outgoing_email, send_stranded_emails
from tests.factories import launched_campaign, legacy_member

pytestmark = [
    pytest.mark.redis,
    pytest.mark.django_db(transaction=True),
    # Celery's Redis result backend calls redis-py's deprecated setex(); not ours to fix.
    pytest.mark.filterwarnings("ignore:Call to deprecated setex:DeprecationWarning"),
]

PERSON = "rehtori@koulu.fi"
CODE = re.compile(r"^\s*([A-Z0-9]{4}-?[A-Z0-9]{2,4})\s*$", re.MULTILINE)


@pytest.fixture(autouse=True)
def _rate_limits_start_afresh():
    """allauth counts the codes asked for an address (in the cache): each test asks anew."""
    from django.core.cache import cache

    cache.clear()


@pytest.fixture
def mail(mail_server, celery_worker):
    """The mail server, absent until a test says otherwise, with the worker running."""
    return mail_server


def ask_for_a_code(client):
    """The sign-in page's first step, as a person submits it: it answers with the way to
    the page that asks for the code."""
    response = client.post(reverse("account_request_login_code"), {"email": PERSON})
    assert response.status_code == 302
    assert response["Location"] == reverse("account_confirm_login_code")
    assert client.get(response["Location"]).status_code == 200
    return OutgoingEmail.objects.get(kind=OutgoingEmail.Kind.SIGN_IN_CODE, to=PERSON)


def tried(email: OutgoingEmail, wait_until, attempts: int = 1) -> OutgoingEmail:
    def recorded():
        email.refresh_from_db()
        return email.attempts >= attempts

    wait_until(recorded, f"try {attempts} to be recorded")
    return email


def due_time_passes(email: OutgoingEmail) -> None:
    """As if the retry had been due for longer than the sweep's grace, and its task lost."""
    OutgoingEmail.objects.filter(pk=email.pk).update(
        next_attempt_at=timezone.now() - SWEEP_GRACE - timedelta(seconds=1)
    )


def sign_in_with_the_code_from_the_inbox(client, mail, wait_until) -> None:
    [message] = wait_until(lambda: mail.sink.to(PERSON), "the code to arrive")
    code = CODE.search(message.part("plain")).group(1)
    response = client.post(reverse("account_confirm_login_code"), {"code": code})
    assert response.status_code == 302
    assert client.get(reverse("onboarding:my_organisations")).status_code == 200


def sent(email: OutgoingEmail, wait_until) -> OutgoingEmail:
    def is_sent():
        email.refresh_from_db()
        return email.status == "sent"

    wait_until(is_sent, "the email to be marked sent")
    return email


def test_with_the_server_refusing_the_code_comes_once_it_answers_again(
    client, mail, wait_until, published_queues
):
    mail.refusing()
    email = tried(ask_for_a_code(client), wait_until)
    assert email.status == "queued"
    assert email.last_error.startswith("SMTPConnectError: (421")
    assert email.next_attempt_at < email.expires_at

    mail.up()
    due_time_passes(email)
    assert send_stranded_emails() == 1  # beat's sweep, a minute later
    sign_in_with_the_code_from_the_inbox(client, mail, wait_until)
    email = sent(email, wait_until)
    assert (email.attempts, email.body_text) == (2, "")
    assert mail.sink.recipients()[PERSON] == 1
    sending = [queue for name, queue in published_queues if name == send_outgoing_email.name]
    assert sending and set(sending) == {"account"}, "first task, retry and sweep's: one queue"


def test_with_no_server_at_all_the_code_comes_once_it_is_there(client, mail, wait_until):
    email = tried(ask_for_a_code(client), wait_until)
    assert (email.status, email.last_error[:22]) == ("queued", "ConnectionRefusedError")

    mail.up()
    due_time_passes(email)
    send_stranded_emails()
    sign_in_with_the_code_from_the_inbox(client, mail, wait_until)
    assert sent(email, wait_until).attempts == 2


def test_with_a_server_that_never_answers_the_sign_in_answers_at_once(
    client, mail, wait_until, settings
):
    settings.EMAIL_TIMEOUT = 600  # a request that waited for this server would not return
    mail.hanging()
    email = ask_for_a_code(client)
    wait_until(lambda: mail.held, "the worker to be connected to the silent server")
    email.refresh_from_db()
    assert (email.status, email.attempts) == ("queued", 0), "the worker waits, not the request"
    assert client.get(reverse("account_confirm_login_code")).status_code == 200

    mail.up()  # the silent server's line drops: the worker's try fails, the next one succeeds
    email = tried(email, wait_until)
    assert email.last_error.startswith("SMTPServerDisconnected")
    due_time_passes(email)
    send_stranded_emails()
    sign_in_with_the_code_from_the_inbox(client, mail, wait_until)


def test_a_code_whose_lifetime_passed_is_not_sent_when_the_server_is_back(
    client, mail, wait_until, celery_app
):
    email = tried(ask_for_a_code(client), wait_until)
    OutgoingEmail.objects.filter(pk=email.pk).update(expires_at=timezone.now())
    mail.up()
    due_time_passes(email)

    assert send_stranded_emails() == 0, "the sweep expires it rather than sending it"
    stale = send_outgoing_email.delay(email.pk)  # a task still on its way
    assert stale.get(timeout=20) == "nothing to do"
    email.refresh_from_db()
    assert (email.status, email.attempts, email.body_text) == ("expired", 1, "")
    assert email.last_error.startswith("Given up: its lifetime ends at ")
    assert "ConnectionRefusedError" in email.last_error
    assert mail.sink.received == []


def test_a_code_does_not_wait_behind_a_campaign(client, mail, terms, wait_until):
    mail.up()
    mail.sink.delay = 0.3  # a slow server: the campaign's invitations take a while
    for n in range(6):
        legacy_member(f"Kunta {n}", *[f"rehtori{k}@kunta{n}.fi" for k in range(3)])
    launched_campaign(terms)  # 18 invitations on the default queue
    wait_until(lambda: mail.sink.received, "the first invitation to arrive")

    email = ask_for_a_code(client)
    wait_until(lambda: mail.sink.to(PERSON), "the code to arrive")
    invitations = OutgoingEmail.objects.filter(kind=OutgoingEmail.Kind.CAMPAIGN_INVITATION)
    assert invitations.filter(status="queued").count() > 10, "most invitations still wait"
    sent(email, wait_until)
    wait_until(lambda: not invitations.filter(status="queued").exists(), "the invitations")
    assert len(mail.sink.received) == 19

"""Emails through the real pipe: the outbox row, its task on Redis, a Celery worker, an SMTP
server. Each message arrives once; a refusal is retried after its real countdown or recorded."""

from __future__ import annotations

import time
from collections import Counter

import pytest

from onboarding.models import OutgoingEmail, Registration, TermsVersion, User
from tests.factories import ALICE, CHARLIE, UserFactory, submit
from tests.integration.broker import WORKER_DB, queue_length, unacknowledged

pytestmark = [
    pytest.mark.redis,
    pytest.mark.django_db(transaction=True),
    # Celery's Redis result backend calls redis-py's deprecated setex(); not ours to fix.
    pytest.mark.filterwarnings("ignore:Call to deprecated setex:DeprecationWarning"),
]

SEND = "onboarding.tasks.send_outgoing_email"


@pytest.fixture
def smtp(smtp_settings, celery_worker):
    """The SMTP server, with the worker running and Django's email pointed at the server."""
    return smtp_settings


def send_task_ids(published) -> list[str]:
    """Ids of the sending tasks, in the order they were first published."""
    return list(dict.fromkeys(task_id for name, task_id, _retries in published if name == SEND))


def submit_notification(terms: TermsVersion, alice: User) -> Registration:
    registration, created = submit(terms, user=alice)
    assert created
    return registration


def settled(wait_until, celery_app, published) -> None:
    """Every sending task published has finished and been acknowledged, and no message waits
    on the queue: nothing is left that could still send a message (a duplicate included)."""

    def nothing_left() -> bool:
        return (
            queue_length(WORKER_DB) == 0
            and unacknowledged(WORKER_DB) == 0
            and all(celery_app.AsyncResult(i).ready() for i in send_task_ids(published))
        )

    wait_until(nothing_left, "every sending task to finish and be acknowledged")


def test_a_notifications_receipt_and_reviews_each_arrive_once_with_text_and_html(
    smtp, terms, alice, charlie, wait_until, published_tasks, celery_app
):
    UserFactory(email="toinen@oph.fi", is_staff=True)
    registration = submit_notification(terms, alice)
    emails = list(OutgoingEmail.objects.order_by("kind", "to"))
    assert [(e.kind, e.registration, e.to) for e in emails] == [
        ("receipt", registration, ALICE),
        ("to_review", registration, CHARLIE),
        ("to_review", registration, "toinen@oph.fi"),
    ]

    wait_until(lambda: len(smtp.received) >= 3, "three messages at the SMTP server")
    settled(wait_until, celery_app, published_tasks)

    assert smtp.recipients() == Counter([ALICE, CHARLIE, "toinen@oph.fi"])
    for outgoing in emails:
        [received] = smtp.to(outgoing.to)
        assert received.recipients == [outgoing.to]
        assert received.message["To"] == outgoing.to
        assert received.subject == outgoing.subject
        assert received.message.get_content_type() == "multipart/alternative"
        assert received.part("plain").splitlines() == outgoing.body_text.splitlines()
        assert received.part("html").splitlines() == outgoing.body_html.splitlines()
        outgoing.refresh_from_db()
        assert (outgoing.status, outgoing.attempts, outgoing.last_error) == ("sent", 1, "")
        assert outgoing.sent_at is not None


def test_a_temporary_refusal_is_retried_after_its_countdown_and_arrives_once(
    smtp, terms, alice, wait_until, published_tasks, celery_app
):
    smtp.answer("451 4.3.0 Mailbox busy, try again later", times=1)
    started = time.monotonic()
    registration = submit_notification(terms, alice)
    [task_id] = send_task_ids(published_tasks)

    assert celery_app.AsyncResult(task_id).get(timeout=50) == "sent"
    elapsed = time.monotonic() - started

    assert [answer[:3] for _to, answer in smtp.attempts] == ["451", "250"]
    assert elapsed >= 29, "the retry waited its 30-second countdown"
    assert [retries for _n, i, retries in published_tasks if i == task_id] == [0, 1]
    settled(wait_until, celery_app, published_tasks)
    assert smtp.recipients() == Counter([ALICE])
    receipt = OutgoingEmail.objects.get(kind=OutgoingEmail.Kind.RECEIPT, registration=registration)
    assert (receipt.status, receipt.attempts, receipt.last_error) == ("sent", 2, "")


def test_a_permanent_refusal_is_recorded_failed_and_not_retried(
    smtp, terms, alice, wait_until, published_tasks, celery_app
):
    smtp.answer("550 5.1.1 No such user here", times=1)
    registration = submit_notification(terms, alice)
    [task_id] = send_task_ids(published_tasks)

    assert celery_app.AsyncResult(task_id).get(timeout=20) == "failed"

    receipt = OutgoingEmail.objects.get(kind=OutgoingEmail.Kind.RECEIPT, registration=registration)
    assert (receipt.status, receipt.attempts, receipt.sent_at) == ("failed", 1, None)
    assert "550" in receipt.last_error
    assert "No such user here" in receipt.last_error
    assert smtp.received == []
    assert [retries for _n, i, retries in published_tasks if i == task_id] == [0]  # no retry
    settled(wait_until, celery_app, published_tasks)
    assert len(smtp.attempts) == 1


def test_a_dropped_connection_is_retried_and_the_message_not_lost(
    smtp, terms, alice, wait_until, published_tasks, celery_app
):
    smtp.drop(times=1)
    registration = submit_notification(terms, alice)
    [task_id] = send_task_ids(published_tasks)
    receipt = OutgoingEmail.objects.get(kind=OutgoingEmail.Kind.RECEIPT, registration=registration)

    def first_try_recorded():
        receipt.refresh_from_db()
        return receipt.attempts == 1

    wait_until(first_try_recorded, "the first try to be recorded")
    assert receipt.status == "queued"
    assert receipt.last_error.startswith("SMTPServerDisconnected")

    assert celery_app.AsyncResult(task_id).get(timeout=50) == "sent"
    receipt.refresh_from_db()
    assert (receipt.status, receipt.attempts, receipt.last_error) == ("sent", 2, "")
    settled(wait_until, celery_app, published_tasks)
    assert smtp.recipients() == Counter([ALICE])
    assert [retries for _n, i, retries in published_tasks if i == task_id] == [0, 1]

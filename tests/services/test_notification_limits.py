"""One person sends at most a few notifications an hour (each one emails every reviewer), and
what reviewers read in their inbox's subject line is never text a submitter typed."""

from __future__ import annotations

import threading
import uuid
from datetime import timedelta

import pytest
from django.db import transaction
from django.utils import timezone

from onboarding import services
from onboarding.models import OutgoingEmail, Registration
from tests.concurrency import at_once, until_another_waits_for_a_lock
from tests.factories import OrganisationFactory, notification, notification_data, submit


def another_oid() -> str:
    return OrganisationFactory.build().oid


def send(terms, user, **kwargs):
    return submit(terms, user=user, data=notification_data(terms, oid=another_oid()), **kwargs)


@pytest.fixture
def limit(settings):
    settings.NOTIFICATIONS_PER_PERSON_PER_HOUR = 3
    return 3


@pytest.mark.django_db
def test_a_person_sends_at_most_the_limit_in_an_hour_and_nothing_more_is_kept_or_sent(
    terms, alice, charlie, limit
):
    for _ in range(limit):
        send(terms, alice)
    emails = OutgoingEmail.objects.count()

    with pytest.raises(services.TooManyNotifications) as refused:
        send(terms, alice)

    assert "You have sent 3 notifications in the last hour" in refused.value.messages[0]
    assert Registration.objects.filter(submitted_by=alice).count() == limit
    assert OutgoingEmail.objects.count() == emails  # no reviewer was emailed again


@pytest.mark.django_db
def test_the_refusal_says_when_the_next_one_may_be_sent(terms, alice, limit):
    first = notification(
        terms,
        user=alice,
        data=notification_data(terms, oid=another_oid()),
        submitted_at=timezone.now() - timedelta(minutes=50),
    )
    for _ in range(limit - 1):
        send(terms, alice)
    with pytest.raises(services.TooManyNotifications) as refused:
        send(terms, alice)
    assert refused.value.retry_at == first.submitted_at + timedelta(hours=1)


@pytest.mark.django_db
def test_notifications_sent_over_an_hour_ago_no_longer_count(terms, alice, limit):
    for _ in range(limit):
        notification(
            terms,
            user=alice,
            data=notification_data(terms, oid=another_oid()),
            submitted_at=timezone.now() - timedelta(minutes=61),
        )
    _registration, created = send(terms, alice)
    assert created


@pytest.mark.django_db
def test_withdrawn_notifications_count_too(terms, alice, limit):
    for _ in range(limit):
        registration, _created = send(terms, alice)
        services.registration_withdraw(registration_id=registration.pk, user=alice)
    with pytest.raises(services.TooManyNotifications):
        send(terms, alice)


@pytest.mark.django_db
def test_the_limit_is_per_person(terms, alice, mallory, limit):
    for _ in range(limit):
        send(terms, alice)
    _registration, created = send(terms, mallory)
    assert created


@pytest.mark.django_db
def test_a_replay_of_a_sent_notification_is_not_refused_by_the_limit(terms, alice, limit):
    token = uuid.uuid4()
    first, _created = send(terms, alice, token=token)
    for _ in range(limit - 1):
        send(terms, alice)
    again, created = send(terms, alice, token=token)
    assert (again, created) == (first, False)


@pytest.mark.django_db(transaction=True)
def test_submissions_at_the_same_moment_cannot_all_slip_under_the_limit(terms, alice, settings):
    settings.NOTIFICATIONS_PER_PERSON_PER_HOUR = 1
    sent = threading.Event()

    def first():
        with transaction.atomic():
            result = send(terms, alice)
            sent.set()
            until_another_waits_for_a_lock("the second submission")
        return result

    def second():
        assert sent.wait(timeout=10)
        return send(terms, alice)

    outcomes = at_once(first, second)

    assert outcomes[0][1] is True
    assert isinstance(outcomes[1], services.TooManyNotifications)
    assert Registration.objects.filter(submitted_by=alice).count() == 1


# What staff read -------------------------------------------------------------------------------

BAIT = "URGENT: click http://evil.example"


@pytest.mark.django_db
def test_the_subject_of_a_review_request_carries_no_text_the_submitter_typed(terms, charlie):
    registration, _created = submit(terms, data=notification_data(terms, name_fi=BAIT))
    [to_review] = OutgoingEmail.objects.filter(kind=OutgoingEmail.Kind.TO_REVIEW)
    assert to_review.to == charlie.email
    assert "URGENT" not in to_review.subject
    assert "evil.example" not in to_review.subject
    assert registration.oid in to_review.subject
    assert str(registration.pk) in to_review.subject  # the reference number


@pytest.mark.django_db
@pytest.mark.parametrize("language", ["fi", "sv", "en"])
def test_no_staff_subject_in_any_language_carries_typed_text(terms, language):
    from onboarding.emails import render_email

    registration, _created = submit(terms, data=notification_data(terms, name_fi=BAIT))
    subject, _text, _html = render_email(
        "registration_to_review", {"registration": registration}, language
    )
    assert "URGENT" not in subject and "evil" not in subject
    assert registration.oid in subject

"""Rejected and withdrawn notifications are deleted NOTIFICATION_RETENTION_DAYS after their
decision or withdrawal, with their emails and history; every other notification stays."""

from __future__ import annotations

from datetime import timedelta

import pytest
from django.db import DatabaseError, transaction
from django.utils import timezone

from onboarding import services
from onboarding.models import OutgoingEmail, Registration, TermsAcceptance
from onboarding.services.retention import registrations_delete_expired
from onboarding.tasks import delete_expired_notifications
from tests.factories import notification, notification_data

pytestmark = pytest.mark.django_db

LONG_AGO = timedelta(days=400)  # past the default 365 days


@pytest.fixture
def rejected(terms, alice, charlie):
    def reject(*, ago: timedelta) -> Registration:
        registration = notification(terms, user=alice)
        services.registration_reject(
            registration_id=registration.pk, reviewer=charlie, reason="Not an education provider."
        )
        Registration.objects.filter(pk=registration.pk).update(reviewed_at=timezone.now() - ago)
        return registration

    return reject


def test_an_old_rejected_notification_goes_with_its_emails_and_history(rejected):
    registration = rejected(ago=LONG_AGO)
    assert OutgoingEmail.objects.filter(registration=registration).exists()

    assert registrations_delete_expired() == [registration.pk]

    assert not Registration.objects.filter(pk=registration.pk).exists()
    assert not OutgoingEmail.objects.filter(registration_id=registration.pk).exists()
    assert not Registration.history.filter(id=registration.pk).exists()


def test_a_recently_rejected_notification_stays(rejected):
    registration = rejected(ago=timedelta(days=300))

    assert registrations_delete_expired() == []
    assert Registration.objects.filter(pk=registration.pk).exists()
    assert OutgoingEmail.objects.filter(registration=registration).exists()


def test_the_retention_period_is_a_setting(rejected, settings):
    registration = rejected(ago=timedelta(days=40))
    settings.NOTIFICATION_RETENTION_DAYS = 30

    assert registrations_delete_expired() == [registration.pk]


def test_an_old_withdrawn_notification_goes(terms, alice):
    registration = notification(terms, user=alice)
    services.registration_withdraw(registration_id=registration.pk, user=alice)
    Registration.objects.filter(pk=registration.pk).update(withdrawn_at=timezone.now() - LONG_AGO)

    assert registrations_delete_expired() == [registration.pk]
    assert not Registration.objects.filter(pk=registration.pk).exists()


def test_approved_and_waiting_notifications_stay_however_old(terms, lempaala, alice, charlie):
    approved = notification(terms, user=alice, submitted_at=timezone.now() - LONG_AGO)
    services.registration_approve(registration_id=approved.pk, reviewer=charlie)
    Registration.objects.filter(pk=approved.pk).update(reviewed_at=timezone.now() - LONG_AGO)
    elsewhere = notification_data(None, oid="1.2.246.562.10.10000000002")
    waiting = notification(None, user=alice, data=elsewhere, submitted_at=timezone.now() - LONG_AGO)

    assert registrations_delete_expired() == []

    assert set(Registration.objects.values_list("pk", flat=True)) == {approved.pk, waiting.pk}
    assert TermsAcceptance.objects.filter(registration=approved).exists()


def test_a_rejected_correction_goes_and_the_notification_it_replaced_stays(
    terms, lempaala, alice, charlie, rejected
):
    first = notification(terms, user=alice)
    services.registration_request_changes(
        registration_id=first.pk, reviewer=charlie, reason="Name a technical contact."
    )
    correction = rejected(ago=LONG_AGO)
    assert correction.corrects == first

    assert registrations_delete_expired() == [correction.pk]

    first.refresh_from_db()
    assert first.status == Registration.Status.REPLACED


def test_the_database_refuses_to_delete_a_notification_that_is_not_closed(terms, alice):
    registration = notification(terms, user=alice)

    with pytest.raises(DatabaseError), transaction.atomic():
        Registration.objects.filter(pk=registration.pk).delete()


def test_the_nightly_task_deletes_them(rejected):
    rejected(ago=LONG_AGO)

    assert delete_expired_notifications.apply().get() == 1
    assert not Registration.objects.exists()

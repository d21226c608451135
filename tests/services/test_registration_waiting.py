"""One notification of an organisation waits at a time: while one waits for review or for its
correction, another is refused; the correction replaces the one sent back; a waiting one can be
withdrawn by its sender or an active contact; the database keeps the rule when two meet."""

from __future__ import annotations

import threading
import uuid
from datetime import date

import pytest
from django.core.exceptions import PermissionDenied, ValidationError
from django.db import IntegrityError, transaction
from django.utils import timezone

from onboarding import services
from onboarding.models import Organisation, Registration, TermsVersion, User
from tests.concurrency import at_once, until_another_waits_for_a_lock
from tests.factories import LEMPAALA as OID
from tests.factories import (
    ContactPersonFactory,
    OrganisationFactory,
    UserFactory,
    notification,
    notification_data,
    published_terms,
    verified_user,
)

REASON = "Add a data protection contact."


def send(terms: TermsVersion, user: User, *, oid: str = OID, **organisation: str) -> Registration:
    data = notification_data(terms, oid=oid, name_sv="", name_en="", **organisation)
    return notification(terms, user=user, data=data)


def sent_back(registration: Registration) -> Registration:
    return services.registration_request_changes(
        registration_id=registration.pk, reviewer=UserFactory(is_staff=True), reason=REASON
    )


def waiting_of(oid: str = OID) -> list[Registration]:
    return list(Registration.objects.filter(oid=oid, status__in=Registration.WAITING))


@pytest.fixture
def colleague() -> User:
    """alice's colleague Teemu, an active contact of Lempäälä (a member already), who did not
    send its notification; alice, who does, is not one of its contacts."""
    organisation = OrganisationFactory(oid=OID)
    ContactPersonFactory(organisation=organisation, email="Teemu@Lempaala.fi", role="technical")
    return verified_user("teemu@lempaala.fi")


# One waiting at a time ------------------------------------------------------------------------


@pytest.mark.django_db
def test_a_second_notification_is_refused_while_the_first_waits_for_review(terms, alice, mallory):
    first = send(terms, alice)
    with pytest.raises(services.NotificationAlreadyWaiting, match="already waiting") as refused:
        send(terms, mallory, name_fi="Toinen nimi")
    assert refused.value.waiting == first
    assert waiting_of() == [first]
    assert Registration.objects.count() == 1


@pytest.mark.django_db
def test_a_notification_sent_back_for_changes_still_waits_for_its_correction(terms, alice, mallory):
    sent_back(send(terms, alice))
    with pytest.raises(services.NotificationAlreadyWaiting):
        send(terms, mallory)
    assert Registration.objects.count() == 1


@pytest.mark.django_db
def test_another_organisation_may_send_while_one_waits(terms, alice, mallory):
    send(terms, alice)
    other = send(terms, mallory, oid="1.2.246.562.10.40000000001")
    assert other.is_pending


@pytest.mark.django_db
@pytest.mark.parametrize("decision", ["approve", "reject"])
def test_once_decided_a_new_notification_may_be_sent(terms, alice, decision):
    first = send(terms, alice)
    reviewer = UserFactory(is_staff=True)
    if decision == "approve":
        services.registration_approve(registration_id=first.pk, reviewer=reviewer)
    else:
        services.registration_reject(registration_id=first.pk, reviewer=reviewer, reason="No.")
    second = send(terms, alice, name_fi="Uusi nimi")
    assert waiting_of() == [second]


@pytest.mark.django_db
def test_the_database_refuses_a_second_waiting_notification_of_an_oid(terms, alice):
    first = send(terms, alice)
    with pytest.raises(IntegrityError), transaction.atomic():
        Registration.objects.create(
            oid=OID,
            data=first.data,
            submitted_by=alice,
            language="fi",
            submission_token=uuid.uuid4(),
            status=Registration.Status.CHANGES_REQUESTED,
        )


# The correction replaces the notification sent back --------------------------------------


@pytest.mark.django_db
def test_the_senders_correction_replaces_the_notification_sent_back(terms, alice):
    original = sent_back(send(terms, alice))
    correction = send(terms, alice, name_fi="Lempäälän kunta (korjattu)")

    original.refresh_from_db()
    assert original.status == Registration.Status.REPLACED
    assert original.correction == correction
    assert correction.corrects == original
    assert correction.is_pending
    assert waiting_of() == [correction]
    assert original.history.latest().history_user == alice


@pytest.mark.django_db
def test_an_active_contact_may_correct_a_notification_another_person_sent(terms, alice, colleague):
    original = sent_back(send(terms, alice))
    correction = send(terms, colleague)
    original.refresh_from_db()
    assert (original.status, correction.corrects) == (Registration.Status.REPLACED, original)


@pytest.mark.django_db
def test_an_outsiders_notification_does_not_replace_one_sent_back(terms, alice, mallory):
    original = sent_back(send(terms, alice))
    with pytest.raises(services.NotificationAlreadyWaiting):
        send(terms, mallory)
    original.refresh_from_db()
    assert original.status == Registration.Status.CHANGES_REQUESTED


@pytest.mark.django_db
def test_a_correction_refused_for_its_terms_leaves_the_one_sent_back_waiting(terms, alice):
    original = sent_back(send(terms, alice))
    published_terms(effective_from=date(2025, 1, 1))  # the form showed the older version
    with pytest.raises(ValidationError, match="terms of use changed"):
        send(terms, alice)
    original.refresh_from_db()
    assert original.status == Registration.Status.CHANGES_REQUESTED


# Withdrawing ----------------------------------------------------------------------------------


@pytest.mark.django_db
@pytest.mark.parametrize("sent_back_first", [False, True], ids=["waiting-review", "sent-back"])
def test_the_sender_withdraws_a_waiting_notification_and_may_send_again(
    terms, alice, sent_back_first
):
    registration = send(terms, alice)
    if sent_back_first:
        sent_back(registration)
    before = timezone.now()
    services.registration_withdraw(registration_id=registration.pk, user=alice)

    registration.refresh_from_db()
    assert registration.status == Registration.Status.WITHDRAWN
    assert registration.withdrawn_by == alice
    assert before <= registration.withdrawn_at <= timezone.now()
    assert registration.history.latest().history_user == alice
    assert send(terms, alice).is_pending


@pytest.mark.django_db
def test_an_active_contact_may_withdraw_anothers_notification_but_an_outsider_not(
    terms, alice, colleague, mallory
):
    registration = send(terms, alice)
    with pytest.raises(PermissionDenied):
        services.registration_withdraw(registration_id=registration.pk, user=mallory)
    registration.refresh_from_db()
    assert registration.is_pending
    services.registration_withdraw(registration_id=registration.pk, user=colleague)
    registration.refresh_from_db()
    assert (registration.status, registration.withdrawn_by) == ("withdrawn", colleague)


@pytest.mark.django_db
def test_a_decided_notification_cannot_be_withdrawn(terms, alice):
    registration = send(terms, alice)
    services.registration_approve(registration_id=registration.pk, reviewer=UserFactory())
    with pytest.raises(services.RegistrationAlreadyDecided, match="can no longer be withdrawn"):
        services.registration_withdraw(registration_id=registration.pk, user=alice)
    registration.refresh_from_db()
    assert registration.status == Registration.Status.APPROVED
    assert registration.withdrawn_at is None


@pytest.mark.django_db
def test_a_withdrawn_notification_cannot_be_approved(terms, alice):
    registration = send(terms, alice)
    services.registration_withdraw(registration_id=registration.pk, user=alice)
    with pytest.raises(services.RegistrationAlreadyDecided, match="no longer waits for review"):
        services.registration_approve(registration_id=registration.pk, reviewer=UserFactory())
    assert not Organisation.objects.filter(oid=OID).exists()


# Two at once -----------------------------------------------------------------------------------


@pytest.mark.django_db(transaction=True)
def test_a_submission_meeting_an_uncommitted_one_on_the_constraint_is_told_not_failed(
    terms, alice, mallory
):
    """The first is written, not yet committed, when the second inserts: the second waits on
    the unique OID, and once the first commits, it is refused with the friendly error."""
    written = threading.Event()

    def first() -> Registration:
        with transaction.atomic():
            registration = send(terms, alice)
            written.set()
            until_another_waits_for_a_lock("the second submission")
        return registration

    def second() -> Registration:
        assert written.wait(timeout=10)
        return send(terms, mallory, name_fi="Toinen")

    outcomes = at_once(first, second)

    assert isinstance(outcomes[0], Registration), outcomes[0]
    assert isinstance(outcomes[1], services.NotificationAlreadyWaiting), outcomes[1]
    assert outcomes[1].waiting == outcomes[0]
    assert waiting_of() == [outcomes[0]]


@pytest.mark.django_db(transaction=True)
@pytest.mark.parametrize("round_", range(3))
def test_of_two_notifications_sent_at_once_one_waits_and_the_other_is_told(
    terms, alice, mallory, round_
):
    outcomes = at_once(lambda: send(terms, alice), lambda: send(terms, mallory))

    sent = [o for o in outcomes if isinstance(o, Registration)]
    refused = [o for o in outcomes if isinstance(o, services.NotificationAlreadyWaiting)]
    assert (len(sent), len(refused)) == (1, 1), outcomes
    assert waiting_of() == sent
    assert Registration.objects.count() == 1


@pytest.mark.django_db(transaction=True)
@pytest.mark.parametrize("round_", range(3))
def test_of_two_corrections_sent_at_once_one_replaces_the_notification(
    terms, alice, colleague, round_
):
    original = sent_back(send(terms, alice))

    outcomes = at_once(lambda: send(terms, alice), lambda: send(terms, colleague))

    corrections = [o for o in outcomes if isinstance(o, Registration)]
    refused = [o for o in outcomes if isinstance(o, services.NotificationAlreadyWaiting)]
    assert (len(corrections), len(refused)) == (1, 1), outcomes
    original.refresh_from_db()
    assert original.status == Registration.Status.REPLACED
    assert original.correction == corrections[0]
    assert waiting_of() == corrections


@pytest.mark.django_db(transaction=True)
@pytest.mark.parametrize("round_", range(3))
def test_of_a_withdrawal_and_an_approval_at_once_exactly_one_wins(terms, alice, round_):
    registration = send(terms, alice)
    reviewer = UserFactory(is_staff=True)

    outcomes = at_once(
        lambda: services.registration_withdraw(registration_id=registration.pk, user=alice),
        lambda: services.registration_approve(registration_id=registration.pk, reviewer=reviewer),
    )

    won = [o for o in outcomes if isinstance(o, Registration)]
    lost = [o for o in outcomes if isinstance(o, services.RegistrationAlreadyDecided)]
    assert (len(won), len(lost)) == (1, 1), outcomes
    registration.refresh_from_db()
    assert registration.status == won[0].status
    assert registration.acceptances.count() == (registration.status == "approved")

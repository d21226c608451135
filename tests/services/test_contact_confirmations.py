"""Contacts kept current: the yearly round, its requests and reminders, "still correct", and
contacts whose email bounced."""

from __future__ import annotations

from datetime import timedelta

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.utils import timezone

from onboarding import tasks
from onboarding.models import (
    ContactsConfirmationMessage,
    ContactsConfirmationRound,
    ContactsConfirmationTarget,
    OutgoingEmail,
)
from onboarding.services.confirmations import (
    ConfirmationLink,
    contact_roles_missing,
    contacts_confirm,
    contacts_confirmation_round_start,
    contacts_confirmations_send_due,
    contacts_needing_replacement,
)
from tests.factories import (
    ALICE,
    BOB,
    LEMPAALA_IT,
    ContactPersonFactory,
    OrganisationFactory,
    notification,
)

pytestmark = pytest.mark.django_db

TODAY = timezone.localdate()
Kind = OutgoingEmail.Kind


@pytest.fixture(autouse=True)
def this_month(settings):
    """The round's month is the current one: the daily run starts it today."""
    settings.CONTACTS_CONFIRMATION_MONTH = TODAY.month


@pytest.fixture
def members(lempaala, borga):
    """Lempäälä and Borgå are members; a lapsed organisation and a non-member are not asked."""
    for membership in ("lapsed", "none"):
        ContactPersonFactory(organisation=OrganisationFactory(membership=membership))
    return lempaala, borga


def requests_to(email: str) -> list[OutgoingEmail]:
    return list(OutgoingEmail.objects.filter(to=email, kind=Kind.CONTACTS_CONFIRMATION))


def reminders() -> list[tuple[str, str]]:
    return sorted(
        ContactsConfirmationMessage.objects.exclude(step="request").values_list("recipient", "step")
    )


def test_the_round_starts_once_a_year_in_its_month(settings, members):
    settings.CONTACTS_CONFIRMATION_MONTH = TODAY.month % 12 + 1
    assert contacts_confirmation_round_start(today=TODAY) is None
    assert not ContactsConfirmationRound.objects.exists()

    settings.CONTACTS_CONFIRMATION_MONTH = TODAY.month
    first = contacts_confirmation_round_start(today=TODAY)
    again = contacts_confirmation_round_start(today=TODAY)

    assert first == again and first.year == TODAY.year
    assert ContactsConfirmationRound.objects.count() == 1
    assert {t.organisation for t in first.targets.all()} == set(members)


def test_each_administrative_contact_gets_one_request(lempaala, borga):
    ContactPersonFactory(organisation=lempaala, email="rehtori@lempaala.fi")

    contacts_confirmations_send_due(today=TODAY)
    contacts_confirmations_send_due(today=TODAY)  # the next run sends nothing twice

    for email in (ALICE, "rehtori@lempaala.fi", BOB):
        (request,) = requests_to(email)
        assert "/contacts/confirm/" in request.body_text
    assert requests_to(LEMPAALA_IT) == []  # technical contacts are listed, not asked
    (request,) = requests_to(ALICE)
    assert LEMPAALA_IT in request.body_text and request.organisation == lempaala


def test_still_correct_records_who_and_when_and_stops_reminders(lempaala, borga):
    contacts_confirmations_send_due(today=TODAY)
    confirmation_round = ContactsConfirmationRound.objects.get()

    target = contacts_confirm(
        link=ConfirmationLink(confirmation_round.pk, lempaala.pk, ALICE.upper())
    )
    later = contacts_confirm(link=ConfirmationLink(confirmation_round.pk, lempaala.pk, ALICE))

    assert target.confirmed_by_email == ALICE and target.confirmed_by_name == "Alice Aaltonen"
    assert target.confirmed_at is not None and later.confirmed_at == target.confirmed_at
    contacts_confirmations_send_due(today=TODAY + timedelta(days=10))
    assert reminders() == [(BOB, "21")]


def test_reminders_send_the_latest_due_step_only_and_never_twice(lempaala, borga):
    contacts_confirmations_send_due(today=TODAY)
    deadline = ContactsConfirmationRound.objects.get().deadline

    # The scheduler was down past both reminder days (21 and 7 days before): one reminder.
    contacts_confirmations_send_due(today=deadline - timedelta(days=5))
    contacts_confirmations_send_due(today=deadline - timedelta(days=5))

    assert reminders() == [(ALICE, "7"), (BOB, "7")]
    assert OutgoingEmail.objects.filter(kind=Kind.CONTACTS_CONFIRMATION_REMINDER).count() == 2
    assert contacts_confirmations_send_due(today=deadline + timedelta(days=1)) == []


def test_a_notification_sent_since_the_start_answers_the_request(terms, lempaala, borga):
    contacts_confirmations_send_due(today=TODAY)
    notification(terms)  # Lempäälä's, changing its contacts through review

    contacts_confirmations_send_due(today=TODAY + timedelta(days=10))

    assert reminders() == [(BOB, "21")]


def test_the_daily_task_starts_the_round_and_counts_what_it_wrote(lempaala, borga):
    assert tasks.start_contacts_confirmation() == 2
    assert tasks.start_contacts_confirmation() == 0
    assert ContactsConfirmationTarget.objects.filter(confirmed_at__isnull=True).count() == 2


def failed(to: str, error: str, **extra) -> OutgoingEmail:
    return OutgoingEmail.objects.create(
        key=f"test:{to}:{OutgoingEmail.objects.count()}",
        kind=Kind.RECEIPT,
        to=to,
        language="fi",
        subject="s",
        body_text="t",
        status=OutgoingEmail.Status.FAILED,
        last_error=error,
        last_attempt_at=timezone.now() - timedelta(days=1),
        **extra,
    )


def test_a_contact_whose_email_bounced_needs_a_replacement(lempaala):
    failed(LEMPAALA_IT.upper(), "SMTPRecipientsRefused: {'x': (550, b'5.1.1 User unknown')}")
    failed(ALICE, "SMTPRecipientsRefused: {'x': (451, b'4.3.0 Try again later')}")

    assert [c.email for c in contacts_needing_replacement(lempaala)] == [LEMPAALA_IT]
    assert contact_roles_missing(lempaala) == ["Technical contact"]


def test_a_bounce_about_the_message_or_followed_by_a_delivery_needs_nothing(lempaala):
    failed(ALICE, "SMTPDataError: (552, b'5.3.4 Message too big')")
    failed(LEMPAALA_IT, "SMTPDataError: (550, b'5.1.1 No such user')")
    OutgoingEmail.objects.create(
        key="test:delivered",
        kind=Kind.RECEIPT,
        to=LEMPAALA_IT,
        language="fi",
        subject="s",
        body_text="t",
        status=OutgoingEmail.Status.SENT,
        sent_at=timezone.now(),
    )

    assert contacts_needing_replacement(lempaala) == []
    assert contact_roles_missing(lempaala) == []


def test_a_run_asks_the_database_as_often_for_ten_organisations_as_for_two():
    """Requests are written a batch of organisations at a time, in a fixed number of queries:
    the yearly round to every member costs queries per batch, not per organisation."""

    def member(n: int):
        organisation = OrganisationFactory(name_fi=f"Kunta {n:02d}", membership="terms_accepted")
        for k in range(2):
            ContactPersonFactory(organisation=organisation, email=f"rehtori{k}@kunta{n:02d}.fi")
        return organisation

    def queries_of_the_run() -> int:
        with CaptureQueriesContext(connection) as captured:
            contacts_confirmations_send_due(today=TODAY)
        return len(captured)

    for n in range(2):
        member(n)
    confirmation_round = contacts_confirmation_round_start(today=TODAY)
    two = queries_of_the_run()
    ContactsConfirmationTarget.objects.bulk_create(
        ContactsConfirmationTarget(round=confirmation_round, organisation=member(n))
        for n in range(2, 12)
    )
    ten = queries_of_the_run()

    assert ContactsConfirmationMessage.objects.filter(step="request").count() == 2 * 12
    assert ten == two

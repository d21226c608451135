"""Two people act on the same thing at the same moment, each in their own database connection
and transaction: one decision wins, and one acceptance and one email per recipient result."""

from __future__ import annotations

import threading
import uuid
from collections import Counter
from collections.abc import Callable
from datetime import date, timedelta
from typing import Any

import pytest
from django.core.exceptions import PermissionDenied
from django.db import transaction

from onboarding import services
from onboarding.emails import render_email
from onboarding.models import Organisation, OutgoingEmail, Registration, TermsVersion, User
from tests.concurrency import at_once, until_another_waits_for_a_lock
from tests.factories import (
    ALICE,
    LEMPAALA,
    LEMPAALA_IT,
    ContactPersonFactory,
    OrganisationFactory,
    UserFactory,
    contact,
    notification,
    notification_data,
    submit,
)

pytestmark = pytest.mark.django_db(transaction=True)

ADMINISTRATIVE = ["anna@lempaala.fi", "sven@lempaala.fi"]
RECIPIENTS = sorted([ALICE, *ADMINISTRATIVE])
ROUNDS = range(3)


def held_open(call: Callable[[], Any], done: threading.Event) -> Callable[[], Any]:
    """`call` in a transaction kept open after it wrote until the other thread runs into its
    uncommitted rows (waits for its lock)."""

    def held() -> Any:
        with transaction.atomic():
            result = call()
            done.set()
            until_another_waits_for_a_lock("the other submission")
        return result

    return held


def after(done: threading.Event, call: Callable[[], Any]) -> Callable[[], Any]:
    def waiting() -> Any:
        assert done.wait(timeout=10)
        return call()

    return waiting


@pytest.fixture
def reviewers(charlie: User) -> tuple[User, User]:
    return charlie, UserFactory(email="toinen@oph.fi", is_staff=True)


@pytest.fixture
def registration(terms: TermsVersion, alice: User, mailoutbox: list) -> Registration:
    """alice's notification of Lempäälä, a member, that lists its administrative contacts as
    they are; its receipt and review emails are already sent (nothing wraps the test in a
    transaction)."""
    organisation = OrganisationFactory(oid=LEMPAALA)
    for email in ADMINISTRATIVE:
        ContactPersonFactory(organisation=organisation, email=email)
    contacts = [contact(email) for email in ADMINISTRATIVE] + [contact(LEMPAALA_IT, "technical")]
    registration = notification(terms, user=alice, data=notification_data(terms, contacts=contacts))
    mailoutbox.clear()
    return registration


def approving(registration: Registration, reviewer: User) -> Callable[[], Registration]:
    return lambda: services.registration_approve(registration_id=registration.pk, reviewer=reviewer)


def rejecting(registration: Registration, reviewer: User) -> Callable[[], Registration]:
    return lambda: services.registration_reject(
        registration_id=registration.pk, reviewer=reviewer, reason="Wrong business ID."
    )


def decision_recipients(registration: Registration) -> list[str]:
    rows = registration.emails.filter(kind=OutgoingEmail.Kind.DECISION)
    return sorted(rows.values_list("to", flat=True))


@pytest.mark.parametrize("round_", ROUNDS)
def test_of_two_reviewers_approving_at_once_one_approves_and_the_other_is_told(
    registration, reviewers, mailoutbox, round_
):
    outcomes = at_once(*(approving(registration, reviewer) for reviewer in reviewers))

    approved = [o for o in outcomes if isinstance(o, Registration)]
    refused = [o for o in outcomes if isinstance(o, services.RegistrationAlreadyDecided)]
    assert (len(approved), len(refused)) == (1, 1), outcomes
    registration.refresh_from_db()
    assert registration.status == Registration.Status.APPROVED
    assert registration.reviewed_by == approved[0].reviewed_by
    assert registration.acceptances.count() == 1
    assert decision_recipients(registration) == RECIPIENTS
    assert sorted(m.to[0] for m in mailoutbox) == RECIPIENTS


@pytest.mark.parametrize("round_", ROUNDS)
def test_of_an_approval_and_a_rejection_at_once_exactly_one_decision_wins(
    registration, reviewers, mailoutbox, round_
):
    approver, rejecter = reviewers
    outcomes = at_once(approving(registration, approver), rejecting(registration, rejecter))

    decided = [o for o in outcomes if isinstance(o, Registration)]
    refused = [o for o in outcomes if isinstance(o, services.RegistrationAlreadyDecided)]
    assert (len(decided), len(refused)) == (1, 1), outcomes
    registration.refresh_from_db()
    if registration.status == Registration.Status.APPROVED:
        assert registration.reviewed_by == approver
        assert registration.decision_reason == ""
        assert registration.acceptances.count() == 1
        template = "registration_approved"
    else:
        assert registration.status == Registration.Status.REJECTED
        assert registration.reviewed_by == rejecter
        assert registration.decision_reason == "Wrong business ID."
        assert registration.acceptances.count() == 0
        template = "registration_rejected"
    assert decision_recipients(registration) == RECIPIENTS
    assert sorted(m.to[0] for m in mailoutbox) == RECIPIENTS
    context = {"registration": registration}
    expected = render_email(template, context, registration.language)[0]
    assert {m.subject for m in mailoutbox if m.to == [registration.submitted_by.email]} == {
        expected
    }


def test_a_double_click_submits_once_and_sends_one_receipt(terms, alice, mailoutbox):
    token = uuid.uuid4()
    first_written = threading.Event()
    outcomes = at_once(
        held_open(lambda: submit(terms, user=alice, token=token), first_written),
        after(first_written, lambda: submit(terms, user=alice, token=token)),
    )

    (first, created), (second, created_again) = outcomes
    assert (created, created_again) == (True, False)
    assert first == second
    assert Registration.objects.count() == 1
    assert Counter(m.to[0] for m in mailoutbox) == {ALICE: 1}


def test_a_token_taken_meanwhile_by_another_user_is_refused(terms):
    token = uuid.uuid4()
    first_written = threading.Event()
    outcomes = at_once(
        held_open(lambda: submit(terms, token=token), first_written),
        after(first_written, lambda: submit(terms, token=token)),
    )
    assert isinstance(outcomes[1], PermissionDenied), outcomes[1]


@pytest.mark.parametrize("round_", ROUNDS)
def test_a_campaign_launched_while_a_member_is_approved_both_go_through(
    registration, reviewers, round_
):
    """Neither waits for a lock the other holds: the launch locks its campaign, not the terms
    version the approval records an acceptance of."""
    from onboarding.services.campaigns import campaign_create, campaign_launch

    Organisation.objects.filter(oid=LEMPAALA).update(membership="legacy_contract")
    for n in range(5):
        member = OrganisationFactory(membership="legacy_contract")
        ContactPersonFactory(organisation=member, email=f"rehtori{n}@koulu.fi")
    campaign = campaign_create(
        terms_version=registration.terms_version,
        deadline=date.today() + timedelta(days=60),
        audience="legacy",
    )
    outcomes = at_once(
        approving(registration, reviewers[0]),
        lambda: campaign_launch(campaign_id=campaign.pk),
    )
    assert isinstance(outcomes[0], Registration), outcomes[0]
    assert isinstance(outcomes[1], int), outcomes[1]

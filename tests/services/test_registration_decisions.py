"""OPH staff decide a notification: approving makes the organisation and its contacts what was
submitted and records the acceptance as of the submission; rejecting and requesting changes
need a reason; the decision is emailed to the submitter and the administrative contacts."""

from __future__ import annotations

from datetime import timedelta
from typing import Any

import pytest
from django.core.exceptions import ValidationError
from django.utils import timezone

from onboarding import services
from onboarding.emails import render_email
from onboarding.models import (
    ContactPerson,
    Organisation,
    OutgoingEmail,
    Registration,
    TermsAcceptance,
    TermsVersion,
    User,
)
from tests.factories import (
    ALICE,
    BROWSER,
    LEMPAALA,
    LEMPAALA_IT,
    ContactPersonFactory,
    LegacyContractFactory,
    OrganisationFactory,
    UserFactory,
    contact,
    notification,
    notification_data,
)

pytestmark = pytest.mark.django_db

REASON = "The business ID belongs to another municipality.\nCheck it and send again."


def submitted(terms: TermsVersion | None, *, days_ago: int = 3, **kwargs: Any) -> Registration:
    """A pending notification sent `days_ago` days ago, so its time differs from the decision's."""
    return notification(terms, submitted_at=timezone.now() - timedelta(days=days_ago), **kwargs)


def approve(registration: Registration, by: User) -> Registration:
    return services.registration_approve(registration_id=registration.pk, reviewer=by)


def reject(registration: Registration, by: User, reason: str = REASON) -> Registration:
    return services.registration_reject(registration_id=registration.pk, reviewer=by, reason=reason)


def request_changes(registration: Registration, by: User, reason: str = REASON) -> Registration:
    return services.registration_request_changes(
        registration_id=registration.pk, reviewer=by, reason=reason
    )


def active_contacts(organisation: Organisation) -> set[tuple[str, str]]:
    return set(organisation.contacts.filter(is_active=True).values_list("email", "role"))


def decision_emails(registration: Registration) -> dict[str, OutgoingEmail]:
    rows = registration.emails.filter(kind=OutgoingEmail.Kind.DECISION)
    return {email.to: email for email in rows}


# Approval -----------------------------------------------------------------------------------


def test_approving_a_new_organisation_creates_it_as_submitted(terms, alice, charlie):
    data = notification_data(
        terms,
        name_fi="Tampereen kaupunki",
        name_sv="Tammerfors stad",
        name_en="City of Tampere",
        business_id="0211675-2",
        kind="both",
    )
    registration = submitted(terms, user=alice, data=data)
    approve(registration, charlie)

    organisation = Organisation.objects.get(oid=LEMPAALA)
    assert organisation.name_fi == "Tampereen kaupunki"
    assert organisation.name_sv == "Tammerfors stad"
    assert organisation.name_en == "City of Tampere"
    assert organisation.business_id == "0211675-2"
    assert organisation.kind == Organisation.Kind.BOTH
    assert organisation.membership == Organisation.Membership.TERMS_ACCEPTED
    assert active_contacts(organisation) == {
        (ALICE, "administrative"),
        (LEMPAALA_IT, "technical"),
    }
    technical = organisation.contacts.get(role="technical")
    assert (technical.name, str(technical.phone), technical.language) == (
        "Teemu Tekninen",
        "+358401234567",
        "sv",
    )
    registration.refresh_from_db()
    assert registration.organisation == organisation
    assert registration.status == Registration.Status.APPROVED


def test_approval_records_the_acceptance_as_of_the_submission_with_its_evidence(
    terms, alice, charlie
):
    registration = submitted(
        terms,
        user=alice,
        data=notification_data(terms, language="sv"),  # the Swedish text was read
        ip_address="2001:db8::7",
        days_ago=5,
    )
    approve(registration, charlie)

    [acceptance] = TermsAcceptance.objects.all()
    assert acceptance.organisation.oid == LEMPAALA
    assert acceptance.terms_version == terms
    assert acceptance.accepted_at == registration.submitted_at
    assert acceptance.accepted_by == alice
    assert acceptance.accepter_name == "Alice Aaltonen"
    assert acceptance.accepter_title == "Sivistysjohtaja"
    assert acceptance.authority_confirmed
    assert acceptance.ip_address == "2001:db8::7"
    assert acceptance.user_agent == BROWSER
    assert acceptance.language == "sv"
    assert acceptance.content_sha256 == terms.content_sha256
    assert acceptance.registration == registration


def test_approval_for_a_legacy_member_brings_its_names_and_contacts_up_to_date(terms, charlie):
    organisation = LegacyContractFactory(
        organisation__oid=LEMPAALA, organisation__name_fi="Vanha"
    ).organisation
    kept = ContactPersonFactory(
        organisation=organisation,
        email="Alice@Lempaala.fi",
        role="administrative",
        name="Alice A.",
        phone="+358401111111",
        language="fi",
    )
    same_person_other_role = ContactPersonFactory(
        organisation=organisation, email=ALICE, role="technical"
    )
    left = ContactPersonFactory(organisation=organisation, email="vanha@lempaala.fi")
    data = notification_data(
        terms,
        contacts=[
            contact(
                ALICE,
                "administrative",
                name="Alice Aaltonen",
                phone="+358 50 765 4321",
                language="sv",
            ),
            contact("tietoturva@lempaala.fi", "security", name="Sanna Suojaaja"),
            contact(LEMPAALA_IT, "technical", name="Teemu Tekninen"),
        ],
    )
    registration = submitted(terms, data=data)
    assert registration.organisation == organisation

    approve(registration, charlie)

    organisation.refresh_from_db()
    assert (organisation.name_fi, organisation.name_sv) == ("Lempäälän kunta", "Lembois kommun")
    assert organisation.membership == Organisation.Membership.TERMS_ACCEPTED
    kept.refresh_from_db()
    assert kept.is_active
    assert (kept.name, str(kept.phone), kept.language) == ("Alice Aaltonen", "+358507654321", "sv")
    for retired in (same_person_other_role, left):
        retired.refresh_from_db()
        assert not retired.is_active
    assert active_contacts(organisation) == {
        ("Alice@Lempaala.fi", "administrative"),
        ("tietoturva@lempaala.fi", "security"),
        (LEMPAALA_IT, "technical"),
    }
    assert organisation.contacts.count() == 5


def test_a_service_providers_test_learner_number_notification_is_recorded(terms, charlie):
    data = notification_data(
        terms,
        kind="service_provider",
        declarations={
            "uses_test_learner_numbers": True,
            "test_learner_number_use": "Demo accounts of our learning platform.",
        },
    )
    registration = submitted(terms, data=data)
    approve(registration, charlie)

    organisation = Organisation.objects.get(oid=LEMPAALA)
    assert organisation.test_learner_number_use == "Demo accounts of our learning platform."
    assert organisation.test_learner_numbers_notified_at == registration.submitted_at
    assert organisation.may_use_test_learner_numbers


def test_approval_without_acceptance_updates_contacts_but_records_no_acceptance(charlie):
    organisation = LegacyContractFactory(organisation__oid=LEMPAALA).organisation
    ContactPersonFactory(organisation=organisation, email="vanha@lempaala.fi")
    registration = submitted(None)
    assert not registration.accepts_terms

    approve(registration, charlie)

    organisation.refresh_from_db()
    assert not TermsAcceptance.objects.exists()
    assert organisation.membership == Organisation.Membership.LEGACY_CONTRACT
    assert active_contacts(organisation) == {
        (ALICE, "administrative"),
        (LEMPAALA_IT, "technical"),
    }


def test_a_notification_is_approved_only_once(terms, charlie):
    registration = submitted(terms)
    approve(registration, charlie)
    with pytest.raises(services.RegistrationAlreadyDecided, match="already decided"):
        approve(registration, UserFactory(is_staff=True))
    assert TermsAcceptance.objects.count() == 1
    registration.refresh_from_db()
    assert registration.reviewed_by == charlie


@pytest.mark.parametrize("decide", [reject, request_changes])
def test_a_decided_notification_cannot_be_decided_otherwise(terms, charlie, decide):
    registration = submitted(terms)
    approve(registration, charlie)
    with pytest.raises(services.RegistrationAlreadyDecided):
        decide(registration, charlie)
    registration.refresh_from_db()
    assert registration.status == Registration.Status.APPROVED
    assert registration.decision_reason == ""


def test_approval_marks_the_reviewer_and_the_time(terms, charlie):
    registration = submitted(terms)
    before = timezone.now()
    approve(registration, charlie)
    registration.refresh_from_db()
    assert registration.reviewed_by == charlie
    assert before <= registration.reviewed_at <= timezone.now()


# Rejecting and requesting changes ----------------------------------------------------------


@pytest.mark.parametrize("decide", [reject, request_changes])
@pytest.mark.parametrize("blank", ["", "   ", "\n\t"])
def test_rejecting_or_requesting_changes_needs_a_reason(terms, charlie, decide, blank):
    registration = submitted(terms)
    with pytest.raises(ValidationError, match="Write the reason"):
        decide(registration, charlie, blank)
    registration.refresh_from_db()
    assert registration.is_pending
    assert registration.reviewed_by is None
    assert not OutgoingEmail.objects.filter(kind=OutgoingEmail.Kind.DECISION).exists()


@pytest.mark.parametrize(
    ("decide", "status"),
    [
        (reject, Registration.Status.REJECTED),
        (request_changes, Registration.Status.CHANGES_REQUESTED),
    ],
)
def test_rejecting_or_requesting_changes_records_the_decision(terms, charlie, decide, status):
    registration = submitted(terms)
    before = timezone.now()
    decide(registration, charlie, f"  {REASON}  ")
    registration.refresh_from_db()
    assert registration.status == status
    assert registration.reviewed_by == charlie
    assert before <= registration.reviewed_at <= timezone.now()
    assert registration.decision_reason == REASON
    assert not TermsAcceptance.objects.exists()
    assert not Organisation.objects.exists()


# Decision emails ----------------------------------------------------------------------------


@pytest.fixture
def member() -> Organisation:
    """A member whose administrative contacts speak Finnish and Swedish."""
    organisation = OrganisationFactory(oid=LEMPAALA)
    ContactPersonFactory(organisation=organisation, email="anna@lempaala.fi", language="fi")
    ContactPersonFactory(organisation=organisation, email="sven@lempaala.fi", language="sv")
    ContactPersonFactory(organisation=organisation, email="tekninen@lempaala.fi", role="technical")
    ContactPersonFactory(organisation=organisation, email="pois@lempaala.fi", is_active=False)
    return organisation


def test_a_rejection_goes_to_the_submitter_and_each_active_administrative_contact(
    terms, alice, charlie, member, mailoutbox, django_capture_on_commit_callbacks
):
    registration = submitted(terms, user=alice, language="en")
    mailoutbox.clear()
    with django_capture_on_commit_callbacks(execute=True):
        reject(registration, charlie)

    emails = decision_emails(registration)
    assert {to: email.language for to, email in emails.items()} == {
        ALICE: "en",
        "anna@lempaala.fi": "fi",
        "sven@lempaala.fi": "sv",
    }
    assert sorted(m.to[0] for m in mailoutbox) == sorted(emails)
    assert all(REASON in m.body for m in mailoutbox)
    assert all(
        "The business ID belongs to another municipality.<br>" in m.alternatives[0][0]
        for m in mailoutbox
    )


def test_a_swedish_speaking_contact_gets_the_swedish_email(
    terms, alice, charlie, member, mailoutbox, django_capture_on_commit_callbacks
):
    registration = submitted(terms, user=alice, language="fi")
    with django_capture_on_commit_callbacks(execute=True):
        registration = reject(registration, charlie)
    context = {"registration": registration}
    swedish_subject, swedish_text, _html = render_email("registration_rejected", context, "sv")
    [message] = [m for m in mailoutbox if m.to == ["sven@lempaala.fi"]]
    assert message.subject == swedish_subject
    assert message.body == swedish_text


def test_the_swedish_decision_email_is_not_the_finnish_one(terms, charlie, member):
    registration = reject(submitted(terms), charlie)
    emails = decision_emails(registration)
    assert emails["sven@lempaala.fi"].subject != emails["anna@lempaala.fi"].subject


def test_a_submitter_who_is_also_an_administrative_contact_gets_one_email(
    terms, alice, charlie, member, mailoutbox, django_capture_on_commit_callbacks
):
    ContactPersonFactory(organisation=member, email="Alice@Lempaala.fi", language="sv")
    registration = submitted(terms, user=alice, language="en")
    mailoutbox.clear()
    with django_capture_on_commit_callbacks(execute=True):
        request_changes(registration, charlie)

    recipients = [m.to[0].lower() for m in mailoutbox]
    assert sorted(recipients) == sorted(set(recipients))
    assert recipients.count(ALICE) == 1
    assert decision_emails(registration)[ALICE].language == "en"


def test_an_approval_goes_to_the_administrative_contacts_that_were_submitted(
    terms, alice, charlie, member, mailoutbox, django_capture_on_commit_callbacks
):
    data = notification_data(
        terms,
        contacts=[
            contact("sven@lempaala.fi", language="sv", name="Sven Svensson"),
            contact("uusi@lempaala.fi", language="en", name="Uma Uusi"),
            contact(LEMPAALA_IT, "technical"),
        ],
    )
    registration = submitted(terms, user=alice, data=data, language="fi")
    mailoutbox.clear()
    with django_capture_on_commit_callbacks(execute=True):
        approve(registration, charlie)

    emails = decision_emails(registration)
    assert {to: email.language for to, email in emails.items()} == {
        ALICE: "fi",
        "sven@lempaala.fi": "sv",
        "uusi@lempaala.fi": "en",
    }
    assert sorted(m.to[0] for m in mailoutbox) == sorted(emails)
    assert all(f"/organisations/{member.pk}/" in m.body for m in mailoutbox)


def test_a_rejection_of_a_new_organisation_goes_to_the_submitter_only(
    terms, alice, charlie, mailoutbox, django_capture_on_commit_callbacks
):
    registration = submitted(terms, user=alice, language="sv")
    mailoutbox.clear()
    with django_capture_on_commit_callbacks(execute=True):
        reject(registration, charlie)
    assert [m.to for m in mailoutbox] == [[ALICE]]
    assert list(decision_emails(registration)) == [ALICE]


def test_a_decision_reaches_the_administrative_contacts_of_an_organisation_that_joined_since(
    terms, alice, charlie, mailoutbox, django_capture_on_commit_callbacks
):
    registration = submitted(terms, user=alice)
    assert registration.organisation is None
    joined = OrganisationFactory(oid=LEMPAALA)  # another notification of it was approved meanwhile
    ContactPersonFactory(organisation=joined, email="anna@lempaala.fi", language="sv")
    mailoutbox.clear()
    with django_capture_on_commit_callbacks(execute=True):
        reject(registration, charlie)
    assert sorted(m.to[0] for m in mailoutbox) == [ALICE, "anna@lempaala.fi"]
    assert decision_emails(registration)["anna@lempaala.fi"].language == "sv"


def test_the_changes_requested_email_says_what_to_change_and_links_to_the_form(
    terms, alice, charlie, mailoutbox, django_capture_on_commit_callbacks
):
    registration = submitted(terms, user=alice)
    mailoutbox.clear()
    with django_capture_on_commit_callbacks(execute=True):
        request_changes(registration, charlie)
    [message] = mailoutbox
    assert REASON in message.body
    assert f"/notify/{LEMPAALA}/" in message.body


def test_the_other_administrative_contacts_are_told_who_sent_it_and_what_was_asked(
    terms, alice, charlie, member, mailoutbox, django_capture_on_commit_callbacks
):
    registration = submitted(terms, user=alice)
    mailoutbox.clear()
    with django_capture_on_commit_callbacks(execute=True):
        request_changes(registration, charlie)
    [to_anna] = [m for m in mailoutbox if m.to == ["anna@lempaala.fi"]]
    _subject, english, _html = render_email(
        "registration_changes_requested",
        {"registration": registration},
        "en",
    )
    assert ALICE in to_anna.body
    assert "Check it and send again." in to_anna.body
    assert f"/notify/{LEMPAALA}/" in to_anna.body
    assert f"The notification was sent by {ALICE} on " in english
    assert "any contact person of the organisation can correct" in english


# History ------------------------------------------------------------------------------------


def test_the_history_names_the_reviewer_as_the_one_who_approved(terms, charlie):
    registration = submitted(terms)
    approve(registration, charlie)
    organisation = Organisation.objects.get(oid=LEMPAALA)

    assert organisation.history.filter(history_user=charlie).exists()
    assert organisation.history.latest().history_user == charlie
    assert registration.history.latest().history_user == charlie
    assert registration.history.latest().status == Registration.Status.APPROVED
    for person in ContactPerson.objects.all():
        assert person.history.latest().history_user == charlie


def test_the_history_names_the_reviewer_who_rejected(terms, charlie):
    registration = submitted(terms)
    reject(registration, charlie)
    latest = registration.history.latest()
    assert (latest.history_user, latest.status) == (charlie, Registration.Status.REJECTED)

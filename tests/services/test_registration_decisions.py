"""OPH staff decide a notification: approving makes the organisation and its contacts what was
submitted and records the acceptance as of the submission; rejecting and requesting changes
need a reason; the decision is emailed to the submitter and the administrative contacts."""

from __future__ import annotations

from datetime import date, timedelta
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
    ContactPersonFactory,
    LegacyContractFactory,
    OrganisationFactory,
    UserFactory,
    backdate,
    published_terms,
)
from tests.notifications import BROWSER, OID, contact, notification_data, submit

pytestmark = pytest.mark.django_db

SUBMITTER = "riikka.rehtori@lempaala.fi"
REASON = "The business ID belongs to another municipality.\nCheck it and send again."


@pytest.fixture
def terms() -> TermsVersion:
    return published_terms(effective_from=date(2024, 1, 1))


@pytest.fixture
def submitter() -> User:
    return UserFactory(email=SUBMITTER)


@pytest.fixture
def reviewer() -> User:
    return UserFactory(email="kasittelija@oph.fi", is_staff=True)


def submitted(terms: TermsVersion | None, *, days_ago: int = 3, **kwargs: Any) -> Registration:
    """A pending notification sent `days_ago` days ago, so its time differs from the decision's."""
    if terms is None:
        kwargs.setdefault("data", notification_data(None))
    registration, _created = submit(terms, **kwargs)
    backdate(registration, timezone.now() - timedelta(days=days_ago))
    return registration


def approve(registration: Registration, reviewer: User) -> Registration:
    return services.registration_approve(registration_id=registration.pk, reviewer=reviewer)


def reject(registration: Registration, reviewer: User, reason: str = REASON) -> Registration:
    return services.registration_reject(
        registration_id=registration.pk, reviewer=reviewer, reason=reason
    )


def request_changes(
    registration: Registration, reviewer: User, reason: str = REASON
) -> Registration:
    return services.registration_request_changes(
        registration_id=registration.pk, reviewer=reviewer, reason=reason
    )


def active_contacts(organisation: Organisation) -> set[tuple[str, str]]:
    return set(organisation.contacts.filter(is_active=True).values_list("email", "role"))


def decision_emails(registration: Registration) -> dict[str, OutgoingEmail]:
    rows = OutgoingEmail.objects.filter(key__startswith=f"decision:{registration.pk}:")
    return {email.to: email for email in rows}


# Approval -----------------------------------------------------------------------------------


def test_approving_a_new_organisation_creates_it_as_submitted(terms, submitter, reviewer):
    data = notification_data(
        terms,
        name_fi="Tampereen kaupunki",
        name_sv="Tammerfors stad",
        name_en="City of Tampere",
        business_id="0211675-2",
        kind="both",
    )
    registration = submitted(terms, user=submitter, data=data)
    approve(registration, reviewer)

    organisation = Organisation.objects.get(oid=OID)
    assert organisation.name_fi == "Tampereen kaupunki"
    assert organisation.name_sv == "Tammerfors stad"
    assert organisation.name_en == "City of Tampere"
    assert organisation.business_id == "0211675-2"
    assert organisation.kind == Organisation.Kind.BOTH
    assert organisation.membership == Organisation.Membership.TERMS_ACCEPTED
    assert active_contacts(organisation) == {
        ("riikka.rehtori@lempaala.fi", "administrative"),
        ("it@lempaala.fi", "technical"),
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
    terms, submitter, reviewer
):
    registration = submitted(
        terms,
        user=submitter,
        data=notification_data(terms, language="sv"),  # the Swedish text was read
        ip_address="2001:db8::7",
        days_ago=5,
    )
    approve(registration, reviewer)

    [acceptance] = TermsAcceptance.objects.all()
    assert acceptance.organisation.oid == OID
    assert acceptance.terms_version == terms
    assert acceptance.accepted_at == registration.submitted_at
    assert acceptance.accepted_by == submitter
    assert acceptance.accepter_name == "Riikka Rehtori"
    assert acceptance.accepter_title == "Sivistysjohtaja"
    assert acceptance.authority_confirmed
    assert acceptance.ip_address == "2001:db8::7"
    assert acceptance.user_agent == BROWSER
    assert acceptance.language == "sv"
    assert acceptance.content_sha256 == terms.content_sha256
    assert acceptance.registration == registration


def test_approval_for_a_legacy_member_brings_its_names_and_contacts_up_to_date(terms, reviewer):
    organisation = LegacyContractFactory(
        organisation__oid=OID, organisation__name_fi="Vanha"
    ).organisation
    kept = ContactPersonFactory(
        organisation=organisation,
        email="Riikka.Rehtori@Lempaala.fi",
        role="administrative",
        name="Riikka R.",
        phone="+358401111111",
        language="fi",
    )
    same_person_other_role = ContactPersonFactory(
        organisation=organisation, email="riikka.rehtori@lempaala.fi", role="technical"
    )
    left = ContactPersonFactory(organisation=organisation, email="vanha@lempaala.fi")
    data = notification_data(
        terms,
        contacts=[
            contact(
                "riikka.rehtori@lempaala.fi",
                "administrative",
                name="Riikka Rehtori",
                phone="+358 50 765 4321",
                language="sv",
            ),
            contact("tietoturva@lempaala.fi", "security", name="Sanna Suojaaja"),
            contact("it@lempaala.fi", "technical", name="Teemu Tekninen"),
        ],
    )
    registration = submitted(terms, data=data)
    assert registration.organisation == organisation

    approve(registration, reviewer)

    organisation.refresh_from_db()
    assert (organisation.name_fi, organisation.name_sv) == ("Lempäälän kunta", "Lembois kommun")
    assert organisation.membership == Organisation.Membership.TERMS_ACCEPTED
    kept.refresh_from_db()
    assert kept.is_active
    assert (kept.name, str(kept.phone), kept.language) == ("Riikka Rehtori", "+358507654321", "sv")
    for retired in (same_person_other_role, left):
        retired.refresh_from_db()
        assert not retired.is_active
    assert active_contacts(organisation) == {
        ("Riikka.Rehtori@Lempaala.fi", "administrative"),
        ("tietoturva@lempaala.fi", "security"),
        ("it@lempaala.fi", "technical"),
    }
    assert organisation.contacts.count() == 5


def test_a_service_providers_test_learner_number_notification_is_recorded(terms, reviewer):
    data = notification_data(
        terms,
        kind="service_provider",
        declarations={
            "uses_test_learner_numbers": True,
            "test_learner_number_use": "Demo accounts of our learning platform.",
        },
    )
    registration = submitted(terms, data=data)
    approve(registration, reviewer)

    organisation = Organisation.objects.get(oid=OID)
    assert organisation.test_learner_number_use == "Demo accounts of our learning platform."
    assert organisation.test_learner_numbers_notified_at == registration.submitted_at
    assert organisation.may_use_test_learner_numbers


def test_approval_without_acceptance_updates_contacts_but_records_no_acceptance(reviewer):
    organisation = LegacyContractFactory(organisation__oid=OID).organisation
    ContactPersonFactory(organisation=organisation, email="vanha@lempaala.fi")
    registration = submitted(None)
    assert not registration.accepts_terms

    approve(registration, reviewer)

    organisation.refresh_from_db()
    assert not TermsAcceptance.objects.exists()
    assert organisation.membership == Organisation.Membership.LEGACY_CONTRACT
    assert active_contacts(organisation) == {
        ("riikka.rehtori@lempaala.fi", "administrative"),
        ("it@lempaala.fi", "technical"),
    }


def test_a_notification_is_approved_only_once(terms, reviewer):
    registration = submitted(terms)
    approve(registration, reviewer)
    with pytest.raises(services.RegistrationAlreadyDecided, match="already decided"):
        approve(registration, UserFactory(is_staff=True))
    assert TermsAcceptance.objects.count() == 1
    registration.refresh_from_db()
    assert registration.reviewed_by == reviewer


@pytest.mark.parametrize("decide", [reject, request_changes])
def test_a_decided_notification_cannot_be_decided_otherwise(terms, reviewer, decide):
    registration = submitted(terms)
    approve(registration, reviewer)
    with pytest.raises(services.RegistrationAlreadyDecided):
        decide(registration, reviewer)
    registration.refresh_from_db()
    assert registration.status == Registration.Status.APPROVED
    assert registration.decision_reason == ""


def test_approval_marks_the_reviewer_and_the_time(terms, reviewer):
    registration = submitted(terms)
    before = timezone.now()
    approve(registration, reviewer)
    registration.refresh_from_db()
    assert registration.reviewed_by == reviewer
    assert before <= registration.reviewed_at <= timezone.now()


# Rejecting and requesting changes ----------------------------------------------------------


@pytest.mark.parametrize("decide", [reject, request_changes])
@pytest.mark.parametrize("blank", ["", "   ", "\n\t"])
def test_rejecting_or_requesting_changes_needs_a_reason(terms, reviewer, decide, blank):
    registration = submitted(terms)
    with pytest.raises(ValidationError, match="Write the reason"):
        decide(registration, reviewer, blank)
    registration.refresh_from_db()
    assert registration.is_pending
    assert registration.reviewed_by is None
    assert not OutgoingEmail.objects.filter(key__startswith="decision:").exists()


@pytest.mark.parametrize(
    ("decide", "status"),
    [
        (reject, Registration.Status.REJECTED),
        (request_changes, Registration.Status.CHANGES_REQUESTED),
    ],
)
def test_rejecting_or_requesting_changes_records_the_decision(terms, reviewer, decide, status):
    registration = submitted(terms)
    before = timezone.now()
    decide(registration, reviewer, f"  {REASON}  ")
    registration.refresh_from_db()
    assert registration.status == status
    assert registration.reviewed_by == reviewer
    assert before <= registration.reviewed_at <= timezone.now()
    assert registration.decision_reason == REASON
    assert not TermsAcceptance.objects.exists()
    assert not Organisation.objects.exists()


# Decision emails ----------------------------------------------------------------------------


@pytest.fixture
def member() -> Organisation:
    """A member whose administrative contacts speak Finnish and Swedish."""
    organisation = OrganisationFactory(oid=OID)
    ContactPersonFactory(organisation=organisation, email="anna@lempaala.fi", language="fi")
    ContactPersonFactory(organisation=organisation, email="sven@lempaala.fi", language="sv")
    ContactPersonFactory(organisation=organisation, email="tekninen@lempaala.fi", role="technical")
    ContactPersonFactory(organisation=organisation, email="pois@lempaala.fi", is_active=False)
    return organisation


def test_a_rejection_goes_to_the_submitter_and_each_active_administrative_contact(
    terms, submitter, reviewer, member, mailoutbox, django_capture_on_commit_callbacks
):
    registration = submitted(terms, user=submitter, language="en")
    mailoutbox.clear()
    with django_capture_on_commit_callbacks(execute=True):
        reject(registration, reviewer)

    emails = decision_emails(registration)
    assert {to: email.language for to, email in emails.items()} == {
        SUBMITTER: "en",
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
    terms, submitter, reviewer, member, mailoutbox, django_capture_on_commit_callbacks
):
    registration = submitted(terms, user=submitter, language="fi")
    with django_capture_on_commit_callbacks(execute=True):
        registration = reject(registration, reviewer)
    context = {"registration": registration}
    swedish_subject, swedish_text, _html = render_email("registration_rejected", context, "sv")
    [message] = [m for m in mailoutbox if m.to == ["sven@lempaala.fi"]]
    assert message.subject == swedish_subject
    assert message.body == swedish_text


def test_the_swedish_decision_email_is_not_the_finnish_one(terms, reviewer, member):
    registration = reject(submitted(terms), reviewer)
    emails = decision_emails(registration)
    assert emails["sven@lempaala.fi"].subject != emails["anna@lempaala.fi"].subject


def test_a_submitter_who_is_also_an_administrative_contact_gets_one_email(
    terms, submitter, reviewer, member, mailoutbox, django_capture_on_commit_callbacks
):
    ContactPersonFactory(organisation=member, email="Riikka.Rehtori@Lempaala.fi", language="sv")
    registration = submitted(terms, user=submitter, language="en")
    mailoutbox.clear()
    with django_capture_on_commit_callbacks(execute=True):
        request_changes(registration, reviewer)

    recipients = [m.to[0].lower() for m in mailoutbox]
    assert sorted(recipients) == sorted(set(recipients))
    assert recipients.count(SUBMITTER) == 1
    assert decision_emails(registration)[SUBMITTER].language == "en"


def test_an_approval_goes_to_the_administrative_contacts_that_were_submitted(
    terms, submitter, reviewer, member, mailoutbox, django_capture_on_commit_callbacks
):
    data = notification_data(
        terms,
        contacts=[
            contact("sven@lempaala.fi", language="sv", name="Sven Svensson"),
            contact("uusi@lempaala.fi", language="en", name="Uma Uusi"),
            contact("it@lempaala.fi", "technical"),
        ],
    )
    registration = submitted(terms, user=submitter, data=data, language="fi")
    mailoutbox.clear()
    with django_capture_on_commit_callbacks(execute=True):
        approve(registration, reviewer)

    emails = decision_emails(registration)
    assert {to: email.language for to, email in emails.items()} == {
        SUBMITTER: "fi",
        "sven@lempaala.fi": "sv",
        "uusi@lempaala.fi": "en",
    }
    assert sorted(m.to[0] for m in mailoutbox) == sorted(emails)
    assert all(f"/organisations/{member.pk}/" in m.body for m in mailoutbox)


def test_a_rejection_of_a_new_organisation_goes_to_the_submitter_only(
    terms, submitter, reviewer, mailoutbox, django_capture_on_commit_callbacks
):
    registration = submitted(terms, user=submitter, language="sv")
    mailoutbox.clear()
    with django_capture_on_commit_callbacks(execute=True):
        reject(registration, reviewer)
    assert [m.to for m in mailoutbox] == [[SUBMITTER]]
    assert list(decision_emails(registration)) == [SUBMITTER]


def test_a_decision_reaches_the_administrative_contacts_of_an_organisation_that_joined_since(
    terms, submitter, reviewer, mailoutbox, django_capture_on_commit_callbacks
):
    registration = submitted(terms, user=submitter)
    assert registration.organisation is None
    joined = OrganisationFactory(oid=OID)  # another notification of it was approved meanwhile
    ContactPersonFactory(organisation=joined, email="anna@lempaala.fi", language="sv")
    mailoutbox.clear()
    with django_capture_on_commit_callbacks(execute=True):
        reject(registration, reviewer)
    assert sorted(m.to[0] for m in mailoutbox) == ["anna@lempaala.fi", SUBMITTER]
    assert decision_emails(registration)["anna@lempaala.fi"].language == "sv"


def test_the_changes_requested_email_says_what_to_change_and_links_to_the_form(
    terms, submitter, reviewer, mailoutbox, django_capture_on_commit_callbacks
):
    registration = submitted(terms, user=submitter)
    mailoutbox.clear()
    with django_capture_on_commit_callbacks(execute=True):
        request_changes(registration, reviewer)
    [message] = mailoutbox
    assert REASON in message.body
    assert f"/notify/{OID}/" in message.body


def test_the_other_administrative_contacts_are_told_who_sent_it_and_what_was_asked(
    terms, submitter, reviewer, member, mailoutbox, django_capture_on_commit_callbacks
):
    registration = submitted(terms, user=submitter)
    mailoutbox.clear()
    with django_capture_on_commit_callbacks(execute=True):
        request_changes(registration, reviewer)
    [to_anna] = [m for m in mailoutbox if m.to == ["anna@lempaala.fi"]]
    _subject, english, _html = render_email(
        "registration_changes_requested",
        {"registration": registration},
        "en",
    )
    assert SUBMITTER in to_anna.body
    assert "Check it and send again." in to_anna.body
    assert f"/notify/{OID}/" in to_anna.body
    assert f"The notification was sent by {SUBMITTER} on " in english
    assert "any contact person of the organisation can correct" in english


# History ------------------------------------------------------------------------------------


def test_the_history_names_the_reviewer_as_the_one_who_approved(terms, reviewer):
    registration = submitted(terms)
    approve(registration, reviewer)
    organisation = Organisation.objects.get(oid=OID)

    assert organisation.history.filter(history_user=reviewer).exists()
    assert organisation.history.latest().history_user == reviewer
    assert registration.history.latest().history_user == reviewer
    assert registration.history.latest().status == Registration.Status.APPROVED
    for person in ContactPerson.objects.all():
        assert person.history.latest().history_user == reviewer


def test_the_history_names_the_reviewer_who_rejected(terms, reviewer):
    registration = submitted(terms)
    reject(registration, reviewer)
    latest = registration.history.latest()
    assert (latest.history_user, latest.status) == (reviewer, Registration.Status.REJECTED)

"""A notification's data has one definition: what the form makes, the service stores and
everything else reads back, also notifications stored in the shapes of before."""

from __future__ import annotations

import uuid

import pytest

from onboarding import services
from onboarding.models import Registration, TermsAcceptance, TermsVersion
from onboarding.notification_data import ContactDetails, Declarations, NotificationData
from tests.factories import ALICE, LEMPAALA_IT, UserFactory, notification_data
from tests.factories import LEMPAALA as OID

# As the first notifications were stored: the acceptance without the language of the text read.
STORED_BEFORE_THE_LANGUAGE = {
    "organisation": {
        "oid": OID,
        "name_fi": "Lempäälän kunta",
        "name_sv": "",
        "name_en": "",
        "business_id": "0150783-1",
        "kind": "education_provider",
    },
    "contacts": [
        {
            "name": "Riikka Rehtori",
            "email": "riikka@lempaala.fi",
            "phone": "+358401234567",
            "role": "administrative",
            "language": "fi",
        },
        {
            "name": "Teemu Tekninen",
            "email": "it@lempaala.fi",
            "phone": None,
            "role": "technical",
            "language": "sv",
        },
    ],
    "declarations": {"learner_numbers_confirmed": True, "uses_test_learner_numbers": False},
    "acceptance": {
        "terms_version": "2024-1",
        "content_sha256": "a" * 64,
        "accepter_name": "Riikka Rehtori",
        "accepter_title": "Sivistysjohtaja",
        "authority_confirmed": True,
    },
}


def test_a_notification_stored_before_the_language_was_kept_reads_with_defaults():
    data = NotificationData.from_json(STORED_BEFORE_THE_LANGUAGE, language="sv")
    assert data.organisation.name_fi == "Lempäälän kunta"
    assert data.organisation.kind_label == "Education provider"
    assert data.acceptance.language == "sv"  # the notification's own language
    assert data.contacts[1] == ContactDetails(
        name="Teemu Tekninen", email="it@lempaala.fi", role="technical", language="sv", phone=""
    )
    assert data.declarations == Declarations(learner_numbers_confirmed=True)


def test_a_bare_notification_reads_as_one_that_names_nothing_else():
    data = NotificationData.from_json({"organisation": {"name_fi": "Uusi"}, "contacts": []})
    assert (data.organisation.name_fi, data.organisation.oid, data.organisation.kind) == (
        "Uusi",
        "",
        "",
    )
    assert data.contacts == () and data.acceptance is None
    assert data.declarations == Declarations()


def test_the_json_round_trips_in_the_shape_stored_today():
    terms = TermsVersion(version="2024-1", content_sha256="b" * 64)
    data = notification_data(terms, language="sv", declarations={"uses_test_learner_numbers": True})
    stored = data.to_json()
    assert set(stored) == {"organisation", "contacts", "declarations", "acceptance"}
    assert stored["contacts"][0] == {
        "name": "Alice Aaltonen",
        "email": ALICE,
        "phone": "+358401234567",
        "role": "administrative",
        "language": "fi",
    }
    assert stored["acceptance"]["language"] == "sv"
    assert NotificationData.from_json(stored) == data
    assert NotificationData.from_json(stored).to_json() == stored
    assert notification_data(None).to_json()["acceptance"] is None


def test_an_old_notification_reads_back_in_todays_shape():
    data = NotificationData.from_json(STORED_BEFORE_THE_LANGUAGE, language="fi")
    again = data.to_json()
    assert again["acceptance"] == {**STORED_BEFORE_THE_LANGUAGE["acceptance"], "language": "fi"}
    assert again["declarations"]["test_learner_number_use"] == ""
    assert again["contacts"][1]["phone"] == ""


def test_the_form_starts_from_a_notification_as_it_was_sent_and_accepts_it_anew():
    data = notification_data(TermsVersion(version="2024-1", content_sha256="c" * 64))
    values, rows = data.to_initial()
    assert values["name_sv"] == "Lembois kommun" and values["learner_numbers_confirmed"] is True
    assert values["accepter_title"] == "Sivistysjohtaja"
    assert "accept_terms" not in values and "authority_confirmed" not in values
    assert [row["email"] for row in rows] == [ALICE, LEMPAALA_IT]
    values, _rows = data.to_initial(accepted=True)  # the person's own draft, back from checking
    assert values["accept_terms"] is True and values["authority_confirmed"] is True


def test_a_test_learner_number_use_is_notified_only_with_the_box_ticked():
    described = Declarations(test_learner_number_use="Staging")
    assert described.notified_use == ""
    ticked = Declarations(uses_test_learner_numbers=True, test_learner_number_use="Staging")
    assert ticked.notified_use == "Staging"


@pytest.mark.django_db
def test_a_notification_stored_in_the_old_shape_is_shown_and_approved(terms, charlie):
    stored = {
        **STORED_BEFORE_THE_LANGUAGE,
        "acceptance": {
            **STORED_BEFORE_THE_LANGUAGE["acceptance"],
            "content_sha256": terms.content_sha256,
        },
    }
    registration = Registration.objects.create(
        oid=OID,
        data=stored,
        terms_version=terms,
        content_sha256=terms.content_sha256,
        submitted_by=UserFactory(),
        language="sv",
        submission_token=uuid.uuid4(),
    )
    assert registration.organisation_name == "Lempäälän kunta"
    services.registration_approve(registration_id=registration.pk, reviewer=charlie)
    acceptance = TermsAcceptance.objects.get()
    assert (acceptance.language, acceptance.accepter_name) == ("sv", "Riikka Rehtori")
    technical = acceptance.organisation.contacts.get(role="technical")
    assert (technical.email, str(technical.phone)) == ("it@lempaala.fi", "")

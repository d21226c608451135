"""The rules a notification keeps have one home: the service refuses data that breaks them,
with the words the form shows next to the field, and keeps nothing."""

from __future__ import annotations

from dataclasses import replace
from datetime import date

import pytest
from django.core.exceptions import ValidationError

from onboarding.models import OutgoingEmail, Registration
from onboarding.services.registrations import TermsChanged
from tests.factories import (
    ALICE,
    LEMPAALA_IT,
    contact,
    notification_data,
    published_terms,
    submit,
)

ADMINISTRATIVE = contact(ALICE)
TECHNICAL = contact(LEMPAALA_IT, "technical")
SERVES = {"kind": "service_provider"}
USES = {"uses_test_learner_numbers": True, "test_learner_number_use": "Staging"}

# fmt: off
BROKEN = [  # the notification's changes; the field; the message
    pytest.param({"contacts": [TECHNICAL]}, {}, "contacts",
                 "Name at least one administrative and one technical contact. Missing: "
                 "Administrative contact.", id="no-administrative-contact"),
    pytest.param({"contacts": [ADMINISTRATIVE]}, {}, "contacts",
                 "Missing: Technical contact.", id="no-technical-contact"),
    pytest.param({"contacts": [ADMINISTRATIVE, TECHNICAL, contact("ALICE@lempaala.fi")]}, {},
                 "contacts", "ALICE@lempaala.fi is named twice in the same role.",
                 id="same-person-twice-in-a-role"),
    pytest.param({"kind": "school"}, {}, "kind",
                 "Choose whether the organisation provides education, services or both.",
                 id="unknown-kind"),
    pytest.param({"kind": "both"}, {"learner_numbers_confirmed": False},
                 "learner_numbers_confirmed", "An education provider must confirm",
                 id="learner-numbers-not-confirmed"),
    pytest.param({}, USES, "uses_test_learner_numbers",
                 "Only a service provider may use test learner numbers. Untick this",
                 id="test-numbers-of-an-education-provider"),
    pytest.param({}, {"test_learner_number_use": "Staging"}, "test_learner_number_use",
                 "Only a service provider may use test learner numbers. Clear this description",
                 id="test-numbers-described-by-an-education-provider"),
    pytest.param(SERVES, {"uses_test_learner_numbers": True}, "test_learner_number_use",
                 "Describe briefly how you will use test learner numbers.",
                 id="test-numbers-not-described"),
    pytest.param(SERVES, {"test_learner_number_use": "Staging"}, "uses_test_learner_numbers",
                 "Tick this if you will use test learner numbers", id="described-not-ticked"),
]
# fmt: on


@pytest.mark.django_db
@pytest.mark.parametrize(("organisation", "declarations", "field", "message"), BROKEN)
def test_the_service_refuses_a_notification_that_breaks_a_rule_and_keeps_nothing(
    terms, organisation, declarations, field, message
):
    data = notification_data(terms, **organisation)
    data = replace(data, declarations=replace(data.declarations, **declarations))
    with pytest.raises(ValidationError) as refused:
        submit(terms, data=data)
    assert list(refused.value.message_dict) == [field]
    assert message in refused.value.message_dict[field][0]
    assert not Registration.objects.exists() and not OutgoingEmail.objects.exists()


@pytest.mark.django_db
@pytest.mark.parametrize("kind", ["service_provider", "both"])
def test_a_service_provider_may_notify_its_use_of_test_learner_numbers(terms, kind):
    data = notification_data(terms, kind=kind, declarations=USES)
    registration, created = submit(terms, data=data)
    assert created and registration.submitted.declarations.notified_use == "Staging"


@pytest.mark.django_db
def test_a_service_provider_need_not_confirm_learner_numbers(terms):
    data = notification_data(terms, kind="service_provider")
    data = replace(data, declarations=replace(data.declarations, learner_numbers_confirmed=False))
    _registration, created = submit(terms, data=data)
    assert created


@pytest.mark.django_db
def test_changed_terms_are_refused_in_the_one_wording_the_form_shows(terms):
    published_terms(effective_from=date(2025, 1, 1))
    with pytest.raises(TermsChanged) as refused:
        submit(terms)
    assert refused.value.messages == [
        "The terms of use changed while you filled in the form. Read the current version and "
        "accept it again."
    ]


@pytest.mark.django_db
def test_an_acceptance_without_its_terms_version_is_a_programming_error(terms):
    with pytest.raises(ValueError):
        submit(None, data=notification_data(terms), content_sha256="")
    assert not Registration.objects.exists()


@pytest.mark.django_db
def test_the_service_refuses_an_oid_in_a_form_oph_does_not_use(terms):
    with pytest.raises(ValidationError) as refused:
        submit(terms, data=notification_data(terms, oid="1.2.246.562.10.1"))
    assert "An organisation OID has 11 digits" in str(refused.value)
    assert not Registration.objects.exists()

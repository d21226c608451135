"""What the database itself refuses, whatever the Python code above it does."""

from __future__ import annotations

import pytest
from django.core.exceptions import ValidationError
from django.db import IntegrityError, transaction

from onboarding.models import ContactPerson, Organisation, TermsVersion
from tests.factories import (
    ContactPersonFactory,
    OrganisationFactory,
    TermsAcceptanceFactory,
    TermsVersionFactory,
)

pytestmark = pytest.mark.django_db


def test_an_organisation_accepts_a_version_only_once():
    first = TermsAcceptanceFactory()
    with pytest.raises(IntegrityError), transaction.atomic():
        TermsAcceptanceFactory(organisation=first.organisation, terms_version=first.terms_version)


def test_the_friendly_check_names_the_duplicate_acceptance():
    first = TermsAcceptanceFactory()
    duplicate = TermsAcceptanceFactory.build(
        organisation=first.organisation,
        terms_version=first.terms_version,
        accepted_by=first.accepted_by,
    )
    with pytest.raises(ValidationError, match="already accepted this terms version"):
        duplicate.full_clean()


def test_an_acceptance_without_confirmed_authority_is_refused():
    with pytest.raises(IntegrityError), transaction.atomic():
        TermsAcceptanceFactory(authority_confirmed=False)


def test_an_acceptance_must_record_the_hash_that_was_shown():
    with pytest.raises(IntegrityError), transaction.atomic():
        TermsAcceptanceFactory(content_sha256="")


def test_a_published_version_must_carry_its_hash():
    draft = TermsVersionFactory()
    with pytest.raises(IntegrityError), transaction.atomic():
        TermsVersion.objects.filter(pk=draft.pk).update(published_at="2024-01-01T00:00:00Z")


def test_organisation_oids_are_unique():
    OrganisationFactory(oid="1.2.246.562.10.74484103937")
    with pytest.raises(IntegrityError), transaction.atomic():
        OrganisationFactory(oid="1.2.246.562.10.74484103937")


def test_kind_and_membership_must_be_known_values():
    organisation = OrganisationFactory()
    for field, value in (("kind", "school"), ("membership", "maybe")):
        with pytest.raises(IntegrityError), transaction.atomic():
            Organisation.objects.filter(pk=organisation.pk).update(**{field: value})


def test_a_person_holds_an_active_role_once_per_organisation_whatever_the_case():
    contact = ContactPersonFactory(email="Maija.Meikalainen@example.fi")
    with pytest.raises(IntegrityError), transaction.atomic():
        ContactPersonFactory(
            organisation=contact.organisation, email="maija.meikalainen@EXAMPLE.fi"
        )


def test_an_inactive_contact_does_not_block_the_same_person_again():
    contact = ContactPersonFactory(is_active=False)
    again = ContactPersonFactory(organisation=contact.organisation, email=contact.email)
    assert ContactPerson.objects.filter(email=again.email).count() == 2


def test_the_same_person_may_hold_two_roles():
    contact = ContactPersonFactory()
    ContactPersonFactory(
        organisation=contact.organisation,
        email=contact.email,
        role=ContactPerson.Role.TECHNICAL,
    )
    assert contact.organisation.contacts.count() == 2


def test_model_validation_uses_the_identifier_rules(settings):
    settings.ALLOW_TEST_ORGANISATIONS = False
    organisation = OrganisationFactory.build(
        oid="1.2.246.562.99.12345678901", business_id="0150783-2"
    )
    with pytest.raises(ValidationError) as error:
        organisation.full_clean()
    assert set(error.value.message_dict) == {"oid", "business_id"}


def test_test_organisations_are_accepted_where_allowed(settings):
    settings.ALLOW_TEST_ORGANISATIONS = True
    organisation = OrganisationFactory.build(oid="1.2.246.562.99.12345678901")
    organisation.full_clean()
    assert organisation.is_test

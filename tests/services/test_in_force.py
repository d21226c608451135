"""When the terms are in force for whom: a new joiner from its approval, a contract member
that accepted before its contract ended from the day it ended (the contract's own `ends_on`),
one that accepted later from its approval; the date is stored with the acceptance and can
never be changed afterwards."""

from __future__ import annotations

from datetime import date, datetime, timedelta
from zoneinfo import ZoneInfo

import pytest
from django.db import DatabaseError, connection, transaction
from django.utils import timezone

from onboarding import services
from onboarding.models import ImmutableRecordError, TermsAcceptance
from onboarding.services import membership
from tests.factories import (
    LegacyContractFactory,
    OrganisationFactory,
    TermsAcceptanceFactory,
    notification,
)

pytestmark = pytest.mark.django_db

HELSINKI = ZoneInfo("Europe/Helsinki")


def at(day: date, hour: int = 12, minute: int = 0) -> datetime:
    return datetime(day.year, day.month, day.day, hour, minute, tzinfo=HELSINKI)


def approve(registration, reviewer):
    services.registration_approve(registration_id=registration.pk, reviewer=reviewer)
    return TermsAcceptance.objects.get(registration=registration)


def test_a_new_joiner_is_under_the_terms_from_its_approval(terms, charlie):
    registration = notification(terms, submitted_at=timezone.now() - timedelta(days=20))

    acceptance = approve(registration, charlie)

    assert acceptance.in_force_from == timezone.localdate()


def test_a_contract_member_that_accepted_before_its_contract_ended_is_under_the_terms_from_its_end(
    terms, charlie, lempaala
):
    ends_on = timezone.localdate() + timedelta(days=45)  # an import's own date, not 1.8.2024
    LegacyContractFactory(organisation=lempaala, ends_on=ends_on)
    registration = notification(terms)

    acceptance = approve(registration, charlie)

    assert acceptance.in_force_from == ends_on


def test_the_default_contract_end_counts_for_an_acceptance_sent_before_it(terms, charlie, lempaala):
    LegacyContractFactory(organisation=lempaala)  # ends 1.8.2024
    registration = notification(terms, submitted_at=at(date(2024, 6, 3)))

    acceptance = approve(registration, charlie)  # approved today, long after

    assert acceptance.in_force_from == date(2024, 8, 1)


def test_a_contract_member_that_accepted_after_its_contract_ended_is_under_them_from_approval(
    terms, charlie, lempaala
):
    LegacyContractFactory(organisation=lempaala, ends_on=date(2024, 8, 1))
    registration = notification(terms, submitted_at=at(date(2024, 9, 2)))

    acceptance = approve(registration, charlie)

    assert acceptance.in_force_from == timezone.localdate()


def test_the_contract_end_day_in_helsinki_decides(lempaala):
    LegacyContractFactory(organisation=lempaala, ends_on=date(2024, 8, 1))
    late_evening = at(date(2024, 7, 31), 23, 30)  # 20:30 UTC: still before the end
    on_the_day = at(date(2024, 8, 1), 0, 5)
    approved = date(2024, 8, 20)

    assert membership.in_force_from_for(
        organisation=lempaala, accepted_at=late_evening, approved_on=approved
    ) == date(2024, 8, 1)
    assert (
        membership.in_force_from_for(
            organisation=lempaala, accepted_at=on_the_day, approved_on=approved
        )
        == approved
    )


def test_the_latest_of_several_contracts_ends_the_contract_membership(lempaala):
    LegacyContractFactory(organisation=lempaala, ends_on=date(2024, 8, 1))
    LegacyContractFactory(organisation=lempaala, ends_on=date(2025, 1, 1))

    assert membership.in_force_from_for(
        organisation=lempaala, accepted_at=at(date(2024, 10, 1)), approved_on=date(2024, 10, 2)
    ) == date(2025, 1, 1)


def test_evidence_written_directly_gets_its_date_from_the_same_rule(lempaala):
    LegacyContractFactory(organisation=lempaala, ends_on=date(2030, 1, 1))

    acceptance = TermsAcceptanceFactory(organisation=lempaala)

    assert acceptance.in_force_from == date(2030, 1, 1)


def test_the_in_force_date_can_never_be_changed(lempaala):
    acceptance = TermsAcceptanceFactory(organisation=lempaala)

    with pytest.raises(ImmutableRecordError):
        TermsAcceptance.objects.filter(pk=acceptance.pk).update(in_force_from=date(2020, 1, 1))
    with (
        pytest.raises(DatabaseError, match="Acceptances of the terms are evidence"),
        transaction.atomic(),
        connection.cursor() as cursor,
    ):
        cursor.execute(
            "UPDATE onboarding_termsacceptance SET in_force_from = %s WHERE id = %s",
            [date(2020, 1, 1), acceptance.pk],
        )
    acceptance.refresh_from_db()
    assert acceptance.in_force_from != date(2020, 1, 1)


# Member since and the basis, for the register ---------------------------------------------------


def test_a_contract_member_is_a_member_since_its_signing_day(lempaala):
    LegacyContractFactory(organisation=lempaala, signed_on=date(2017, 3, 1))
    LegacyContractFactory(organisation=lempaala, signed_on=date(2019, 1, 15))
    TermsAcceptanceFactory(organisation=lempaala)

    assert membership.member_since(lempaala) == date(2017, 3, 1)


def test_a_new_joiner_is_a_member_since_its_terms_came_in_force():
    acceptance = TermsAcceptanceFactory()

    assert membership.member_since(acceptance.organisation) == acceptance.in_force_from


def test_a_new_joiner_is_on_the_terms_basis(terms):
    acceptance = TermsAcceptanceFactory(terms_version=terms)

    basis = membership.basis_of(acceptance.organisation)

    assert basis == membership.MembershipBasis(
        basis="terms",
        in_force_from=timezone.localdate(),
        terms_version=terms,
        member_since=timezone.localdate(),
    )


def test_a_contract_member_that_has_not_accepted_is_on_the_contract_basis(lempaala):
    LegacyContractFactory(organisation=lempaala, signed_on=date(2019, 1, 15))

    basis = membership.basis_of(lempaala)

    assert basis == membership.MembershipBasis(
        basis="contract", in_force_from=None, terms_version=None, member_since=date(2019, 1, 15)
    )


def test_a_contract_member_stays_on_its_contract_until_the_terms_come_in_force(terms, lempaala):
    ends_on = timezone.localdate() + timedelta(days=10)
    LegacyContractFactory(organisation=lempaala, ends_on=ends_on, signed_on=date(2019, 1, 15))
    TermsAcceptanceFactory(organisation=lempaala, terms_version=terms)
    lempaala.refresh_from_db()

    assert membership.basis_of(lempaala).basis == "contract"
    assert membership.basis_of(lempaala).in_force_from == ends_on
    on_the_day = membership.basis_of(lempaala, today=ends_on)
    assert (on_the_day.basis, on_the_day.terms_version) == ("terms", terms)
    assert on_the_day.member_since == date(2019, 1, 15)


def test_a_contract_member_whose_contract_ended_stays_listed_until_it_lapses(lempaala):
    LegacyContractFactory(organisation=lempaala, ends_on=date(2024, 8, 1))

    assert membership.basis_of(lempaala).basis == "contract"


def test_a_lapsed_organisation_and_a_non_member_have_no_basis():
    assert membership.basis_of(OrganisationFactory(membership="lapsed")) is None
    assert membership.basis_of(OrganisationFactory(membership="none")) is None


def test_the_basis_of_many_organisations_costs_a_fixed_number_of_queries(
    terms, django_assert_num_queries
):
    for _n in range(5):
        TermsAcceptanceFactory(terms_version=terms)
        LegacyContractFactory(organisation=OrganisationFactory(membership="legacy_contract"))
    OrganisationFactory(membership="lapsed")

    with django_assert_num_queries(3):
        organisations = list(membership.with_basis(OrganisationFactory._meta.model.objects.all()))
        bases = membership.bases_of(organisations)
        [basis.terms_version for basis in bases.values()]

    assert sorted(b.basis for b in bases.values()) == ["contract"] * 5 + ["terms"] * 5

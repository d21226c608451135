"""Acceptances recorded before `in_force_from` existed get it once, in migration 0010, from the
rule of `services.membership`; the evidence trigger is back on afterwards."""

from __future__ import annotations

from datetime import date, datetime
from zoneinfo import ZoneInfo

import pytest
from django.core.management import call_command
from django.db import DatabaseError, connection, transaction

from onboarding.models import Registration, TermsAcceptance
from tests.factories import (
    LegacyContractFactory,
    OrganisationFactory,
    TermsAcceptanceFactory,
    notification,
)

pytestmark = pytest.mark.django_db(transaction=True)

HELSINKI = ZoneInfo("Europe/Helsinki")


@pytest.fixture(autouse=True)
def _latest_schema_afterwards():
    yield
    call_command("migrate", "onboarding", verbosity=0)


def at(year: int, month: int, day: int, hour: int = 12) -> datetime:
    return datetime(year, month, day, hour, tzinfo=HELSINKI)


def test_existing_acceptances_get_their_in_force_date_from_the_rules(terms):
    joiner = OrganisationFactory(membership="terms_accepted")
    early = LegacyContractFactory(ends_on=date(2024, 8, 1)).organisation
    late = LegacyContractFactory(ends_on=date(2024, 8, 1)).organisation
    own_end = LegacyContractFactory(ends_on=date(2025, 1, 1)).organisation
    registration = notification(terms, submitted_at=at(2024, 9, 2))
    Registration.objects.filter(pk=registration.pk).update(reviewed_at=at(2024, 9, 20))
    rows = {
        "joiner": TermsAcceptanceFactory(organisation=joiner, accepted_at=at(2024, 3, 5)),
        "early": TermsAcceptanceFactory(organisation=early, accepted_at=at(2024, 6, 1)),
        "late": TermsAcceptanceFactory(
            organisation=late, accepted_at=at(2024, 9, 2), registration=registration
        ),
        "own_end": TermsAcceptanceFactory(organisation=own_end, accepted_at=at(2024, 10, 1)),
    }

    call_command("migrate", "onboarding", "0009", verbosity=0)  # drops the column
    call_command("migrate", "onboarding", "0010", verbosity=0)

    at_0010 = TermsAcceptance.objects.values_list("in_force_from", flat=True)  # older columns
    filled = {name: at_0010.get(pk=row.pk) for name, row in rows.items()}
    assert filled == {
        "joiner": date(2024, 3, 5),  # no notification: the day it was accepted
        "early": date(2024, 8, 1),
        "late": date(2024, 9, 20),  # the day its notification was approved
        "own_end": date(2025, 1, 1),
    }
    with (
        pytest.raises(DatabaseError, match="Cannot update"),
        transaction.atomic(),
        connection.cursor() as cursor,
    ):
        cursor.execute(
            "UPDATE onboarding_termsacceptance SET in_force_from = '2020-01-01' WHERE id = %s",
            [rows["early"].pk],
        )

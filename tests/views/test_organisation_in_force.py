"""The organisation page says from which day each accepted version is in force, and the
sectors the organisation serves."""

from __future__ import annotations

from datetime import date, datetime
from zoneinfo import ZoneInfo

import pytest

from onboarding.models import Organisation
from tests.factories import LegacyContractFactory, TermsAcceptanceFactory

pytestmark = pytest.mark.django_db


def test_the_organisation_page_shows_when_the_terms_are_in_force_and_its_sectors(
    client, person, lempaala, terms
):
    LegacyContractFactory(organisation=lempaala, ends_on=date(2024, 8, 1))
    TermsAcceptanceFactory(
        organisation=lempaala,
        terms_version=terms,
        accepted_at=datetime(2024, 5, 2, 10, tzinfo=ZoneInfo("Europe/Helsinki")),
    )
    Organisation.objects.filter(pk=lempaala.pk).update(sectors=["basic", "early_childhood"])

    page = client.get(f"/en/organisations/{lempaala.pk}/").content.decode()

    assert 'data-label="In force from">1 August 2024</td>' in page
    assert "Early childhood education, Basic education" in page

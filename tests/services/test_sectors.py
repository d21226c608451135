"""Sectors in a notification's stored data and in the legacy members import."""

from __future__ import annotations

import pytest

from onboarding.legacy_import import parse_legacy_members
from onboarding.models import Organisation
from onboarding.notification_data import NotificationData
from onboarding.services.legacy_members import legacy_members_import
from tests.factories import LEMPAALA, OrganisationFactory, notification_data
from tests.importing import HEADER, csv_bytes, row

pytestmark = pytest.mark.django_db


def test_a_notification_stored_before_sectors_were_asked_reads_with_none(terms):
    stored = notification_data(terms).to_json()
    del stored["organisation"]["sectors"]

    assert NotificationData.from_json(stored).organisation.sectors == ()


def test_sectors_are_kept_in_oph_order_without_repeats(terms):
    data = notification_data(terms, sectors=["vocational", "basic", "vocational"])

    assert data.organisation.sectors == ("basic", "vocational")
    assert NotificationData.from_json(data.to_json()) == data


def test_the_import_reads_sectors_as_codes_or_ophs_finnish_names():
    parsed = parse_legacy_members(
        csv_bytes([row(sectors="Perusopetus; ammatillinen koulutus,early_childhood")])
    )

    assert parsed.is_valid, parsed.errors
    assert parsed.rows[0].sectors == ("early_childhood", "basic", "vocational")


def test_the_import_names_an_unknown_sector():
    parsed = parse_legacy_members(csv_bytes([row(sectors="korkeakoulutus")]))

    assert [(error.column, "korkeakoulutus" in error.message) for error in parsed.errors] == [
        ("sectors", True)
    ]


def test_the_import_sets_sectors_it_gives_and_keeps_those_it_does_not():
    OrganisationFactory(oid=LEMPAALA, sectors=["pre_primary"], membership="legacy_contract")
    without = parse_legacy_members(csv_bytes([row()], header=[c for c in HEADER if c != "sectors"]))
    legacy_members_import(rows=without.rows)
    assert Organisation.objects.get(oid=LEMPAALA).sectors == ["pre_primary"]

    given = parse_legacy_members(csv_bytes([row(sectors="perusopetus")]))
    legacy_members_import(rows=given.rows)

    assert Organisation.objects.get(oid=LEMPAALA).sectors == ["basic"]


def test_staff_tick_sectors_in_the_admins_form():
    from django.forms import modelform_factory

    organisation = OrganisationFactory()
    form_class = modelform_factory(Organisation, fields=["sectors"])

    assert not form_class({"sectors": ["higher"]}, instance=organisation).is_valid()
    form = form_class({"sectors": ["vocational", "basic"]}, instance=organisation)
    assert form.is_valid(), form.errors
    form.save()
    organisation.refresh_from_db()
    assert sorted(organisation.sectors) == ["basic", "vocational"]

"""A registry snapshot: what the registry last said about an OID, kept when asking fails, its
changes in the history; one rule for "closed" in Python and in queries."""

from __future__ import annotations

from datetime import date, timedelta

import pytest
from django.core.exceptions import ValidationError
from django.utils import timezone
from simple_history.models import HistoricalRecords

from onboarding import selectors
from onboarding.models import RegistryEntry
from onboarding.models.registry import RegistryState
from onboarding.organisation_registry import LookupFailure
from onboarding.services.registry import registry_entry_refresh
from tests.registry.recorded import LEMPAALA, LEMPAALA_SCHOOL, UNKNOWN, current, older

pytestmark = pytest.mark.django_db


def test_a_found_organisation_is_stored_verified(registry):
    registry.answers(LEMPAALA, current())
    entry = registry_entry_refresh(oid=LEMPAALA)
    entry.refresh_from_db()
    assert entry.is_verified and entry.found and not entry.is_closed
    assert (entry.name_fi, entry.name_sv, entry.name_en) == (
        "Lempäälän kunta",
        "Lembois kommun",
        "Municipality of Lempäälä",
    )
    assert entry.business_id == "0150783-1" and entry.business_id_is_valid
    assert entry.types == ["education_provider", "municipality"]
    assert entry.type_labels() == ["Education provider", "Municipality"]
    assert entry.status == "AKTIIVINEN" and entry.get_status_display() == "Active"
    assert entry.parent_oids == ["1.2.246.562.10.00000000001"]
    assert entry.state == RegistryState.ACTIVE
    assert timezone.now() - entry.checked_at < timedelta(minutes=1)
    assert entry.last_failure == "" and entry.last_failure_at is None
    assert selectors.registry_entry(LEMPAALA) == entry


def test_an_older_answer_is_stored_the_same_way(registry):
    registry.answers(LEMPAALA_SCHOOL, older())
    entry = registry_entry_refresh(oid=LEMPAALA_SCHOOL)
    assert entry.closed_on == date(2024, 7, 31) and entry.is_closed
    assert entry.state == RegistryState.CLOSED
    assert entry.business_id == "" and entry.types == ["institution", "office"]


def test_a_business_id_failing_the_check_is_stored_as_the_registry_gives_it(registry):
    registry.answers(LEMPAALA, current(ytunnus="0150783-2"))
    entry = registry_entry_refresh(oid=LEMPAALA)
    assert entry.business_id == "0150783-2" and not entry.business_id_is_valid


def test_not_found_is_stored_as_not_found(registry):
    registry.answers(UNKNOWN, None)
    entry = registry_entry_refresh(oid=UNKNOWN)
    assert not entry.found and not entry.is_verified and entry.checked_at is not None
    assert entry.state == RegistryState.NOT_FOUND


def test_a_failed_check_keeps_the_last_known_data_and_records_why(registry):
    registry.answers(LEMPAALA, current())
    verified_at = registry_entry_refresh(oid=LEMPAALA).checked_at
    registry.server.clear_all_handlers()
    registry.fails(LEMPAALA, 503)
    entry = registry_entry_refresh(oid=LEMPAALA)
    entry.refresh_from_db()
    assert entry.name_fi == "Lempäälän kunta" and entry.is_verified
    assert entry.checked_at == verified_at
    assert entry.last_failure == LookupFailure.SERVER_ERROR and entry.last_check_failed
    assert entry.get_last_failure_display() == "OPH's organisation service had an error."
    assert entry.last_failure_at > verified_at
    assert entry.history.count() == 1  # a failure is no new version of the data


def test_a_first_check_that_fails_leaves_an_unverified_entry(refused):
    entry = registry_entry_refresh(oid=LEMPAALA)
    assert entry.state == RegistryState.NOT_VERIFIED and not entry.is_verified
    assert entry.last_failure == LookupFailure.UNREACHABLE


def test_with_lookups_off_the_entry_says_so(lookups_off):
    entry = registry_entry_refresh(oid=LEMPAALA)
    assert entry.get_last_failure_display() == "Lookups in OPH's organisation service are off."


def test_a_success_after_a_failure_clears_it(registry):
    registry.fails(LEMPAALA, 500)
    registry_entry_refresh(oid=LEMPAALA)
    registry.server.clear_all_handlers()
    registry.answers(LEMPAALA, current())
    entry = registry_entry_refresh(oid=LEMPAALA)
    entry.refresh_from_db()
    assert entry.last_failure == "" and entry.last_failure_at is None and entry.is_verified


def test_the_history_records_changes_of_the_data_not_every_check(registry):
    registry.answers(LEMPAALA, current())
    registry_entry_refresh(oid=LEMPAALA)
    registry_entry_refresh(oid=LEMPAALA)  # the same answer: no new version
    registry.server.clear_all_handlers()
    registry.answers(LEMPAALA, current(nimi={"fi": "Lempäälän kaupunki"}, ytunnus="0150783-1"))
    entry = registry_entry_refresh(oid=LEMPAALA)
    versions = list(entry.history.order_by("history_id"))
    assert [v.name_fi for v in versions] == ["Lempäälän kunta", "Lempäälän kaupunki"]
    assert versions[1].name_sv == "" and versions[1].history_type == "~"


def test_a_cached_answer_is_used_only_when_asked_for(registry):
    registry.answers(LEMPAALA, current())
    registry_entry_refresh(oid=LEMPAALA, fresh=False)
    registry_entry_refresh(oid=LEMPAALA, fresh=False)
    registry_entry_refresh(oid=LEMPAALA)
    assert len(registry.asked) == 2


@pytest.mark.parametrize("oid", ["1.2.246.562.10.7448410393", "1.2.246.562.24.10000000003", ""])
def test_a_malformed_oid_is_refused_without_asking(registry, oid):
    with pytest.raises(ValidationError):
        registry_entry_refresh(oid=oid)
    assert registry.asked == [] and not RegistryEntry.objects.exists()


def test_a_reviewers_check_is_recorded_as_theirs(registry, charlie, rf):
    registry.answers(LEMPAALA, current())
    request = rf.post("/")
    request.user = charlie
    HistoricalRecords.context.request = request  # as HistoryRequestMiddleware does
    try:
        entry = registry_entry_refresh(oid=LEMPAALA)
    finally:
        del HistoricalRecords.context.request
    assert entry.history.get().history_user == charlie


@pytest.mark.parametrize(
    ("found", "status", "closed_on", "state"),
    [
        (True, "AKTIIVINEN", None, RegistryState.ACTIVE),
        (True, "", None, RegistryState.ACTIVE),
        (True, "SUUNNITELTU", None, RegistryState.ACTIVE),
        (True, "PASSIIVINEN", None, RegistryState.CLOSED),
        (True, "POISTETTU", None, RegistryState.CLOSED),
        (True, "AKTIIVINEN", date(2020, 1, 1), RegistryState.CLOSED),
        (True, "AKTIIVINEN", date(2999, 1, 1), RegistryState.CLOSED),  # closing: staff act now
        (False, "PASSIIVINEN", None, RegistryState.NOT_FOUND),
    ],
)
def test_the_state_is_one_rule_in_python_and_in_queries(found, status, closed_on, state):
    entry = RegistryEntry.objects.create(
        oid=LEMPAALA, found=found, status=status, closed_on=closed_on, checked_at=timezone.now()
    )
    assert entry.state == state
    assert RegistryEntry.objects.with_state().get().registry_state == state
    assert list(RegistryEntry.objects.in_state(state)) == [entry]
    assert entry.is_closed == (
        found
        and (status in ("PASSIIVINEN", "POISTETTU") or bool(closed_on and closed_on.year < 2999))
    )


def test_an_entry_never_answered_is_not_verified():
    entry = RegistryEntry.objects.create(oid=LEMPAALA, last_failure="timeout")
    assert entry.state == RegistryState.NOT_VERIFIED
    assert RegistryEntry.objects.with_state().get().registry_state == RegistryState.NOT_VERIFIED

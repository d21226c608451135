"""The weekly check asks the registry about every member, stores what it says, and tells staff
once what is new: members closed or closing, no longer found, renamed. Nothing else changes."""

from __future__ import annotations

import re
import time

import pytest
from django.conf import settings as django_settings
from django.db import connection
from django.test.utils import CaptureQueriesContext

from onboarding import selectors, tasks
from onboarding.models import Organisation, OutgoingEmail, RegistryCheck, RegistryEntry
from onboarding.organisation_registry import LookupFailure
from onboarding.services.registry import FAILURES_BEFORE_STOPPING, registry_recheck_members
from portal.celery import app
from tests.factories import BORGA, CHARLIE, LEMPAALA, OrganisationFactory
from tests.registry.recorded import current

pytestmark = pytest.mark.django_db


def borga_answer(**changes):
    return (
        current(oid=BORGA, nimi={"fi": "Porvoon kaupunki", "sv": "Borgå stad"}, ytunnus="1061512-1")
        | changes
    )


@pytest.fixture
def members(lempaala, borga, charlie):
    """Lempäälä and Borgå are members; a non-member is never asked; charlie is told."""
    OrganisationFactory(name_fi="Ei jäsen", membership="none")
    return lempaala, borga


def summaries():
    return OutgoingEmail.objects.filter(kind=OutgoingEmail.Kind.REGISTRY_SUMMARY)


def test_a_member_closed_in_the_registry_is_listed_and_staff_get_one_summary(registry, members):
    registry.answers(LEMPAALA, current())
    registry.answers(BORGA, borga_answer(status="PASSIIVINEN"))
    assert tasks.recheck_members_in_registry() == 2
    assert sorted(registry.asked) == sorted(
        f"/organisaatio-service/api/{oid}" for oid in (LEMPAALA, BORGA)
    )
    assert list(selectors.members_closed_in_registry()) == [members[1]]
    [summary] = summaries()
    check = RegistryCheck.objects.get()
    assert (summary.to, summary.language, summary.registry_check) == (CHARLIE, "fi", check)
    assert "Porvoon kaupunki (1.2.246.562.10.10000000001)" in summary.body_text
    assert "Lempäälän kunta" not in summary.body_text
    assert "/admin/onboarding/organisation/?registry=closed" in summary.body_text
    assert "Porvoon kaupunki" in summary.body_html
    assert (check.checked, check.failed, check.stopped) == (2, 0, "")
    assert check.finished_at is not None


def test_nothing_new_is_no_email(registry, members):
    registry.answers(LEMPAALA, current())
    registry.answers(BORGA, borga_answer(status="PASSIIVINEN"))
    registry_recheck_members()
    registry_recheck_members()
    assert summaries().count() == 1
    assert RegistryCheck.objects.count() == 2


def test_a_first_check_finding_every_member_active_sends_nothing(registry, members):
    registry.answers(LEMPAALA, current())
    registry.answers(BORGA, borga_answer())
    registry_recheck_members()
    assert not summaries().exists()
    assert RegistryEntry.objects.count() == 2


def test_a_closing_date_a_new_name_and_a_lost_member_are_told_once(registry, members):
    lempaala, borga = members
    registry.answers(LEMPAALA, current())
    registry.answers(BORGA, borga_answer())
    registry_recheck_members()
    registry.server.clear_all_handlers()
    registry.answers(LEMPAALA, current(lakkautusPvm="2999-12-31", ytunnus="0150783-9"))
    registry.answers(BORGA, None)
    check = registry_recheck_members()
    news = selectors.registry_news(since=None, until=check.finished_at)
    assert [m.organisation for m in news.closed] == [lempaala]
    [summary] = summaries()
    assert "Lempäälän kunta (1.2.246.562.10.74484103937)" in summary.body_text
    assert "31.12.2999" in summary.body_text  # the closing date, as Finnish staff write it
    assert "0150783-1 → 0150783-9" in summary.body_text
    assert "Porvoon kaupunki (1.2.246.562.10.10000000001)" in summary.body_text
    assert list(selectors.members_closed_in_registry()) == [lempaala]
    entry = RegistryEntry.objects.get(oid=BORGA)
    assert not entry.found and entry.name_fi == "Porvoon kaupunki"  # what it was
    assert [v.found for v in entry.history.order_by("history_id")] == [True, False]


def test_the_news_sorts_members_closed_lost_and_changed(registry, members):
    lempaala, borga = members
    registry.answers(LEMPAALA, current())
    registry.answers(BORGA, borga_answer())
    first = registry_recheck_members()
    registry.server.clear_all_handlers()
    registry.answers(LEMPAALA, current(status="POISTETTU", ytunnus="0150783-9"))
    registry.answers(BORGA, None)
    second = registry_recheck_members()
    news = selectors.registry_news(since=first.finished_at, until=second.finished_at)
    assert [m.organisation for m in news.closed] == [lempaala]
    assert [m.organisation for m in news.no_longer_found] == [borga]
    [changed] = news.changed
    assert changed.organisation == lempaala and changed.status == "Deleted"
    assert [(str(label), old, new) for label, old, new in changed.changes] == [
        ("business ID", "0150783-1", "0150783-9")
    ]
    assert not selectors.registry_news(since=second.finished_at, until=second.finished_at)


def test_nothing_but_the_snapshot_changes(registry, members):
    lempaala, borga = members
    registry.answers(LEMPAALA, current(nimi={"fi": "Uusi nimi"}, status="POISTETTU"))
    registry.answers(BORGA, None)
    registry_recheck_members()
    for organisation in members:
        before = Organisation.objects.get(pk=organisation.pk)
        assert (before.name_fi, before.business_id, before.membership) == (
            organisation.name_fi,
            organisation.business_id,
            "legacy_contract",
        )


def test_a_change_found_between_two_checks_is_told_by_the_next(registry, members):
    from onboarding.services.registry import registry_entry_refresh

    registry.answers(LEMPAALA, current())
    registry.answers(BORGA, borga_answer())
    registry_recheck_members()
    registry.server.clear_all_handlers()
    registry.answers(LEMPAALA, current(status="PASSIIVINEN"))
    registry.answers(BORGA, borga_answer())
    registry_entry_refresh(oid=LEMPAALA)  # a reviewer's re-check finds it first
    registry_recheck_members()
    [summary] = summaries()
    assert "Lempäälän kunta" in summary.body_text


def test_with_the_service_down_nothing_changes_and_the_failure_is_recorded(registry, members):
    registry.answers(LEMPAALA, current())
    registry.answers(BORGA, borga_answer(status="PASSIIVINEN"))
    registry_recheck_members()
    before = {e.oid: (e.name_fi, e.status, e.checked_at) for e in RegistryEntry.objects.all()}
    registry.server.clear_all_handlers()
    registry.fails(LEMPAALA, 503)
    registry.fails(BORGA, 503)
    check = registry_recheck_members()
    after = {e.oid: (e.name_fi, e.status, e.checked_at) for e in RegistryEntry.objects.all()}
    assert after == before
    assert set(RegistryEntry.objects.values_list("last_failure", flat=True)) == {
        LookupFailure.SERVER_ERROR
    }
    assert (check.checked, check.failed) == (0, 2)
    assert summaries().count() == 1  # the first check's; a failure is no news
    assert list(selectors.members_closed_in_registry()) == [members[1]]


def test_a_refused_connection_is_recorded_too(refused, members):
    check = registry_recheck_members()
    assert (check.checked, check.failed) == (0, 2)
    assert set(RegistryEntry.objects.values_list("last_failure", flat=True)) == {"unreachable"}
    assert not RegistryEntry.objects.filter(checked_at__isnull=False).exists()
    assert not summaries().exists()


def test_the_check_stops_when_the_service_is_down(registry, charlie):
    for _ in range(FAILURES_BEFORE_STOPPING + 3):
        OrganisationFactory(membership="terms_accepted")
    registry.server.expect_request(re.compile(".*")).respond_with_data("", status=502)
    check = registry_recheck_members(batch_size=3)
    assert len(registry.asked) == FAILURES_BEFORE_STOPPING
    assert (check.failed, check.stopped) == (FAILURES_BEFORE_STOPPING, "server_error")
    assert check.get_stopped_display() == "OPH's organisation service had an error."
    assert RegistryEntry.objects.count() == FAILURES_BEFORE_STOPPING


def test_with_lookups_off_nothing_is_asked_or_stored(lookups_off, members):
    assert tasks.recheck_members_in_registry() == 0
    assert not RegistryCheck.objects.exists() and not RegistryEntry.objects.exists()


def test_requests_are_spaced(registry, members, settings):
    settings.ORGANISATION_SERVICE_PAUSE = 0.2
    registry.answers_every_oid(lambda oid: current(oid=oid))
    started = time.monotonic()
    registry_recheck_members()
    assert time.monotonic() - started >= 0.2  # one pause between the two requests


def checked_queries(count: int, *, changing: bool = False) -> int:
    """Queries of a check of `count` new members; with `changing`, of a second check where
    every other member has a new name."""
    for _ in range(count):
        OrganisationFactory(membership="legacy_contract")
    if changing:
        registry_recheck_members(batch_size=50)
        for entry in RegistryEntry.objects.all()[::2]:
            RegistryEntry.objects.filter(pk=entry.pk).update(name_fi="Vanha nimi")
    with CaptureQueriesContext(connection) as queries:
        registry_recheck_members(batch_size=50)
    OutgoingEmail.objects.all().delete()
    RegistryEntry.history.all().delete()
    RegistryEntry.objects.all().delete()
    RegistryCheck.objects.all().delete()
    Organisation.objects.all().delete()
    return len(queries.captured_queries)


@pytest.mark.parametrize("changing", [False, True])
def test_queries_grow_with_batches_not_members(registry, charlie, changing):
    registry.answers_every_oid(  # every other member closed: each check has news to tell
        lambda oid: current(oid=oid, status="PASSIIVINEN" if int(oid[-1]) % 2 else "AKTIIVINEN")
    )
    few = checked_queries(4, changing=changing)
    many = checked_queries(40, changing=changing)  # still one batch
    assert many == few


def test_each_batch_costs_the_same(registry, charlie):
    registry.answers_every_oid(lambda oid: current(oid=oid))
    for _ in range(20):
        OrganisationFactory(membership="legacy_contract")
    with CaptureQueriesContext(connection) as two_batches:
        registry_recheck_members(batch_size=10)
    RegistryEntry.objects.all().delete()
    with CaptureQueriesContext(connection) as four_batches:
        registry_recheck_members(batch_size=5)
    per_batch = (len(four_batches.captured_queries) - len(two_batches.captured_queries)) / 2
    assert 0 < per_batch <= 8


def test_it_runs_weekly_from_beat():
    entry = django_settings.CELERY_BEAT_SCHEDULE["recheck-members-in-registry"]
    assert entry["task"] == "onboarding.tasks.recheck_members_in_registry"
    assert entry["schedule"].day_of_week == {1} and entry["schedule"].hour == {5}
    app.loader.import_default_modules()
    assert "onboarding.tasks.recheck_members_in_registry" in app.tasks

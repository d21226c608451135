"""The register page (/members/): every member in force and only those, on its basis, since
when; searched, filtered, sorted and paged by its address; a fixed number of queries."""

from __future__ import annotations

import re
from datetime import date, datetime, timedelta
from zoneinfo import ZoneInfo

import pytest
from django.core.cache import cache
from django.utils import timezone

from onboarding import register
from tests.factories import (
    LegacyContractFactory,
    OrganisationFactory,
    TermsAcceptanceFactory,
)

pytestmark = pytest.mark.django_db

HELSINKI = ZoneInfo("Europe/Helsinki")
TEST_OID = "1.2.246.562.99.10000000001"


@pytest.fixture(autouse=True)
def _fresh_register():
    """Each test starts from an empty cache, as after a deployment."""
    cache.clear()


def contract_member(name: str, **contract) -> object:
    organisation = OrganisationFactory(name_fi=name, membership="legacy_contract")
    LegacyContractFactory(organisation=organisation, **contract)
    return organisation


def accepts(organisation, terms, *, on: date) -> None:
    """`organisation` accepted `terms` by a notification sent on `on`, approved today."""
    accepted_at = datetime(on.year, on.month, on.day, 12, tzinfo=HELSINKI)
    TermsAcceptanceFactory(organisation=organisation, terms_version=terms, accepted_at=accepted_at)
    organisation.membership = "terms_accepted"
    organisation.save()


@pytest.fixture
def every_state(terms):
    """One organisation in each state of membership the register knows."""
    today = timezone.localdate()
    joiner = OrganisationFactory(name_fi="Uusi Liittyjä Oy", kind="service_provider")
    accepts(joiner, terms, on=today - timedelta(days=3))
    early = contract_member("Ajoissa Hyväksynyt", signed_on=date(2018, 5, 2))
    accepts(early, terms, on=date(2024, 3, 1))  # before its contract ended on 1.8.2024
    coming = contract_member("Tuleva Sopimus", ends_on=today + timedelta(days=30))
    accepts(coming, terms, on=today - timedelta(days=1))
    return {
        "joiner": joiner,
        "early": early,
        "coming": coming,
        "contract": contract_member("Sopimusjäsen", ends_on=today + timedelta(days=300)),
        "ended": contract_member("Päättynyt Sopimus"),  # ended 1.8.2024, not lapsed
        "lapsed": OrganisationFactory(name_fi="Rauennut Jäsen", membership="lapsed"),
        "test": OrganisationFactory(
            oid=TEST_OID, name_fi="Testiorganisaatio", membership="terms_accepted"
        ),
        "none": OrganisationFactory(name_fi="Ei Jäsen", membership="none"),
    }


def rows_by_oid() -> dict[str, register.MemberRow]:
    return {row.oid: row for row in register.member_register()}


def test_the_register_lists_members_in_force_and_no_one_else(every_state, terms):
    rows = rows_by_oid()

    listed = {"joiner", "early", "coming", "contract", "ended"}
    assert set(rows) == {every_state[name].oid for name in listed}
    assert TEST_OID not in rows


def test_each_member_is_listed_on_its_basis_since_its_first_day(every_state, terms):
    rows = rows_by_oid()
    today = timezone.localdate()

    joiner = rows[every_state["joiner"].oid]
    assert (joiner.basis, joiner.terms_version, joiner.in_force_from) == ("terms", "2024-1", today)
    assert joiner.member_since == today
    early = rows[every_state["early"].oid]
    assert (early.basis, early.in_force_from) == ("terms", date(2024, 8, 1))
    assert early.member_since == date(2018, 5, 2)
    coming = rows[every_state["coming"].oid]
    assert (coming.basis, coming.terms_version) == ("contract", "2024-1")
    assert coming.in_force_from == today + timedelta(days=30)
    for name in ("contract", "ended"):
        row = rows[every_state[name].oid]
        assert (row.basis, row.in_force_from, row.terms_version) == ("contract", None, None)
        assert row.member_since == date(2019, 1, 15)


def test_the_page_shows_every_column_in_finnish(client, every_state):
    response = client.get("/members/")

    assert response.status_code == 200
    page = response.content.decode()
    assert "Uusi Liittyjä Oy" in page
    assert every_state["early"].oid in page
    assert "Rauennut Jäsen" not in page
    assert "Testiorganisaatio" not in page
    assert "Ei Jäsen" not in page
    assert '<th scope="col" aria-sort="ascending">' in page
    assert "<caption" in page


def test_names_are_in_the_pages_language_falling_back_to_finnish(client, lempaala, borga):
    OrganisationFactory(name_fi="Vain Suomeksi", name_sv="", membership="legacy_contract")

    page = client.get("/sv/members/").content.decode()

    assert "Lembois kommun" in page
    assert "Borgå stad" in page
    assert "Vain Suomeksi" in page
    assert "Lempäälän kunta" not in page


@pytest.mark.parametrize("query", ["lembois", "74484103937", "LEMPÄÄLÄ"])
def test_members_are_found_by_name_in_any_language_or_by_oid(client, lempaala, borga, query):
    response = client.get("/en/members/", {"q": query})

    assert list(response.context["page"].object_list) == [
        row for row in register.member_register() if row.oid == lempaala.oid
    ]


def test_members_are_filtered_by_kind_and_sector(client, lempaala, borga):
    OrganisationFactory(
        name_fi="Oppimisalusta Oy",
        kind="service_provider",
        sectors=["basic", "vocational"],
        membership="legacy_contract",
    )
    lempaala.sectors = ["basic"]
    lempaala.save()

    by_kind = client.get("/members/", {"kind": "service_provider"}).context["page"]
    by_sector = client.get("/members/", {"sector": "basic"}).context["page"]
    both = client.get("/en/members/", {"sector": "vocational", "kind": "education_provider"})

    assert [row.name_fi for row in by_kind] == ["Oppimisalusta Oy"]
    assert [row.name_fi for row in by_sector] == ["Lempäälän kunta", "Oppimisalusta Oy"]
    assert list(both.context["page"]) == []
    assert "No member matches your search." in both.content.decode()


def test_a_filter_that_is_not_one_of_ours_is_ignored(client, lempaala):
    response = client.get("/members/", {"kind": "<script>", "sort": "password"})

    assert response.status_code == 200
    assert [row.oid for row in response.context["page"]] == [lempaala.oid]


def test_members_are_sorted_by_a_column_either_way(client, lempaala, borga):
    LegacyContractFactory(organisation=lempaala, signed_on=date(2017, 1, 1))
    LegacyContractFactory(organisation=borga, signed_on=date(2020, 1, 1))

    names = [r.name_fi for r in client.get("/members/", {"sort": "-name"}).context["page"]]
    oldest = [r.name_fi for r in client.get("/members/", {"sort": "member_since"}).context["page"]]
    newest = client.get("/members/", {"sort": "-member_since"})

    assert names == ["Porvoon kaupunki", "Lempäälän kunta"]
    assert oldest == ["Lempäälän kunta", "Porvoon kaupunki"]
    assert [r.name_fi for r in newest.context["page"]] == ["Porvoon kaupunki", "Lempäälän kunta"]
    page = newest.content.decode()
    assert re.search(r'aria-sort="descending"><a href="\?sort=member_since"', page)


def test_the_register_is_paged_and_the_pages_keep_the_search(client):
    for n in range(55):
        OrganisationFactory(name_fi=f"Koulu {n:02d}", membership="legacy_contract")
    OrganisationFactory(name_fi="Muu", membership="legacy_contract")

    first = client.get("/en/members/", {"q": "koulu"})
    second = client.get("/members/", {"q": "koulu", "page": 2})

    assert len(first.context["page"]) == 50
    assert [row.name_fi for row in second.context["page"]] == [f"Koulu {n}" for n in range(50, 55)]
    assert 'href="?q=koulu&amp;page=2" rel="next"' in first.content.decode()
    assert "55 members match." in first.content.decode()


def test_the_page_costs_a_fixed_number_of_queries(client, terms, django_assert_max_num_queries):
    for n in range(30):
        organisation = OrganisationFactory(membership="legacy_contract", sectors=["basic"])
        LegacyContractFactory(organisation=organisation)
        if n % 2:
            accepts(organisation, terms, on=date(2024, 1, 10))

    with django_assert_max_num_queries(3):  # organisations, contracts, acceptances
        assert client.get("/members/").status_code == 200
    with django_assert_max_num_queries(0):  # then from the cache
        assert client.get("/members/", {"sort": "-oid", "page": 1}).status_code == 200


def test_the_site_navigation_links_the_register(client):
    page = client.get("/en/").content.decode()

    assert 'href="/en/members/">Members</a>' in page

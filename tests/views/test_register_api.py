"""The register for programs: /api/members.json as its schema says, /api/members.csv with the
same columns, 304s for either validator, built once per change and rebuilt after every
acceptance and lapse once it commits."""

from __future__ import annotations

import csv
import gzip
import io
import json
from datetime import date, timedelta
from pathlib import Path

import jsonschema
import pytest
from django.core.cache import cache
from django.utils import timezone

from onboarding import register, services
from onboarding.services.campaigns import campaign_lapse
from tests.factories import (
    LegacyContractFactory,
    OrganisationFactory,
    TermsAcceptanceFactory,
    launched_campaign,
    notification,
)

pytestmark = pytest.mark.django_db

SCHEMA = json.loads((Path(__file__).parents[2] / "docs" / "members.schema.json").read_text())


@pytest.fixture(autouse=True)
def _fresh_register():
    cache.clear()


@pytest.fixture
def members(lempaala, borga, terms):
    """Lempäälä under the terms since its old contract ended, Borgå still on its contract,
    a new service provider under the terms, and a test organisation (never listed)."""
    LegacyContractFactory(organisation=lempaala, signed_on=date(2018, 2, 1))
    TermsAcceptanceFactory(
        organisation=lempaala,
        terms_version=terms,
        accepted_at=timezone.now().replace(year=2024, month=3, day=1),
    )
    lempaala.membership = "terms_accepted"
    lempaala.sectors = ["basic", "general_upper_secondary"]
    lempaala.save()
    LegacyContractFactory(organisation=borga)
    TermsAcceptanceFactory(
        organisation=OrganisationFactory(
            name_fi="Oppimisalusta Oy", name_sv="", kind="both", membership="terms_accepted"
        ),
        terms_version=terms,
    )
    OrganisationFactory(oid="1.2.246.562.99.10000000002", membership="terms_accepted")
    return lempaala, borga


def get_json(client, **headers):
    return client.get("/api/members.json", headers=headers)


def test_the_json_is_the_register_as_its_schema_says(client, members):
    response = get_json(client)

    assert response.status_code == 200
    assert response["Content-Type"] == "application/json"
    document = response.json()
    jsonschema.validate(document, SCHEMA, format_checker=jsonschema.FormatChecker())
    assert document["count"] == len(document["members"]) == 3
    lempaala = next(m for m in document["members"] if m["oid"] == members[0].oid)
    assert lempaala == {
        "oid": "1.2.246.562.10.74484103937",
        "name": {"fi": "Lempäälän kunta", "sv": "Lembois kommun", "en": "Municipality of Lempäälä"},
        "kind": "education_provider",
        "sectors": ["basic", "general_upper_secondary"],
        "basis": "terms",
        "member_since": "2018-02-01",
        "in_force_from": "2024-08-01",
        "terms_version": "2024-1",
    }
    borga = next(m for m in document["members"] if m["oid"] == members[1].oid)
    assert (borga["basis"], borga["in_force_from"], borga["terms_version"]) == (
        "contract",
        None,
        None,
    )


def test_the_schema_refuses_what_the_register_never_says(client, members):
    document = get_json(client).json()
    document["members"][0]["basis"] = "lapsed"

    with pytest.raises(jsonschema.ValidationError):
        jsonschema.validate(document, SCHEMA)


def test_the_api_page_documents_the_fields_and_links_the_schema(client):
    page = client.get("/en/api/").content.decode()

    for field in ("generated_at", "in_force_from", "terms_version", "member_since"):
        assert f"<code>{field}</code>" in page
    assert 'href="/api/members.schema.json"' in page
    schema = client.get("/api/members.schema.json")
    assert json.loads(schema.content) == SCHEMA


def test_programs_may_read_it_from_anywhere_and_keep_it_five_minutes(client, members):
    response = get_json(client)

    assert response["Access-Control-Allow-Origin"] == "*"
    assert response["Cache-Control"] in ("public, max-age=300", "max-age=300, public")
    assert response["ETag"].startswith('"') and response["Last-Modified"]
    assert client.post("/api/members.json").status_code == 405


@pytest.mark.parametrize("path", ["/api/members.json", "/api/members.csv"])
def test_an_unchanged_register_answers_304_to_its_etag(client, members, path):
    etag = client.get(path)["ETag"]

    again = client.get(path, headers={"If-None-Match": etag})

    assert again.status_code == 304
    assert again.content == b""
    assert again["ETag"] == etag
    assert again["Access-Control-Allow-Origin"] == "*"


@pytest.mark.parametrize("path", ["/api/members.json", "/api/members.csv"])
def test_an_unchanged_register_answers_304_to_its_date(client, members, path):
    last_modified = client.get(path)["Last-Modified"]

    again = client.get(path, headers={"If-Modified-Since": last_modified})

    assert again.status_code == 304
    assert again.content == b""


def test_one_who_chose_swedish_on_the_site_gets_the_same_address(client, members):
    client.cookies["django_language"] = "sv"

    assert get_json(client).status_code == 200


def test_the_json_and_the_csv_have_their_own_etags(client, members):
    assert get_json(client)["ETag"] != client.get("/api/members.csv")["ETag"]


def test_it_is_built_once_per_change_not_per_request(
    client, members, django_assert_num_queries, django_assert_max_num_queries
):
    with django_assert_max_num_queries(3):
        first = get_json(client)
    with django_assert_num_queries(0):
        second = get_json(client)
        client.get("/api/members.csv")

    assert second.content == first.content


def test_an_acceptance_rebuilds_the_register_once_it_commits(
    client, borga, terms, charlie, django_capture_on_commit_callbacks
):
    LegacyContractFactory(organisation=borga)
    before = get_json(client)
    registration = notification(terms)

    with django_capture_on_commit_callbacks(execute=True) as callbacks:
        services.registration_approve(registration_id=registration.pk, reviewer=charlie)
        assert get_json(client).content == before.content  # not before it commits

    assert callbacks
    after = get_json(client, **{"If-None-Match": before["ETag"]})
    assert after.status_code == 200
    oids = [m["oid"] for m in after.json()["members"]]
    assert "1.2.246.562.10.74484103937" in oids
    assert after["ETag"] != before["ETag"]


def test_a_lapse_rebuilds_the_register_once_it_commits(
    client, lempaala, borga, terms, django_capture_on_commit_callbacks
):
    deadline = timezone.localdate() + timedelta(days=30)
    campaign = launched_campaign(terms, deadline=deadline)
    before = get_json(client)
    assert before.json()["count"] == 2

    with django_capture_on_commit_callbacks(execute=True):
        campaign_lapse(campaign_id=campaign.pk, today=deadline + timedelta(days=1))

    after = get_json(client, **{"If-None-Match": before["ETag"]})
    assert after.status_code == 200
    assert after.json()["count"] == 0


def test_a_member_comes_under_the_terms_on_its_day_without_a_write(
    client, lempaala, terms, monkeypatch
):
    ends_on = timezone.localdate() + timedelta(days=10)
    LegacyContractFactory(organisation=lempaala, ends_on=ends_on)
    TermsAcceptanceFactory(organisation=lempaala, terms_version=terms)
    before = get_json(client)
    assert before.json()["members"][0]["basis"] == "contract"

    monkeypatch.setattr(timezone, "localdate", lambda *args, **kwargs: ends_on)
    after = get_json(client, **{"If-Modified-Since": before["Last-Modified"]})

    assert after.status_code == 200
    assert after.json()["members"][0]["basis"] == "terms"


def read_csv(response) -> list[list[str]]:
    body = response.content.decode("utf-8")
    assert body.startswith("\ufeff")
    return list(csv.reader(io.StringIO(body[1:]), delimiter=";"))


def test_the_csv_has_the_json_columns_with_a_bom(client, members):
    response = client.get("/api/members.csv")

    assert response["Content-Type"] == "text/csv; charset=utf-8"
    header, *rows = read_csv(response)
    assert header == register.CSV_COLUMNS
    lempaala = next(row for row in rows if row[0] == members[0].oid)
    assert lempaala == [
        "1.2.246.562.10.74484103937",
        "Lempäälän kunta",
        "Lembois kommun",
        "Municipality of Lempäälä",
        "education_provider",
        "basic,general_upper_secondary",
        "terms",
        "2018-02-01",
        "2024-08-01",
        "2024-1",
    ]


@pytest.mark.parametrize(
    "name", ['=HYPERLINK("http://x")', "+1+1", "-2", "@SUM(A1)", "\t=1", "\r=1"]
)
def test_csv_cells_never_run_as_formulas(client, name):
    OrganisationFactory(name_fi="Koulu", name_sv=name, membership="legacy_contract")

    _header, row = read_csv(client.get("/api/members.csv"))

    assert row[2] == f"'{name}"


@pytest.mark.parametrize("path", ["/api/members.json", "/api/members.csv"])
def test_a_client_that_takes_gzip_gets_the_same_body_compressed(client, members, path):
    plain = client.get(path)
    compressed = client.get(path, headers={"Accept-Encoding": "gzip, deflate, br"})

    assert "Content-Encoding" not in plain
    assert compressed["Content-Encoding"] == "gzip"
    assert gzip.decompress(compressed.content) == plain.content
    assert compressed["Content-Type"] == plain["Content-Type"]
    for response in (plain, compressed):
        assert "Accept-Encoding" in response["Vary"]
    # Each body its own ETag, so that a cache never answers one with the other.
    assert compressed["ETag"] != plain["ETag"]
    again = client.get(
        path, headers={"Accept-Encoding": "gzip", "If-None-Match": compressed["ETag"]}
    )
    assert (again.status_code, again.content) == (304, b"")
    assert "Accept-Encoding" in again["Vary"]
    assert client.get(path, headers={"If-None-Match": compressed["ETag"]}).status_code == 200

"""The client of OPH's organisation service reads every shape of answer the service has given,
and tells a failure from "not found"; it names itself and keeps answers for a few minutes."""

from __future__ import annotations

import time
from datetime import date

import pytest

from onboarding.organisation_registry import (
    CouldNotAsk,
    LookupFailure,
    NotFound,
    RegistryOrganisation,
    lookup,
)
from tests.registry.recorded import (
    HELSINKI,
    LEMPAALA,
    LEMPAALA_SCHOOL,
    ROOT,
    UNKNOWN,
    current,
    older,
)


def test_a_current_answer_is_read_whole(registry):
    registry.answers(LEMPAALA, current())
    assert lookup(LEMPAALA) == RegistryOrganisation(
        oid=LEMPAALA,
        names={"fi": "Lempäälän kunta", "sv": "Lembois kommun", "en": "Municipality of Lempäälä"},
        business_id="0150783-1",
        types=("education_provider", "municipality"),
        status="AKTIIVINEN",
        closed_on=None,
        parent_oids=(ROOT,),
    )
    assert registry.asked == [f"/organisaatio-service/api/{LEMPAALA}"]


def test_every_request_names_the_portal_as_its_caller(registry, settings):
    registry.answers(LEMPAALA, current())
    lookup(LEMPAALA)
    assert registry.headers()["Caller-Id"] == "1.2.246.562.10.00000000001.mpassid-portal"
    settings.ORGANISATION_SERVICE_CALLER_ID = "1.2.246.562.10.00000000001.mpassid-portal-qa"
    lookup(LEMPAALA, fresh=True)
    assert registry.headers(1)["Caller-Id"] == "1.2.246.562.10.00000000001.mpassid-portal-qa"


def test_an_older_answer_gives_the_same_values(registry):
    registry.answers(LEMPAALA_SCHOOL, older())
    school = lookup(LEMPAALA_SCHOOL)
    assert school.names == {"fi": "Lempäälän lukio"}  # sv and en missing
    assert school.business_id == ""  # a school has none
    assert school.types == ("institution", "office")
    assert school.status == ""  # no status in the answer
    assert school.closed_on == date(2024, 7, 31)  # midnight in Finland, not the UTC day before
    assert school.parent_oids == (ROOT, LEMPAALA)
    assert school.is_closed


@pytest.mark.parametrize(
    ("written", "read"),
    [
        (["organisaatiotyyppi_01"], ("education_provider",)),
        (["organisaatiotyyppi_02#1", "Oppilaitos"], ("institution",)),  # one value, once
        (["Koulutustoimija"], ("education_provider",)),
        (["organisaatiotyyppi_07", "Varhaiskasvatuksen järjestäjä"], ("early_education_provider",)),
        (["organisaatiotyyppi_08"], ("early_education_unit",)),
        (["organisaatiotyyppi_05", "Muu organisaatio"], ("other",)),
        (["Kunta", "organisaatiotyyppi_09"], ("municipality",)),
        (["organisaatiotyyppi_42"], ("organisaatiotyyppi_42",)),  # unknown: kept as written
        ([], ()),
    ],
)
def test_types_written_as_koodi_uris_or_names_are_one_set_of_values(registry, written, read):
    registry.answers(LEMPAALA, current(tyypit=written))
    assert lookup(LEMPAALA).types == read


@pytest.mark.parametrize(
    ("written", "day"),
    [
        ("2024-07-31", date(2024, 7, 31)),
        ("2024-07-31T00:00:00.000+03:00", date(2024, 7, 31)),
        (1722373200000, date(2024, 7, 31)),
        ("1722373200000", date(2024, 7, 31)),
        (None, None),
        (..., None),  # absent
    ],
)
def test_a_closing_date_as_iso_or_epoch_milliseconds(registry, written, day):
    registry.answers(LEMPAALA, current(lakkautusPvm=written))
    assert lookup(LEMPAALA).closed_on == day


@pytest.mark.parametrize(
    ("path", "parents"),
    [
        (f"|{ROOT}|", (ROOT,)),
        (f"|{ROOT}|{LEMPAALA}|", (ROOT, LEMPAALA)),
        (f"{ROOT}/{LEMPAALA}", (ROOT, LEMPAALA)),
        (f"{ROOT}/{LEMPAALA}/{HELSINKI}", (ROOT, LEMPAALA)),  # itself left out
        (f"{LEMPAALA}/{ROOT}", (ROOT, LEMPAALA)),  # written from the organisation up
        ("", ()),
    ],
)
def test_parent_oids_pipe_or_slash_delimited_root_first(registry, path, parents):
    registry.answers(HELSINKI, current(oid=HELSINKI, parentOidPath=path))
    assert lookup(HELSINKI).parent_oids == parents


@pytest.mark.parametrize(
    "status", ["AKTIIVINEN", "SUUNNITELTU", "PASSIIVINEN", "POISTETTU", None, ...]
)
def test_every_status_and_none(registry, status):
    registry.answers(LEMPAALA, current(status=status))
    found = lookup(LEMPAALA)
    assert found.status == (status if isinstance(status, str) else "")
    assert found.is_closed == (status in ("PASSIIVINEN", "POISTETTU"))


def test_a_closing_date_still_ahead_is_not_closed_yet(registry):
    registry.answers(LEMPAALA, current(lakkautusPvm="2999-12-31"))
    assert lookup(LEMPAALA).is_closed is False


def test_an_unknown_oid_answering_null_with_200_is_not_found(registry):
    registry.answers(UNKNOWN, None)
    assert lookup(UNKNOWN) == NotFound(UNKNOWN)


def test_a_404_is_not_found(registry):
    registry.fails(UNKNOWN, 404, "Not Found")
    assert lookup(UNKNOWN) == NotFound(UNKNOWN)


@pytest.mark.parametrize(
    ("status", "failure"),
    [(500, LookupFailure.SERVER_ERROR), (503, LookupFailure.SERVER_ERROR)]
    + [(401, LookupFailure.BAD_ANSWER), (302, LookupFailure.BAD_ANSWER)],
)
def test_an_error_status_is_could_not_ask(registry, status, failure):
    registry.fails(LEMPAALA, status, "<html>Virhe</html>")
    answer = lookup(LEMPAALA)
    assert isinstance(answer, CouldNotAsk)
    assert (answer.failure, answer.detail) == (failure, f"HTTP {status}")


@pytest.mark.parametrize(
    "body",
    [
        '{"oid": "1.2.246.562.10.74484103937", "nimi": ',  # cut short
        "<html><body>Palvelukatko</body></html>",
        "[]",
        '"1.2.246.562.10.74484103937"',
        '{"oid": "1.2.246.562.10.10000000001"}',  # about another organisation
        '{"nimi": {"fi": "Lempäälän kunta"}}',  # about nobody
        '{"oid": "1.2.246.562.10.74484103937", "nimi": "Lempäälän kunta"}',
        '{"oid": "1.2.246.562.10.74484103937", "tyypit": "organisaatiotyyppi_01"}',
        '{"oid": "1.2.246.562.10.74484103937", "ytunnus": 150783}',
        '{"oid": "1.2.246.562.10.74484103937", "lakkautusPvm": "31.7.2024"}',
        '{"oid": "1.2.246.562.10.74484103937", "status": "<script>"}',
    ],
)
def test_a_malformed_or_unexpected_answer_is_could_not_ask(registry, body):
    registry.says(LEMPAALA, body)
    answer = lookup(LEMPAALA)
    assert isinstance(answer, CouldNotAsk)
    assert answer.failure == LookupFailure.BAD_ANSWER
    assert answer.reason == "OPH's organisation service gave an answer the portal cannot read."


def test_a_slow_answer_past_the_timeout_is_could_not_ask(registry):
    registry.is_slow(LEMPAALA, current())
    started = time.monotonic()
    answer = lookup(LEMPAALA)
    assert time.monotonic() - started < 1.2  # the timeout is 0.5 s, the answer takes 1.5 s
    assert isinstance(answer, CouldNotAsk) and answer.failure == LookupFailure.TIMEOUT
    assert answer.reason == "OPH's organisation service did not answer in time."


def test_a_refused_connection_is_could_not_ask(refused):
    answer = lookup(LEMPAALA)
    assert isinstance(answer, CouldNotAsk) and answer.failure == LookupFailure.UNREACHABLE
    assert answer.reason == "OPH's organisation service could not be reached."


def test_with_lookups_off_nothing_is_asked(registry, settings):
    settings.ORGANISATION_SERVICE_URL = ""
    answer = lookup(LEMPAALA)
    assert answer == CouldNotAsk(LEMPAALA, LookupFailure.OFF)
    assert answer.reason == "Lookups in OPH's organisation service are off."
    assert registry.asked == []


def test_an_answer_is_kept_for_minutes_unless_a_fresh_one_is_asked_for(registry):
    registry.answers(LEMPAALA, current())
    registry.answers(UNKNOWN, None)
    assert lookup(LEMPAALA) == lookup(LEMPAALA)
    assert lookup(UNKNOWN) == lookup(UNKNOWN) == NotFound(UNKNOWN)  # not found is kept too
    assert len(registry.asked) == 2
    lookup(LEMPAALA, fresh=True)
    assert len(registry.asked) == 3


def test_a_failure_is_never_kept(registry):
    registry.fails(LEMPAALA, 503)
    assert isinstance(lookup(LEMPAALA), CouldNotAsk)
    registry.server.clear_all_handlers()
    registry.answers(LEMPAALA, current())
    assert isinstance(lookup(LEMPAALA), RegistryOrganisation)
    assert len(registry.asked) == 2


def test_the_cache_ends_after_its_time(registry, settings):
    settings.ORGANISATION_SERVICE_CACHE_SECONDS = 1
    registry.answers(LEMPAALA, current())
    lookup(LEMPAALA)
    time.sleep(1.1)
    lookup(LEMPAALA)
    assert len(registry.asked) == 2


def test_the_reason_is_in_the_readers_language():
    from django.utils import translation

    failure = CouldNotAsk(LEMPAALA, LookupFailure.TIMEOUT)
    with translation.override("fi"):
        in_finnish = failure.reason
    assert isinstance(in_finnish, str) and in_finnish

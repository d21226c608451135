"""`manage.py lookup_organisation OID` prints what the registry says, or one line saying why
it cannot, and exits non-zero; a malformed OID is refused before anything is asked."""

from __future__ import annotations

import os
import subprocess
import sys
from io import StringIO
from pathlib import Path

import pytest
from django.core.management import CommandError, call_command

from tests.registry.recorded import LEMPAALA, LEMPAALA_SCHOOL, UNKNOWN, current, older

ROOT = Path(__file__).resolve().parents[2]


def lookup_organisation(oid: str) -> str:
    out = StringIO()
    call_command("lookup_organisation", oid, stdout=out)
    return out.getvalue()


def manage(*args: str, url: str) -> subprocess.CompletedProcess:
    """The command as staff run it, in a process of its own."""
    env = {
        "PATH": os.environ["PATH"],
        "HOME": os.environ.get("HOME", "/tmp"),
        "DJANGO_SETTINGS_MODULE": "tests.settings",
        "ORGANISATION_SERVICE_URL": url,
        "ORGANISATION_SERVICE_TIMEOUT": "2",
    }
    return subprocess.run(
        [sys.executable, "manage.py", *args],
        cwd=ROOT,
        env=env,
        capture_output=True,
        text=True,
        timeout=60,
    )


def test_it_prints_what_the_registry_says(registry):
    registry.answers(LEMPAALA, current(lakkautusPvm="2025-12-31", status="PASSIIVINEN"))
    output = lookup_organisation(LEMPAALA)
    assert output.splitlines() == [
        f"OID: {LEMPAALA}",
        "Name (fi): Lempäälän kunta",
        "Name (sv): Lembois kommun",
        "Name (en): Municipality of Lempäälä",
        "Business ID: 0150783-1",
        "Types: Education provider, Municipality",
        "Status: PASSIIVINEN (Passive)",
        "Closing date: 2025-12-31",
        "Parent OIDs: 1.2.246.562.10.00000000001",
    ]


def test_what_the_registry_leaves_out_is_shown_as_a_dash(registry):
    registry.answers(LEMPAALA_SCHOOL, older(lakkautusPvm=None, ytunnus="1234567-8"))
    output = lookup_organisation(LEMPAALA_SCHOOL)
    assert "Name (sv): –" in output and "Status: –" in output and "Closing date: –" in output
    assert "Business ID: 1234567-8 (the registry's; it fails the business ID check)" in output
    assert "Types: Educational institution, Office" in output


def test_a_malformed_oid_is_one_line_without_asking(registry):
    with pytest.raises(CommandError) as error:
        lookup_organisation("1.2.246.562.10.7448410393")
    assert str(error.value) == (
        "An organisation OID has 11 digits after 1.2.246.562.10. (or 12 ending in 10, or 20 or "
        "more); this one has 10. Check for a missing or doubled digit."
    )
    assert registry.asked == []


def test_not_found_exits_non_zero_with_one_line_and_no_traceback(registry):
    registry.answers(UNKNOWN, None)
    result = manage("lookup_organisation", UNKNOWN, url=registry.url)
    assert result.returncode != 0
    assert result.stderr.strip().splitlines() == [
        f"CommandError: {UNKNOWN} is not in OPH's organisation registry."
    ]
    assert result.stdout == ""


def test_a_malformed_oid_exits_non_zero_in_one_line(registry):
    result = manage("lookup_organisation", "1.2.246.562.10.12a", url=registry.url)
    assert result.returncode != 0
    assert result.stderr.strip().splitlines() == [
        "CommandError: After 1.2.246.562.10. the identifier may contain only digits."
    ]


@pytest.mark.parametrize(
    ("status", "reason"),
    [
        (500, "OPH's organisation service had an error. (HTTP 500)"),
        (403, "OPH's organisation service gave an answer the portal cannot read. (HTTP 403)"),
    ],
)
def test_the_service_failing_is_one_line(registry, status, reason):
    registry.fails(LEMPAALA, status)
    with pytest.raises(CommandError) as error:
        lookup_organisation(LEMPAALA)
    assert str(error.value) == reason


def test_a_bad_answer_is_one_line(registry):
    registry.says(LEMPAALA, "{oops")
    with pytest.raises(CommandError) as error:
        lookup_organisation(LEMPAALA)
    assert str(error.value).startswith(
        "OPH's organisation service gave an answer the portal cannot read."
    )
    assert "\n" not in str(error.value)


def test_a_timeout_is_one_line(registry):
    registry.is_slow(LEMPAALA, current())
    with pytest.raises(CommandError) as error:
        lookup_organisation(LEMPAALA)
    assert str(error.value) == "OPH's organisation service did not answer in time. (ReadTimeout)"


def test_the_service_down_exits_non_zero_in_one_line(refused):
    result = manage("lookup_organisation", LEMPAALA, url=refused)
    assert result.returncode != 0
    [line] = result.stderr.strip().splitlines()
    assert line.startswith("CommandError: OPH's organisation service could not be reached.")


def test_with_lookups_off_it_says_so(lookups_off):
    with pytest.raises(CommandError) as error:
        lookup_organisation(LEMPAALA)
    assert str(error.value) == "Lookups in OPH's organisation service are off."


def test_it_stores_nothing(registry, django_assert_num_queries, db):
    registry.answers(LEMPAALA, current())
    with django_assert_num_queries(0):
        lookup_organisation(LEMPAALA)

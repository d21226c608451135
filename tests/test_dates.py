"""Dates and times as each language writes them, on pages and in emails alike."""

from __future__ import annotations

import re
from datetime import date, datetime
from pathlib import Path
from zoneinfo import ZoneInfo

import pytest
from django.template import Context, Template
from django.utils import translation

HELSINKI = ZoneInfo("Europe/Helsinki")
MOMENT = datetime(2026, 11, 26, 22, 48, tzinfo=HELSINKI)


def rendered(source: str, language: str, **context) -> str:
    with translation.override(language):
        return Template(source).render(Context(context))


@pytest.mark.parametrize(
    ("language", "expected"),
    [
        ("fi", "26.11.2026 klo 22.48"),
        ("sv", "26.11.2026 kl. 22.48"),
        ("en", "26 November 2026, 22:48"),
    ],
)
def test_a_moment_reads_as_the_language_writes_it(language, expected):
    assert rendered('{{ when|date:"DATETIME_FORMAT" }}', language, when=MOMENT) == expected
    assert rendered('{{ when|date:"SHORT_DATETIME_FORMAT" }}', language, when=MOMENT) == expected


@pytest.mark.parametrize(
    ("language", "expected"),
    [("fi", "1.8.2024"), ("sv", "1.8.2024"), ("en", "1 August 2024")],
)
def test_a_day_reads_as_the_language_writes_it(language, expected):
    assert rendered("{{ day|date }}", language, day=date(2024, 8, 1)) == expected


def test_a_morning_hour_has_no_leading_zero_in_finnish():
    morning = datetime(2026, 3, 2, 9, 5, tzinfo=HELSINKI)
    assert rendered('{{ when|date:"DATETIME_FORMAT" }}', "fi", when=morning) == "2.3.2026 klo 9.05"


def test_no_template_spells_out_a_date_format():
    """Formats come from portal/formats/ only; `|date:"j.n.Y"` in a template is a defect."""
    own_format = re.compile(r'\|date:"(?![A-Z_]+_FORMAT")')
    root = Path(__file__).resolve().parent.parent / "templates"
    found = [str(path) for path in root.rglob("*.*") if own_format.search(path.read_text())]
    assert not found, f"templates with a date format of their own: {found}"

from __future__ import annotations

from datetime import date

import pytest
from django.urls import reverse

pytestmark = pytest.mark.django_db


@pytest.mark.parametrize(
    ("prefix", "heading", "lang"),
    [
        ("", "Liittyminen MPASSidiin", "fi"),
        ("/sv", "Anslutning till MPASSid", "sv"),
        ("/en", "Joining MPASSid", "en"),
    ],
)
def test_the_start_page_speaks_finnish_by_default_and_swedish_and_english_on_request(
    client, prefix, heading, lang
):
    response = client.get(f"{prefix}/")
    page = response.content.decode()
    assert response.status_code == 200
    assert f'<html lang="{lang}">' in page
    assert f"<h1>{heading}</h1>" in page
    assert "mpass@oph.fi" in page


@pytest.mark.parametrize(
    ("prefix", "written"),
    [("", "31.7.2025"), ("/sv", "31.7.2025"), ("/en", "the old agreements ended on 31 July 2025.")],
)
def test_the_start_page_says_when_the_old_agreements_ended_as_the_settings_say(
    client, settings, prefix, written
):
    settings.LEGACY_CONTRACTS_END = date(2025, 7, 31)
    page = client.get(f"{prefix}/").content.decode()
    assert written in page
    assert "2024" not in page


def test_the_language_switcher_remembers_the_choice(client):
    response = client.post(reverse("set_language"), {"language": "sv", "next": "/"})
    assert response.status_code == 302
    assert response["Location"] == "/sv/"
    assert client.cookies["django_language"].value == "sv"


def test_every_page_has_a_skip_link_and_a_main_landmark(client):
    page = client.get("/").content.decode()
    assert 'href="#main"' in page
    assert '<main id="main"' in page

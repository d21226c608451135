"""The language switcher takes a person to the same page in the chosen language, from any
page and any language, and the choice is remembered for addresses without a prefix."""

from __future__ import annotations

import re

import pytest
from django.conf import settings

pytestmark = pytest.mark.django_db

PREFIX = {"fi": "", "sv": "/sv", "en": "/en"}
NEXT = re.compile(r'name="next" type="hidden" value="([^"]*)"')


def switch(client, page: str, language: str):
    """Press the language's button on `page`, as the browser would post it."""
    html = client.get(page).content.decode()
    languages = re.findall(r'name="language" value="(\w+)"', html)
    forms = dict(zip(languages, NEXT.findall(html), strict=True))
    return client.post("/i18n/setlang/", {"language": language, "next": forms[language]})


@pytest.mark.parametrize("start", ["fi", "sv", "en"])
@pytest.mark.parametrize("target", ["fi", "sv", "en"])
def test_every_language_leads_to_the_same_page_in_every_other(client, start, target):
    response = switch(client, f"{PREFIX[start]}/terms/?from=here", target)
    assert response.status_code == 302
    assert response["Location"] == f"{PREFIX[target]}/terms/?from=here"
    assert response.cookies[settings.LANGUAGE_COOKIE_NAME].value == target


@pytest.mark.parametrize(
    "page",
    ["/accounts/login/?next=/sv/notify/", "/accounts/login/code/", "/no/such/"],
)
def test_sign_in_and_missing_pages_switch_too(client, page):
    response = switch(client, f"/sv{page}", "en")
    assert response["Location"] == f"/en{page}"
    response = switch(client, f"/en{page}", "fi")
    assert response["Location"] == page


def test_a_chosen_language_is_remembered_for_addresses_without_a_prefix(client):
    switch(client, "/terms/", "sv")
    response = client.get("/organisations/?page=2")
    assert response.status_code == 302
    assert response["Location"] == "/sv/organisations/?page=2"
    assert "Cookie" in response["Vary"]


def test_choosing_finnish_again_sticks(client):
    switch(client, "/terms/", "en")
    switch(client, "/en/terms/", "fi")
    assert client.get("/terms/").status_code == 200


def test_a_prefixed_address_is_obeyed_whatever_was_chosen(client):
    switch(client, "/terms/", "en")
    page = client.get("/sv/terms/")
    assert page.status_code == 200
    assert '<html lang="sv">' in page.content.decode()


def test_the_current_language_is_marked_for_assistive_technology(client):
    html = client.get("/en/terms/").content.decode()
    assert re.search(r'value="en" lang="en"\s+aria-current="true"', html)
    assert not re.search(r'value="fi" lang="fi"\s+aria-current', html)


def test_the_admin_switches_too(admin_client):
    page = "/admin/onboarding/organisation/?q=koulu"
    response = switch(admin_client, f"/sv{page}", "en")
    assert response["Location"] == f"/en{page}"
    assert switch(admin_client, f"/en{page}", "fi")["Location"] == page

"""The language switcher in a real browser: from every language to every other, the same page
(its query string kept), and the choice remembered."""

from __future__ import annotations

import pytest
from playwright.sync_api import Page, expect

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]

PREFIX = {"fi": "", "sv": "/sv", "en": "/en"}
NAME = {"fi": "Suomi", "sv": "Svenska", "en": "English"}


@pytest.mark.parametrize("start", ["fi", "sv", "en"])
def test_the_switcher_leads_from_each_language_to_each_other(live_server, page: Page, start, terms):
    for target in ("fi", "sv", "en"):
        page.goto(f"{live_server.url}{PREFIX[start]}/accounts/login/?next=/notify/")
        page.get_by_role("button", name=NAME[target]).click()
        expect(page).to_have_url(f"{live_server.url}{PREFIX[target]}/accounts/login/?next=/notify/")
        expect(page.locator("html")).to_have_attribute("lang", target)


def test_the_choice_is_remembered_on_addresses_without_a_language(live_server, page: Page, terms):
    page.goto(f"{live_server.url}/terms/")
    page.get_by_role("button", name="Svenska").click()
    page.goto(f"{live_server.url}/")
    expect(page).to_have_url(f"{live_server.url}/sv/")
    expect(page.locator("html")).to_have_attribute("lang", "sv")
    page.get_by_role("button", name="Suomi").click()
    page.goto(f"{live_server.url}/terms/")
    expect(page).to_have_url(f"{live_server.url}/terms/")
    expect(page.locator("html")).to_have_attribute("lang", "fi")

"""The member register in a browser on a small phone (375 px), in Finnish: nothing scrolls
sideways, each member is a card with its columns labelled, and searching, filtering, sorting
and paging work by links and a form, without JavaScript."""

from __future__ import annotations

import pytest
from axe_playwright_python.sync_playwright import Axe
from django.core.cache import cache
from playwright.sync_api import Page, expect

from tests.factories import LegacyContractFactory, OrganisationFactory, TermsAcceptanceFactory

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]

PHONE = {"width": 375, "height": 800}
WCAG_AA = {"runOnly": {"type": "tag", "values": ["wcag2a", "wcag2aa", "wcag21a", "wcag21aa"]}}
LONG_NAME = "Pohjois-Pohjanmaan ammatillisen koulutuksen kuntayhtymä"


@pytest.fixture
def members(terms):
    cache.clear()
    long = OrganisationFactory(
        name_fi=LONG_NAME, sectors=["vocational", "liberal_adult"], membership="terms_accepted"
    )
    TermsAcceptanceFactory(organisation=long, terms_version=terms)
    for n in range(52):
        organisation = OrganisationFactory(
            name_fi=f"Koulutuskuntayhtymä {n:02d}", membership="legacy_contract"
        )
        LegacyContractFactory(organisation=organisation)
    OrganisationFactory(
        name_fi="Oppimisalusta Oy", kind="service_provider", membership="legacy_contract"
    )
    return long


def assert_fits(page: Page, what: str) -> None:
    width = page.evaluate("document.documentElement.scrollWidth")
    assert width <= PHONE["width"], f"{what} is {width} px wide"


@pytest.fixture
def phone(page: Page) -> Page:
    page.set_viewport_size(PHONE)
    return page


def test_the_register_fits_a_phone_in_finnish(live_server, phone: Page, members):
    phone.goto(f"{live_server.url}/members/")

    expect(phone.locator("html")).to_have_attribute("lang", "fi")
    assert_fits(phone, "the register")
    for cell in phone.locator("table.register-table td").all():
        assert cell.get_attribute("data-label")
        assert cell.evaluate("e => getComputedStyle(e).display") == "block"
    first = phone.locator("table.register-table tbody tr").first
    expect(first.locator("th[scope=row]")).to_have_text("Koulutuskuntayhtymä 00")
    results = Axe().run(phone, options=WCAG_AA)
    assert results.violations_count == 0, results.generate_report()


def test_search_filter_sort_and_pages_work_without_javascript(live_server, browser, members):
    context = browser.new_context(java_script_enabled=False, viewport=PHONE)
    page = context.new_page()
    page.goto(f"{live_server.url}/members/")

    page.locator("a[rel=next]").click()
    expect(page.locator("table.register-table tbody tr")).to_have_count(4)
    page.locator("input[name=q]").fill("pohjanmaan")
    page.locator("form.register-filters button[type=submit]").click()
    expect(page.locator("table.register-table tbody tr")).to_have_count(1)
    expect(page.locator("tbody th[scope=row]")).to_have_text([LONG_NAME])
    assert_fits(page, "a search")

    page.goto(f"{live_server.url}/members/")
    page.locator("select[name=kind]").select_option("service_provider")
    page.locator("form.register-filters button[type=submit]").click()
    expect(page.locator("tbody th[scope=row]")).to_have_text(["Oppimisalusta Oy"])

    page.goto(f"{live_server.url}/members/")  # on a phone, the order is a field of the form
    page.locator("select[name=sort]").select_option("-name")
    page.locator("form.register-filters button[type=submit]").click()
    expect(page.locator("tbody th[scope=row]").first).to_have_text(LONG_NAME)

    page.set_viewport_size({"width": 1280, "height": 800})  # on a wide screen, the heading
    page.goto(f"{live_server.url}/members/")
    page.locator("thead th").first.locator("a").click()  # by name, now the other way
    expect(page.locator("thead th").first).to_have_attribute("aria-sort", "descending")
    expect(page.locator("tbody th[scope=row]").first).to_have_text(LONG_NAME)
    context.close()

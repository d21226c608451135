"""At 375 px wide (a small phone) nothing scrolls sideways, in any language: the tables of
contacts, acceptances and facts reflow."""

from __future__ import annotations

import re

import pytest
from playwright.sync_api import Page, expect

from tests.factories import (
    ContactPersonFactory,
    OrganisationFactory,
    TermsAcceptanceFactory,
    verified_user,
)

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]

OID = "1.2.246.562.10.74484103937"
PHONE = {"width": 375, "height": 800}


WIDEST = """() => [...document.querySelectorAll("body *")]
    .filter(e => e.getBoundingClientRect().right > document.documentElement.clientWidth)
    .slice(-3).map(e => e.tagName + "." + e.className + ": " + e.textContent.slice(0, 40))"""


def assert_fits(page: Page, what: str) -> None:
    width = page.evaluate("document.documentElement.scrollWidth")
    assert width <= PHONE["width"], f"{what} is {width} px wide: {page.evaluate(WIDEST)}"


@pytest.fixture
def member(page: Page, sign_in, terms):
    """A contact of a member organisation with a long name, signed in on a phone."""
    organisation = OrganisationFactory(
        oid=OID,
        name_fi="Pohjois-Pohjanmaan ammatillisen koulutuksen kuntayhtymä",
        name_sv="Norra Österbottens samkommun för yrkesutbildning",
    )
    TermsAcceptanceFactory(organisation=organisation, terms_version=terms)
    for role, email in [
        ("administrative", "sivistysjohtaja.pitka-nimi@pohjois-pohjanmaan-kuntayhtyma.example"),
        ("technical", "tietohallinto.jarjestelmat@pohjois-pohjanmaan-kuntayhtyma.example"),
    ]:
        ContactPersonFactory(organisation=organisation, email=email, role=role)
    sign_in(verified_user("sivistysjohtaja.pitka-nimi@pohjois-pohjanmaan-kuntayhtyma.example"))
    page.set_viewport_size(PHONE)
    return organisation


@pytest.mark.parametrize("language", ["", "/sv", "/en"])
def test_no_page_scrolls_sideways_on_a_phone(live_server, page: Page, member, language):
    base = f"{live_server.url}{language}"
    for what, path in {
        "start page": "/",
        "terms": "/terms/",
        "privacy notice": "/privacy/",
        "accessibility statement": "/accessibility/",
        "my organisations": "/organisations/",
        "organisation": f"/organisations/{member.pk}/",
        "notification form": f"/notify/{OID}/",
    }.items():
        page.goto(f"{base}{path}")
        assert_fits(page, what)
        for cell in page.locator("table.table td").all():  # a card a row, each value labelled
            assert cell.get_attribute("data-label"), f"{what}: a cell without its column"
            assert cell.evaluate("e => getComputedStyle(e).display") == "block"

    page.goto(f"{base}/notify/{OID}/")
    page.locator("input[name=kind][value=education_provider]").check()
    page.locator("input[name=sectors][value=basic]").check()
    page.locator("input[name=learner_numbers_confirmed]").check()
    page.locator("form button[type=submit]:not([name])").last.click()
    expect(page.locator("h1")).to_have_count(1)
    assert "/check/" in page.url, page.locator("#error-summary").inner_text()
    assert_fits(page, "check your answers")


@pytest.mark.parametrize("language", ["", "/sv", "/en"])
def test_the_sign_in_pages_fit_a_phone(live_server, page: Page, language, terms):
    page.set_viewport_size(PHONE)
    base = f"{live_server.url}{language}"
    for path in ("/accounts/login/", "/accounts/login/code/"):
        page.goto(f"{base}{path}?next=/notify/")
        assert_fits(page, path)
    page.locator("input[name=email]").fill("uusi.henkilo.pitka-osoite@esimerkkikoulu.example")
    page.locator("form[action*='/login/code/'] button[type=submit]").click()
    expect(page).to_have_url(re.compile("/login/code/confirm/"))
    assert_fits(page, "enter the code")

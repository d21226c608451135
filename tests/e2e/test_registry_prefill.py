"""The notification form in a real browser with OPH's organisation registry answering on
loopback: the registry's names fill the form, its warning is read, and the page passes the
automatic WCAG checks."""

from __future__ import annotations

import pytest
from axe_playwright_python.sync_playwright import Axe
from django.core.cache import cache
from playwright.sync_api import Page, expect
from pytest_httpserver import HTTPServer

from tests.factories import LEMPAALA as OID
from tests.registry.recorded import current

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]

PREFIX = "/organisaatio-service"
WCAG_AA = {"runOnly": {"type": "tag", "values": ["wcag2a", "wcag2aa", "wcag21a", "wcag21aa"]}}


@pytest.fixture
def registry(httpserver: HTTPServer, settings) -> HTTPServer:
    settings.ORGANISATION_SERVICE_URL = httpserver.url_for(PREFIX)
    settings.ORGANISATION_SERVICE_TIMEOUT = 2
    cache.clear()
    yield httpserver
    cache.clear()


def test_a_passive_organisations_form_is_prefilled_and_warns(
    live_server, sign_in, alice, terms, registry
):
    registry.expect_request(f"{PREFIX}/api/{OID}").respond_with_json(
        current(status="PASSIIVINEN", ytunnus="0150783-2")
    )
    page: Page = sign_in(alice)
    page.goto(f"{live_server.url}/en/notify/{OID}/")

    expect(page.get_by_label("Name in Finnish")).to_have_value("Lempäälän kunta")
    expect(page.get_by_role("note")).to_contain_text("this organisation is passive")
    business_id = page.get_by_label("Business ID (Y-tunnus)")
    expect(business_id).to_have_value("")
    expect(business_id).to_have_accessible_description(
        "For example 0150783-1. In OPH's organisation service: 0150783-2"
    )
    results = Axe().run(page, options=WCAG_AA)
    assert results.violations_count == 0, results.generate_report()

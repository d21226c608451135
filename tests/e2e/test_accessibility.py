"""The screens people use, checked in the browser by axe-core against WCAG 2.1 A and AA: the
rules a machine can check (contrast, names, labels, landmarks, language). What only people can
judge (plain language, sensible focus order) is not claimed here."""

from __future__ import annotations

import re

import pytest
from axe_playwright_python.sync_playwright import Axe
from playwright.sync_api import Page

from onboarding.models import Registration
from tests.factories import LEMPAALA as OID
from tests.factories import TermsAcceptanceFactory, notification

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]

WCAG_AA = {"runOnly": {"type": "tag", "values": ["wcag2a", "wcag2aa", "wcag21a", "wcag21aa"]}}


def assert_accessible(page: Page, what: str) -> None:
    results = Axe().run(page, options=WCAG_AA)
    assert results.violations_count == 0, f"{what}:\n{results.generate_report()}"


@pytest.fixture
def signed_in(sign_in, terms, lempaala, alice):
    """alice, a contact of Lempäälä (which has accepted the terms), signed in in the browser."""
    TermsAcceptanceFactory(organisation=lempaala, terms_version=terms)
    sign_in(alice)
    return lempaala, alice


@pytest.mark.parametrize("language", ["", "/sv", "/en"])
def test_the_public_pages_pass_the_automatic_wcag_checks(live_server, page: Page, language, terms):
    for path in (
        "/",
        "/terms/",
        "/privacy/",
        "/accessibility/",
        "/accounts/login/",
        "/accounts/login/code/",
    ):
        page.goto(f"{live_server.url}{language}{path}")
        assert_accessible(page, f"{language}{path}")


def test_a_sign_in_with_an_error_passes_them_too(live_server, page: Page):
    page.goto(f"{live_server.url}/en/accounts/login/")
    page.get_by_label("Your work email address").fill("not an address")
    page.get_by_role("button", name="Send me a sign-in code").click()
    assert page.locator("#error-summary").is_visible()
    assert_accessible(page, "sign-up with an error")


def test_the_signed_in_screens_pass_the_automatic_wcag_checks(live_server, page: Page, signed_in):
    organisation, user = signed_in
    # An earlier notification, already decided: the form for OID is open to a new one.
    registration = notification(None, user=user)
    Registration.objects.filter(pk=registration.pk).update(status=Registration.Status.APPROVED)
    base = f"{live_server.url}/en"
    screens = {
        "my organisations": "/organisations/",
        "the organisation": f"/organisations/{organisation.pk}/",
        "a notification": f"/registrations/{registration.pk}/",
        "the OID step": "/notify/",
        "the form": f"/notify/{OID}/",
    }
    for what, path in screens.items():
        page.goto(f"{base}{path}")
        assert_accessible(page, what)

    page.goto(f"{base}/notify/{OID}/")
    page.get_by_label("Business ID (Y-tunnus)").fill("0150783-2")
    page.get_by_role("button", name="Continue to check your answers").click()
    assert page.locator("#error-summary").is_visible()
    assert_accessible(page, "the form with errors")

    page.get_by_label("Business ID (Y-tunnus)").fill("0150783-1")
    page.get_by_label("Education provider", exact=True).check()
    page.get_by_label("Basic education", exact=True).check()
    page.get_by_label(re.compile("personal credentials and a learner number")).check()
    page.get_by_role("button", name="Continue to check your answers").click()
    heading = page.get_by_role("heading", name="Check your answers before sending")
    assert heading.is_visible(), page.locator("#error-summary").inner_text()
    assert_accessible(page, "check your answers")
    assert Registration.objects.count() == 1

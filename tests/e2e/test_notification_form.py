"""The notification form in a real browser: adding a contact row keeps the person's place."""

from __future__ import annotations

import pytest
from playwright.sync_api import Page, expect

from tests.factories import LEMPAALA as OID

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]


@pytest.fixture
def alice_in_the_browser(sign_in, alice) -> Page:
    """alice, signed in in the browser."""
    return sign_in(alice)


def test_adding_a_contact_moves_focus_to_the_new_rows_first_field(
    live_server, alice_in_the_browser: Page, terms
):
    page = alice_in_the_browser
    page.goto(f"{live_server.url}/en/notify/{OID}/")
    page.locator("#id_contacts-0-name").fill("Alice Aaltonen")
    page.get_by_role("button", name="Add another contact person").click()

    new_row = page.get_by_role("group", name="Contact 5", exact=True)
    expect(new_row).to_be_in_viewport()
    page.wait_for_load_state()
    assert page.evaluate("document.activeElement.name") == "contacts-4-role"
    expect(page.locator("#id_contacts-0-name")).to_have_value("Alice Aaltonen")


def test_after_adding_a_contact_a_failed_submit_still_starts_at_the_error_summary(
    live_server, alice_in_the_browser: Page, terms
):
    page = alice_in_the_browser
    page.goto(f"{live_server.url}/en/notify/{OID}/")
    page.get_by_role("button", name="Add another contact person").click()
    page.wait_for_load_state()
    page.get_by_role("button", name="Continue to check your answers").last.click()

    expect(page.locator("#error-summary")).to_be_focused()
    expect(page.locator("#error-summary")).to_contain_text("Enter the organisation's name")

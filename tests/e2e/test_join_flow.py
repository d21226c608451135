"""The main flow in a real browser: a person joins, OPH staff approve, the organisation is a
member."""

from __future__ import annotations

import re

import pytest
from allauth.mfa.totp.internal.auth import TOTP, generate_totp_secret
from django.core import mail
from playwright.sync_api import Page, expect

from onboarding.models import Organisation
from tests.factories import current_totp_code, verified_user

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]

CODE = re.compile(r"^\s*([A-Z0-9]{4}-?[A-Z0-9]{2,4})\s*$", re.MULTILINE)
OID = "1.2.246.562.10.74484103937"


def latest_code_for(email: str) -> str:
    message = [m for m in mail.outbox if m.to == [email]][-1]
    return CODE.search(message.body).group(1)


def sign_up(page: Page, base: str, email: str) -> None:
    """A first-time visitor: the email step, then the code from their inbox."""
    page.goto(f"{base}/en/accounts/login/")
    page.get_by_label("Your work email address").fill(email)
    page.get_by_role("button", name="Send me a sign-in code").click()
    expect(page.get_by_role("heading", name="Enter the sign-in code")).to_be_visible()
    page.get_by_label("Code").fill(latest_code_for(email))
    page.get_by_role("button", name="Confirm").click()
    expect(page.get_by_role("heading", name="My organisations")).to_be_visible()


def fill_notification(page: Page) -> None:
    page.get_by_role("link", name="Make a notification").first.click()
    page.get_by_label("Organisation OID").fill(OID)
    page.get_by_role("button", name="Continue").click()
    page.get_by_label("Name in Finnish").fill("Lempäälän kunta")
    page.get_by_label("Name in Swedish").fill("Lempäälä kommun")
    page.get_by_label("Business ID (Y-tunnus)").fill("0150783-1")
    page.get_by_label("Education provider", exact=True).check()
    page.get_by_label("Basic education", exact=True).check()
    for row, (name, email, phone) in enumerate(
        [
            ("Riikka Rehtori", "riikka@lempaala.example", "040 123 4567"),
            ("Teemu Tekninen", "teemu@lempaala.example", "+358 40 765 4321"),
        ]
    ):
        page.locator(f"#id_contacts-{row}-name").fill(name)
        page.locator(f"#id_contacts-{row}-email").fill(email)
        page.locator(f"#id_contacts-{row}-phone").fill(phone)
    page.get_by_label(re.compile("personal credentials and a learner number")).check()
    page.get_by_label(re.compile("I accept the terms of use")).check()
    page.get_by_label("Your name").fill("Riikka Rehtori")
    page.get_by_label("Your title").fill("Sivistysjohtaja")
    page.get_by_label(re.compile("I confirm that I may bind")).check()


def test_a_person_joins_and_staff_approve_in_the_admin(live_server, page: Page, browser, terms):
    base = live_server.url
    staff = verified_user("kasittelija@oph.example", is_staff=True, is_superuser=True)
    secret = generate_totp_secret()
    TOTP.activate(staff, secret)

    sign_up(page, base, "riikka@lempaala.example")
    fill_notification(page)
    page.get_by_role("button", name="Continue to check your answers").click()
    expect(page.get_by_role("heading", name="Check your answers before sending")).to_be_visible()
    expect(page.get_by_text("Teemu Tekninen")).to_be_visible()
    page.get_by_role("button", name="Send the notification").click()
    expect(page.get_by_text("Submitted", exact=True).first).to_be_visible()
    assert any(m.to == ["riikka@lempaala.example"] for m in mail.outbox)

    staff_page = browser.new_context().new_page()
    staff_page.goto(f"{base}/en/admin/")
    staff_page.get_by_label("Email", exact=True).fill(staff.email)
    staff_page.get_by_label("Password").fill("correct horse battery staple")
    staff_page.get_by_role("button", name="Sign in with a password").click()
    staff_page.get_by_label("Code").fill(current_totp_code(secret))
    staff_page.get_by_role("button", name="Sign in").click()
    staff_page.goto(f"{base}/en/admin/onboarding/pendingregistration/")
    staff_page.get_by_role("link", name="Lempäälän kunta").click()
    expect(staff_page.get_by_role("heading", name="Review the notification")).to_be_visible()
    staff_page.get_by_role("button", name="Approve").click()
    expect(staff_page.get_by_text("The notification was approved.")).to_be_visible()

    page.goto(f"{base}/en/organisations/")
    page.get_by_role("listitem").get_by_role("link", name="Lempäälän kunta").click()
    expect(page.get_by_text("Terms of use accepted")).to_be_visible()
    assert Organisation.objects.get(oid=OID).membership == "terms_accepted"


def test_a_validation_error_is_announced_and_keeps_what_was_typed(live_server, page: Page, terms):
    sign_up(page, live_server.url, "toinen@koulu.example")
    fill_notification(page)
    page.get_by_label("Business ID (Y-tunnus)").fill("0150783-2")
    page.get_by_role("button", name="Continue to check your answers").click()
    summary = page.locator("#error-summary")
    expect(summary).to_be_visible()
    summary.get_by_role("link").first.click()
    expect(page.get_by_label("Business ID (Y-tunnus)")).to_be_focused()
    expect(page.get_by_label("Name in Finnish")).to_have_value("Lempäälän kunta")
    expect(page.locator("#id_contacts-1-email")).to_have_value("teemu@lempaala.example")

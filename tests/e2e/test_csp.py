"""The Content-Security-Policy in a real browser: the portal's pages and the admin's work under
it, and the browser reports no violation (no inline script or style it had to refuse)."""

from __future__ import annotations

import re

import pytest
from django.core import mail
from playwright.sync_api import Page, expect

from tests.factories import (
    LEMPAALA,
    TermsAcceptanceFactory,
    current_totp_code,
    launched_campaign,
    notification,
    verified_user,
)

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]

# The browser's own words when it refuses something for a policy (Chromium's console).
POLICY_COMPLAINT = re.compile(r"Content Security Policy|Permissions-Policy|Refused to", re.I)
CODE = re.compile(r"^\s*([A-Z0-9]{4}-?[A-Z0-9]{2,4})\s*$", re.MULTILINE)


@pytest.fixture
def violations(page: Page) -> list[str]:
    """What the browser refused on any page this tab opens: `securitypolicyviolation` events
    and its console's complaints about a policy."""
    found: list[str] = []
    page.expose_function("reportViolation", lambda text: found.append(text))
    page.add_init_script(
        """document.addEventListener("securitypolicyviolation", (event) => {
            window.reportViolation(
                `${event.violatedDirective} refused ${event.blockedURI || "inline"} on ` +
                `${event.documentURI} (${event.sourceFile}:${event.lineNumber})`
            );
        });"""
    )
    page.on(
        "console",
        lambda message: (
            found.append(f"console: {message.text}")
            if POLICY_COMPLAINT.search(message.text)
            else None
        ),
    )
    return found


def visit(page: Page, url: str) -> None:
    response = page.goto(url)
    assert response is not None and response.ok, url
    assert "script-src 'self';" in response.headers["content-security-policy"] + ";"
    page.wait_for_load_state("load")


def test_a_person_signs_in_and_fills_in_the_form_without_a_violation(
    live_server, page: Page, violations, terms, lempaala
):
    base = live_server.url
    for path in ("/", "/sv/", "/en/terms/", "/en/members/", "/en/api/", "/en/no-such-page/"):
        page.goto(f"{base}{path}")
    page.goto(f"{base}/en/accounts/login/")
    page.get_by_label("Your work email address").fill("alice@lempaala.fi")
    page.get_by_role("button", name="Send me a sign-in code").click()
    code = CODE.search(mail.outbox[-1].body).group(1)
    page.get_by_label("Code").fill(code)
    page.get_by_role("button", name="Confirm").click()
    expect(page.get_by_role("heading", name="My organisations")).to_be_visible()

    page.get_by_role("link", name="Municipality of Lempäälä").first.click()
    expect(page.get_by_text(LEMPAALA).first).to_be_visible()
    page.goto(f"{base}/en/notify/{LEMPAALA}/")
    page.get_by_label("Business ID (Y-tunnus)").fill("0150783-2")
    page.get_by_role("button", name="Continue to check your answers").click()
    # The portal's script moves focus to the error summary: scripts from 'self' still run.
    expect(page.locator("#error-summary")).to_be_focused()
    page.get_by_role("button", name="Svenska").click()
    expect(page).to_have_url(re.compile(r"/sv/notify/"))
    assert violations == []


def test_staff_work_in_the_admin_without_a_violation(
    live_server, page: Page, violations, sign_in, admin_user, terms, lempaala, alice
):
    base = live_server.url
    TermsAcceptanceFactory(organisation=lempaala, terms_version=terms)
    waiting = notification(terms, user=alice)
    campaign = launched_campaign(terms)
    sign_in(admin_user)
    for path in (
        "/en/admin/",
        "/en/admin/onboarding/organisation/",
        f"/en/admin/onboarding/organisation/{lempaala.pk}/change/",
        "/en/admin/onboarding/organisation/import/",
        "/en/admin/onboarding/termsversion/add/",
        "/en/admin/onboarding/termsacceptance/",
        "/en/admin/onboarding/user/",
        f"/en/admin/onboarding/acceptancecampaign/{campaign.pk}/report/",
        f"/en/admin/onboarding/organisation/{lempaala.pk}/history/",
    ):
        visit(page, f"{base}{path}")
    # The admin's own scripts run: the date widget's calendar opens, the sidebar filters.
    visit(page, f"{base}/en/admin/onboarding/termsversion/add/")
    page.locator(".datetimeshortcuts a").first.click()
    visit(page, f"{base}/en/admin/onboarding/pendingregistration/")
    page.get_by_role("link", name="Lempäälän kunta").first.click()
    expect(page.get_by_role("heading", name="Review the notification")).to_be_visible()
    assert page.url.endswith(f"/{waiting.pk}/change/")
    assert violations == []


def test_a_person_sets_up_their_authenticator_app_without_a_violation(
    live_server, page: Page, violations, sign_in
):
    """The QR code is an image in a data: address, which the policy allows. (Staff reach this
    page only from their enrolment link; a member may set one up any time.)"""
    member = verified_user("rehtori@koulu.example")
    sign_in(member)
    page.goto(f"{live_server.url}/en/accounts/2fa/totp/activate/")
    page.get_by_label("Password").fill("correct horse battery staple")
    page.get_by_role("button", name=re.compile("Confirm")).click()
    qr_code = page.locator("img[src^='data:image/svg+xml']")
    expect(qr_code).to_be_visible()
    assert qr_code.evaluate("image => image.naturalWidth") > 0
    secret = page.locator("#authenticator_secret").input_value()
    page.get_by_label("Authenticator code").fill(current_totp_code(secret))
    page.get_by_role("button", name="Activate").click()
    assert violations == []

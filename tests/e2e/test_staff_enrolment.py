"""A new staff member's enrolment in a real browser: the emailed link, a password, the
authenticator app, the admin."""

from __future__ import annotations

import re

import pytest
from playwright.sync_api import Page, expect

from onboarding.models import OutgoingEmail
from onboarding.services.accounts import staff_enrolment_send
from tests.factories import current_totp_code, verified_user

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]


def test_a_new_staff_member_enrols_from_the_emailed_link(live_server, page: Page):
    staff = verified_user("uusi.virkailija@oph.example", is_staff=True, is_superuser=True)
    staff_enrolment_send(user=staff)
    email = OutgoingEmail.objects.get(to=staff.email, kind=OutgoingEmail.Kind.STAFF_ENROLMENT)
    link = re.search(r"http://testserver(/staff/enrol/\S+/)", email.body_text).group(1)

    page.goto(f"{live_server.url}/en{link}")
    expect(page.get_by_role("heading", name="Set up your staff sign-in")).to_be_visible()
    page.get_by_label("New password", exact=True).fill("pitkä ja hyvä salasana 2026")
    page.get_by_label("New password confirmation").fill("pitkä ja hyvä salasana 2026")
    page.get_by_role("button", name="Save the password and continue").click()

    expect(page.get_by_role("heading", name="Activate an authenticator app")).to_be_visible()
    secret = page.get_by_label("Authenticator secret").input_value()
    page.get_by_label("Authenticator code").fill(current_totp_code(secret))
    page.get_by_role("button", name="Activate").click()

    page.goto(f"{live_server.url}/en/admin/")
    expect(page.get_by_role("heading", name="Members, terms and notifications")).to_be_visible()

    page.goto(f"{live_server.url}/en{link}")
    expect(page.get_by_role("heading", name="The link does not work")).to_be_visible()

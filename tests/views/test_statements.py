"""The privacy notice and the accessibility statement: public, in every language, linked from
every page's footer, with the addresses and dates their settings give."""

from __future__ import annotations

from datetime import date

import pytest
from django.urls import reverse

pytestmark = pytest.mark.django_db


@pytest.mark.parametrize("prefix", ["", "/sv", "/en"])
@pytest.mark.parametrize("page", ["/privacy/", "/accessibility/"])
def test_anyone_can_read_the_statements_without_signing_in(client, prefix, page):
    response = client.get(f"{prefix}{page}")

    assert response.status_code == 200
    assert response.headers["Content-Language"] == (prefix.strip("/") or "fi")


@pytest.mark.parametrize("path", ["/", "/terms/", "/accounts/login/", "/no-such-page/"])
def test_every_page_links_to_both_statements_in_its_footer(client, path):
    response = client.get(f"/en{path}")
    footer = response.content.decode().split('<footer class="site-footer">')[1]

    assert 'href="/en/privacy/">Privacy notice</a>' in footer
    assert 'href="/en/accessibility/">Accessibility statement</a>' in footer


def test_the_signed_in_pages_have_the_links_too(client, alice):
    client.force_login(alice)

    page = client.get("/en/organisations/").content.decode()

    assert reverse("onboarding:privacy") in page.split("<footer")[1]


def test_the_privacy_notice_names_the_controller_its_contacts_and_the_retention(client, settings):
    settings.PRIVACY_CONTACT_EMAIL = "privacy@example.fi"
    settings.DATA_PROTECTION_OFFICER_EMAIL = "dpo@example.fi"
    settings.NOTIFICATION_RETENTION_DAYS = 180

    page = " ".join(client.get("/en/privacy/").content.decode().split())

    assert "Finnish National Agency for Education (OPH)" in page
    assert 'href="mailto:privacy@example.fi"' in page
    assert 'href="mailto:dpo@example.fi"' in page
    assert "Rejected and withdrawn notifications: 180 days after the decision" in page
    assert "It names no persons." in page
    assert "not transferred outside the European Union" in page
    assert 'href="https://tietosuoja.fi/en/"' in page


def test_the_privacy_contact_is_customer_service_unless_set(client, settings):
    page = client.get("/en/privacy/").content.decode()

    assert f'href="mailto:{settings.CUSTOMER_SERVICE_EMAIL}"' in page


def test_the_accessibility_statement_has_its_feedback_address_and_assessment_date(client, settings):
    settings.ACCESSIBILITY_FEEDBACK_EMAIL = "saavutettavuus@example.fi"
    settings.ACCESSIBILITY_ASSESSED_ON = date(2026, 11, 27)

    english = " ".join(client.get("/en/accessibility/").content.decode().split())
    finnish = client.get("/accessibility/").content.decode()

    assert "WCAG" in english
    assert 'href="mailto:saavutettavuus@example.fi"' in english
    assert "Last assessed</dt> <dd>27 November 2026</dd>" in english
    assert "27.11.2026" in finnish
    assert 'href="https://www.saavutettavuusvaatimukset.fi/"' in english
    assert "Traficom" in english

"""Every text a person can read on the portal's pages and the admin is in Finnish and Swedish:
a text that reads the same on the English page and the Finnish (or Swedish) one is a
string nobody translated, unless it is data (names, addresses, identifiers) or a proper
name."""

from __future__ import annotations

import re
from html.parser import HTMLParser

import pytest
from django.conf import settings
from django.test import Client

from tests.factories import LEMPAALA as OID
from tests.factories import TermsAcceptanceFactory

pytestmark = pytest.mark.django_db

# The same in every language: proper names, abbreviations, formats.
SAME_IN_EVERY_LANGUAGE = {
    "MPASSid", "OPH", "OID", "SHA-256", "JSON", "TOTP", "MFA", "Y-tunnus", "ID", "Email",
    "Suomi", "Svenska", "English", "Django", "sha256sum", "URL", "IP", "WebAuthn",
}  # fmt: skip
# Words that one of the languages writes as English does.
SAME_AS_ENGLISH = {"fi": set(), "sv": {"Version"}}
WORD = re.compile(r"[A-Za-z]{3,}")


class VisibleText(HTMLParser):
    """Text nodes, and the texts given to assistive technology, outside scripts and styles."""

    SKIP = {"script", "style", "code", "pre", "textarea", "option", "svg"}

    def __init__(self):
        super().__init__()
        self.texts: list[str] = []
        self._skipping = 0

    def handle_starttag(self, tag, attrs):
        if tag in self.SKIP:
            self._skipping += 1
        for name, value in attrs:
            if name in ("aria-label", "title", "alt", "placeholder") and value:
                self.texts.append(value)

    def handle_endtag(self, tag):
        if tag in self.SKIP:
            self._skipping = max(0, self._skipping - 1)

    def handle_data(self, data):
        if not self._skipping:
            self.texts.extend(part for part in re.split(r"\s*\n\s*", data.strip()) if part)


def texts(client: Client, path: str) -> set[str]:
    response = client.get(path, follow=True)
    assert response.status_code in (200, 404), path
    parser = VisibleText()
    parser.feed(response.content.decode())
    return {" ".join(text.split()) for text in parser.texts}


def untranslated(client: Client, path: str, language: str, data: set[str]) -> set[str]:
    english = texts(client, f"/en{path}")
    other = texts(client, f"{'' if language == 'fi' else '/' + language}{path}")
    data = data | SAME_IN_EVERY_LANGUAGE | SAME_AS_ENGLISH[language]
    data |= {
        settings.CUSTOMER_SERVICE_EMAIL,
        settings.PRIVACY_CONTACT_EMAIL,
        settings.DATA_PROTECTION_OFFICER_EMAIL,
        settings.ACCESSIBILITY_FEEDBACK_EMAIL,
    }
    return {text for text in english & other if WORD.search(_without(text, data))}


def _without(text: str, data: set[str]) -> str:
    for value in sorted(data, key=len, reverse=True):
        text = text.replace(value, "")
    return text


@pytest.fixture
def member_client(client, terms, lempaala, alice) -> tuple[Client, set[str]]:
    """alice signed in, a contact of Lempäälä, which has accepted the terms; and the data
    (not text to translate) that her pages show."""
    TermsAcceptanceFactory(organisation=lempaala, terms_version=terms)
    client.force_login(alice)
    contacts = list(lempaala.contacts.all())
    data = {
        lempaala.name_fi, lempaala.name_sv, lempaala.name_en, lempaala.business_id, OID,
        terms.title, terms.version, terms.content_sha256,
        *(c.email for c in contacts), *(c.name for c in contacts),
        *(str(c.phone) for c in contacts),
    }  # fmt: skip
    return client, data | {line for line in terms.text.splitlines() if line.strip()}


PUBLIC = [
    "/",
    "/terms/",
    "/privacy/",
    "/accessibility/",
    "/accounts/login/",
    "/accounts/login/code/",
    "/no-such-page/",
]
MEMBER = ["/organisations/", "/notify/", f"/notify/{OID}/"]


@pytest.mark.parametrize("language", ["fi", "sv"])
def test_public_and_member_pages_have_no_english_left(member_client, language):
    client, data = member_client
    found = set()
    for path in MEMBER + PUBLIC:
        found |= untranslated(client, path, language, data)
    assert not found, f"untranslated in {language}: {sorted(found)}"


ADMIN = [
    "/admin/",
    "/admin/onboarding/organisation/",
    "/admin/onboarding/registration/",
    "/admin/onboarding/pendingregistration/",
    "/admin/onboarding/termsversion/",
    "/admin/onboarding/acceptancecampaign/",
    "/admin/onboarding/outgoingemail/",
    "/admin/onboarding/contactperson/person-data/",
    "/admin/onboarding/personerasure/",
    "/admin/mfa/authenticator/",
    "/accounts/2fa/",
]


@pytest.mark.parametrize("language", ["fi", "sv"])
def test_the_admin_and_the_second_factor_pages_have_no_english_left(admin_client, language):
    found = set()
    for path in ADMIN:
        found |= untranslated(admin_client, path, language, {"admin@example.com", "admin"})
    assert not found, f"untranslated in {language}: {sorted(found)}"

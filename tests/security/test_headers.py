"""Security headers: a Content-Security-Policy and a Permissions-Policy on every page, the API
and the error pages; no inline scripts or styles in what the portal renders; cookies that only
this host over HTTPS can set in production; no server software named by the proxy."""

from __future__ import annotations

import json
import os
import re
import subprocess
import sys
from pathlib import Path

import pytest
from django.test import Client, override_settings

from onboarding.accounts.views import STAFF_ENROLMENT_SESSION_KEY
from onboarding.models import Organisation
from tests.environment import PRODUCTION
from tests.factories import (
    ALICE,
    LEMPAALA,
    OrganisationFactory,
    launched_campaign,
    submit,
    verified_user,
)

ROOT = Path(__file__).resolve().parent.parent.parent

PORTAL_POLICY = {
    "default-src": ["'self'"],
    "script-src": ["'self'"],
    "style-src": ["'self'"],
    "img-src": ["'self'", "data:"],
    "object-src": ["'none'"],
    "base-uri": ["'self'"],
    "form-action": ["'self'"],
    "frame-ancestors": ["'none'"],
}
# Django's admin writes inline styles (never scripts); only its pages allow them.
ADMIN_POLICY = {**PORTAL_POLICY, "style-src": ["'self'", "'unsafe-inline'"]}
FEATURES_OFF = ["camera", "microphone", "geolocation", "payment", "usb"]


def policy(response) -> dict[str, list[str]]:
    header = response["Content-Security-Policy"]
    directives = [part.split() for part in header.split(";") if part.strip()]
    return {name: sources for name, *sources in directives}


def features_off(response) -> list[str]:
    """The features the Permissions-Policy turns off for every origin ("feature=()")."""
    return re.findall(r"([a-z-]+)=\(\)", response["Permissions-Policy"])


# Production settings, read from a process started as production starts -----------------------

COOKIE_SETTINGS = [
    f"{cookie}_COOKIE_{attribute}"
    for cookie in ("SESSION", "CSRF", "LANGUAGE")
    for attribute in ("NAME", "SECURE", "PATH", "DOMAIN")
]


def settings_of(env: dict[str, str]) -> dict:
    script = (
        "import json; from django.conf import settings; "
        f"print(json.dumps({{name: getattr(settings, name) for name in {COOKIE_SETTINGS!r}}}))"
    )
    clean = {"PATH": os.environ["PATH"], "HOME": os.environ.get("HOME", "/tmp")}
    result = subprocess.run(
        [sys.executable, "manage.py", "shell", "--no-imports", "-c", script],
        cwd=ROOT,
        env={**clean, "DJANGO_SETTINGS_MODULE": "portal.settings", **env},
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert result.returncode == 0, result.stderr
    return json.loads(result.stdout.strip().splitlines()[-1])


@pytest.fixture(scope="module")
def production_cookies() -> dict:
    return settings_of(PRODUCTION)


def test_production_names_the_session_csrf_and_language_cookies_for_this_host_only(
    production_cookies,
):
    assert production_cookies["SESSION_COOKIE_NAME"] == "__Host-sessionid"
    assert production_cookies["CSRF_COOKIE_NAME"] == "__Host-csrftoken"
    assert production_cookies["LANGUAGE_COOKIE_NAME"] == "__Host-django_language"
    for cookie in ("SESSION", "CSRF", "LANGUAGE"):
        assert production_cookies[f"{cookie}_COOKIE_SECURE"] is True
        assert production_cookies[f"{cookie}_COOKIE_PATH"] == "/"
        assert production_cookies[f"{cookie}_COOKIE_DOMAIN"] is None


def test_development_over_plain_http_keeps_the_plain_cookie_names():
    development = settings_of({"DEBUG": "true"})
    assert development["SESSION_COOKIE_NAME"] == "sessionid"
    assert development["CSRF_COOKIE_NAME"] == "csrftoken"
    assert development["LANGUAGE_COOKIE_NAME"] == "django_language"
    assert development["SESSION_COOKIE_SECURE"] is False


def assert_host_only(cookie) -> None:
    """What a browser asks of a __Host- cookie before it keeps it."""
    assert cookie.key.startswith("__Host-")
    assert cookie["secure"] is True
    assert cookie["path"] == "/"
    assert cookie["domain"] == ""


@pytest.mark.django_db
def test_the_browser_gets_host_only_cookies_from_the_sign_in_and_the_language_switcher(
    production_cookies,
):
    browser = Client()
    with override_settings(**production_cookies):
        page = browser.get("/en/accounts/login/")
        assert_host_only(page.cookies["__Host-csrftoken"])
        signing_in = browser.post("/en/accounts/login/code/", {"email": ALICE})
        assert_host_only(signing_in.cookies["__Host-sessionid"])
        switched = browser.post("/i18n/setlang/", {"language": "sv", "next": "/"})
        assert_host_only(switched.cookies["__Host-django_language"])
        # The language chosen is still obeyed under its new name.
        assert browser.get("/")["Location"] == "/sv/"
    assert "sessionid" not in browser.cookies


# Both policies on every kind of response -------------------------------------------------------


@pytest.mark.django_db
@pytest.mark.parametrize(
    "address",
    [
        "/",
        "/en/terms/",
        "/sv/members/",
        "/en/api/",
        "/en/accounts/login/",
        "/api/members.json",
        "/api/members.csv",
        "/api/members.schema.json",
    ],
)
def test_portal_pages_and_the_api_carry_the_strict_policy_and_no_browser_features(
    client, terms, lempaala, address
):
    response = client.get(address)
    assert response.status_code == 200
    assert policy(response) == PORTAL_POLICY
    assert set(FEATURES_OFF) <= set(features_off(response))


@pytest.mark.django_db
@pytest.mark.parametrize(
    "address",
    [
        "/en/admin/",
        "/en/admin/onboarding/organisation/",
        "/admin/onboarding/termsversion/add/",
        "/sv/admin/onboarding/user/",
    ],
)
def test_the_admin_allows_its_inline_styles_but_no_inline_scripts(admin_client, address):
    response = admin_client.get(address)
    assert response.status_code == 200
    assert policy(response) == ADMIN_POLICY
    assert set(FEATURES_OFF) <= set(features_off(response))


@pytest.fixture
def visitor(settings) -> Client:
    """A browser of the production site: errors come back as pages, not as exceptions."""
    settings.DEBUG = False
    return Client(raise_request_exception=False)


@pytest.mark.django_db
def test_error_pages_carry_the_strict_policy(visitor, admin_client, settings):
    not_found = visitor.get("/en/no-such-page/")
    bad_request = visitor.get("/en/", headers={"host": "not-our-site.example"})
    refused_form = Client(enforce_csrf_checks=True).post("/en/accounts/login/", {"email": ALICE})
    admin_not_found = admin_client.get("/en/admin/no-such-page/")
    no_right = admin_client.get("/en/admin/onboarding/termsacceptance/add/")
    settings.ROOT_URLCONF = "tests.error_urls"
    server_error = visitor.get("/en/database-down/")
    responses = [not_found, bad_request, refused_form, admin_not_found, no_right, server_error]
    assert [r.status_code for r in responses] == [404, 400, 403, 404, 403, 500]
    for response in responses:
        assert policy(response)["script-src"] == ["'self'"]
        assert set(FEATURES_OFF) <= set(features_off(response))
    for response in (not_found, bad_request, refused_form, server_error):
        assert policy(response) == PORTAL_POLICY


# What the pages contain: nothing inline for the policy to refuse --------------------------------

# A <script> that runs: no src, and not a data block (type="application/json" is never run).
INLINE_SCRIPT = re.compile(r"<script(?![^>]*\bsrc=)(?![^>]*type=\"application/json\")[^>]*>", re.I)
EVENT_HANDLER = re.compile(r"<[a-z][^>]*\son[a-z]+\s*=", re.I)
STYLE_ATTRIBUTE = re.compile(r"\sstyle\s*=", re.I)
STYLE_ELEMENT = re.compile(r"<style[\s>]", re.I)


def inline_code(page: str, *, styles: bool) -> list[str]:
    found = INLINE_SCRIPT.findall(page) + EVENT_HANDLER.findall(page)
    found += STYLE_ELEMENT.findall(page)
    if styles:
        found += STYLE_ATTRIBUTE.findall(page)
    return found


@pytest.fixture
def signed_in_alice(client, terms, alice, lempaala) -> Client:
    """Alice, a contact of Lempäälä, signed in."""
    client.force_login(alice)
    return client


@pytest.mark.django_db
def test_the_portals_pages_have_no_inline_scripts_handlers_or_styles(signed_in_alice):
    organisation = Organisation.objects.get(oid=LEMPAALA)
    pages = [
        "/en/",
        "/en/terms/",
        "/en/members/",
        "/en/api/",
        "/en/organisations/",
        f"/en/organisations/{organisation.pk}/",
        f"/en/notify/{LEMPAALA}/",
        "/en/notify/",
    ]
    for address in pages:
        response = signed_in_alice.get(address)
        assert response.status_code == 200, address
        assert inline_code(response.content.decode(), styles=True) == [], address
    signed_in_alice.logout()
    sign_in = signed_in_alice.get("/en/accounts/login/")
    assert inline_code(sign_in.content.decode(), styles=True) == []


@pytest.mark.django_db
def test_the_two_factor_set_up_page_has_no_inline_code_and_its_qr_code_is_allowed(client):
    staff = verified_user("kasittelija@oph.fi", is_staff=True)
    client.force_login(staff)
    session = client.session  # on the way from their enrolment link, where staff set it up
    session[STAFF_ENROLMENT_SESSION_KEY] = staff.pk
    session.save()
    # Setting up a second factor asks for the password again first.
    asked = client.get("/en/accounts/reauthenticate/")
    assert inline_code(asked.content.decode(), styles=True) == []
    client.post("/en/accounts/reauthenticate/", {"password": "correct horse battery staple"})
    response = client.get("/en/accounts/2fa/totp/activate/")
    page = response.content.decode()
    assert response.status_code == 200
    assert inline_code(page, styles=True) == []
    assert 'src="data:image/svg+xml' in page  # the QR code: img-src allows data:
    assert policy(response) == PORTAL_POLICY


@pytest.mark.django_db
def test_the_admins_pages_have_no_inline_scripts_or_handlers(admin_client, terms):
    alice = verified_user(ALICE)
    registration, _created = submit(terms, user=alice)
    OrganisationFactory(membership="legacy_contract")
    campaign = launched_campaign(terms)
    pages = [
        "/en/admin/",
        "/en/admin/onboarding/organisation/",
        "/en/admin/onboarding/organisation/add/",
        "/en/admin/onboarding/organisation/import/",
        "/en/admin/onboarding/pendingregistration/",
        f"/en/admin/onboarding/registration/{registration.pk}/change/",
        "/en/admin/onboarding/termsversion/",
        f"/en/admin/onboarding/termsversion/{terms.pk}/change/",
        f"/en/admin/onboarding/user/{alice.pk}/change/",
        f"/en/admin/onboarding/acceptancecampaign/{campaign.pk}/change/",
        f"/en/admin/onboarding/acceptancecampaign/{campaign.pk}/report/",
    ]
    for address in pages:
        response = admin_client.get(address)
        assert response.status_code == 200, address
        assert inline_code(response.content.decode(), styles=False) == [], address


# The proxy in front of gunicorn ----------------------------------------------------------------


def nginx_example() -> str:
    text = (ROOT / "deploy" / "nginx.conf.example").read_text()
    return "\n".join(line.split("#", 1)[0] for line in text.splitlines())


def test_nginx_names_no_server_software_and_hides_gunicorns():
    config = nginx_example()
    assert re.search(r"^\s*server_tokens off;", config, re.M)
    assert re.search(r"^\s*proxy_hide_header Server;", config, re.M)


def test_nginx_adds_no_header_that_django_sends():
    config = nginx_example().lower()
    for header in (
        "content-security-policy",
        "permissions-policy",
        "strict-transport-security",
        "x-frame-options",
        "x-content-type-options",
        "referrer-policy",
    ):
        assert header not in config

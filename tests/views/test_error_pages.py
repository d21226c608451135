"""Error pages: in the portal's layout and the language of the address, with what to do, a way
back to the start page and customer service; the 500 page without the database."""

from __future__ import annotations

import pytest
from django.test import Client

pytestmark = pytest.mark.django_db

# (address prefix, <html lang>, the start page of that language)
LANGUAGES = [("", "fi", "/"), ("/sv", "sv", "/sv/"), ("/en", "en", "/en/")]


@pytest.fixture(autouse=True)
def _production(settings):
    settings.DEBUG = False


@pytest.fixture
def visitor():
    """A browser: server errors come back as pages, not as exceptions in the test."""
    return Client(raise_request_exception=False)


def assert_error_page(response, status: int, lang: str, start: str) -> str:
    page = response.content.decode()
    assert response.status_code == status
    assert f'<html lang="{lang}">' in page
    assert 'class="site-header"' in page
    assert 'class="site-footer"' in page
    assert f'<a class="button" href="{start}">' in page
    assert 'href="mailto:mpass@oph.fi"' in page
    return page


@pytest.mark.parametrize(("prefix", "lang", "start"), LANGUAGES)
def test_an_unknown_address_is_not_found_in_the_language_of_its_prefix(
    visitor, prefix, lang, start
):
    assert_error_page(visitor.get(f"{prefix}/no-such-page/"), 404, lang, start)


def test_the_not_found_page_says_what_to_do(visitor):
    page = assert_error_page(visitor.get("/en/no-such-page/"), 404, "en", "/en/")
    assert "<h1>Page not found</h1>" in page
    assert "check that it is complete and correct" in page
    assert "Go to the start page</a>" in page


@pytest.mark.parametrize(("prefix", "lang", "start"), LANGUAGES)
def test_staff_without_the_right_get_the_no_access_page(admin_client, prefix, lang, start):
    # Acceptances are evidence: nobody, not even a superuser, may add one.
    response = admin_client.get(f"{prefix}/admin/onboarding/termsacceptance/add/")
    page = assert_error_page(response, 403, lang, start)
    if lang == "en":
        assert "<h1>You cannot do this with your account</h1>" in page


def test_the_admins_unknown_addresses_are_not_found_for_staff(admin_client):
    page = assert_error_page(admin_client.get("/en/admin/nonexistent/"), 404, "en", "/en/")
    assert "<h1>Page not found</h1>" in page


@pytest.mark.parametrize(("prefix", "lang", "start"), LANGUAGES)
def test_a_request_the_portal_cannot_handle_is_a_bad_request(visitor, prefix, lang, start):
    response = visitor.get(f"{prefix}/", headers={"host": "not-our-site.example"})
    page = assert_error_page(response, 400, lang, start)
    if lang == "en":
        assert "<h1>The request could not be handled</h1>" in page
        assert "Go back, reload the page and try again." in page


@pytest.mark.parametrize(("prefix", "lang", "start"), LANGUAGES)
def test_a_server_error_shows_its_page_while_the_database_is_unreachable(
    visitor, settings, django_assert_num_queries, django_db_blocker, prefix, lang, start
):
    settings.ROOT_URLCONF = "tests.error_urls"
    with django_assert_num_queries(0), django_db_blocker.block():
        response = visitor.get(f"{prefix}/database-down/")
    page = assert_error_page(response, 500, lang, start)
    assert "Sign in" not in page
    if lang == "en":
        assert "<h1>Something went wrong on our side</h1>" in page
        assert "Try again in a few minutes." in page


@pytest.mark.parametrize(("prefix", "lang", "start"), LANGUAGES)
def test_a_form_sent_without_its_security_token_is_explained(prefix, lang, start):
    browser = Client(enforce_csrf_checks=True)
    response = browser.post(f"{prefix}/accounts/login/", {"login": "alice@example.com"})
    page = assert_error_page(response, 403, lang, start)
    if lang == "en":
        assert "<h1>The form could not be sent</h1>" in page
        assert "Nothing you sent was saved." in page
        assert "your browser blocks cookies" in page


def test_the_security_token_page_leads_back_to_the_form_on_this_site():
    browser = Client(enforce_csrf_checks=True)
    form = "http://testserver/en/accounts/login/"
    response = browser.post(
        "/en/accounts/login/", {"login": "a@example.com"}, headers={"referer": form}
    )
    assert f'<a class="button" href="{form}">Open the page again</a>' in response.content.decode()


def test_the_security_token_page_never_leads_to_another_site():
    browser = Client(enforce_csrf_checks=True)
    elsewhere = "https://attacker.example/form/"
    response = browser.post(
        "/en/accounts/login/", {"login": "a@example.com"}, headers={"referer": elsewhere}
    )
    page = response.content.decode()
    assert response.status_code == 403
    assert elsewhere not in page
    assert "Open the page again</a>" not in page


def test_after_a_refused_form_the_browser_gets_a_new_token_to_try_again():
    browser = Client(enforce_csrf_checks=True)
    browser.post("/en/accounts/login/", {"login": "a@example.com"})
    token = browser.cookies["csrftoken"].value
    response = browser.post(
        "/en/accounts/login/", {"login": "a@example.com", "csrfmiddlewaretoken": token}
    )
    assert response.status_code != 403
    assert "The form could not be sent" not in response.content.decode()

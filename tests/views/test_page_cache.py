"""The public pages (start, terms, member register) are cached whole for anonymous visitors:
served again without a query, in each language its own, changed at once by a publication or an
approval, and never one person's page for another (onboarding.page_cache)."""

from __future__ import annotations

import re

import pytest
from django.contrib import messages
from django.contrib.messages.middleware import MessageMiddleware
from django.contrib.sessions.middleware import SessionMiddleware
from django.http import HttpResponse
from django.test import Client
from django.utils import timezone

from onboarding import services
from onboarding.page_cache import cached_public_page
from tests.factories import UserFactory, notification, published_terms

pytestmark = pytest.mark.django_db

PAGES = ["/", "/terms/", "/members/"]
TOKEN = re.compile(r'name="csrfmiddlewaretoken" value="([A-Za-z0-9]+)"')


def lang(response) -> str:
    return re.search(r'<html lang="(\w+)"', response.content.decode()).group(1)


@pytest.mark.parametrize("path", PAGES)
def test_a_cached_page_is_served_again_without_a_query(
    client, terms, path, django_assert_num_queries
):
    first = client.get(path)
    with django_assert_num_queries(0):
        again = client.get(path)
    assert again.status_code == 200
    assert TOKEN.sub("", again.content.decode()) == TOKEN.sub("", first.content.decode())


def test_each_language_has_its_own_cached_page(client, terms):
    for _ in range(2):  # rendered, then from the cache
        assert [lang(client.get(f"{prefix}/terms/")) for prefix in ("", "/sv", "/en")] == [
            "fi",
            "sv",
            "en",
        ]
        assert "Användarvillkor" in client.get("/sv/terms/").content.decode()


def test_a_finnish_address_sends_whoever_chose_swedish_to_the_swedish_page(client, terms):
    client.get("/terms/")  # the Finnish page is cached
    client.cookies["django_language"] = "sv"
    response = client.get("/terms/")
    assert response.status_code == 302 and response["Location"] == "/sv/terms/"


def test_publishing_terms_changes_the_cached_pages_at_once(
    client, terms, django_capture_on_commit_callbacks
):
    assert "2025-1" not in client.get("/terms/").content.decode()
    assert "2025-1" not in client.get("/").content.decode()
    with django_capture_on_commit_callbacks(execute=True):
        published_terms(version="2025-1", effective_from=timezone.localdate())
    assert "2025-1" in client.get("/terms/").content.decode()
    assert "2025-1" in client.get("/").content.decode()


def test_the_worker_that_published_shows_it_at_once_however_long_it_trusts_the_cache(
    client, terms, settings, django_capture_on_commit_callbacks
):
    """With Redis, each worker asks whether the pages changed at most once a second; the one
    where staff published knows without asking."""
    settings.PUBLIC_PAGES_RECHECK_SECONDS = 3600
    client.get("/terms/")
    with django_capture_on_commit_callbacks(execute=True):
        published_terms(version="2025-1", effective_from=timezone.localdate())
    assert "2025-1" in client.get("/terms/").content.decode()


def test_an_approval_changes_the_cached_register_page(
    client, terms, django_capture_on_commit_callbacks
):
    registration = notification(terms)
    assert "Lempäälän kunta" not in client.get("/members/").content.decode()
    with django_capture_on_commit_callbacks(execute=True):
        services.registration_approve(registration_id=registration.pk, reviewer=UserFactory())
    assert "Lempäälän kunta" in client.get("/members/").content.decode()


def test_a_signed_in_person_never_gets_the_cached_anonymous_page(client, terms, alice):
    anonymous = Client()
    anonymous.get("/")  # cached
    client.force_login(alice)
    assert "My organisations" in client.get("/en/").content.decode()
    assert "My organisations" in client.get("/en/").content.decode()


def test_a_signed_in_persons_page_is_never_cached(client, terms, alice):
    client.force_login(alice)
    client.get("/en/")  # rendered for alice, with her sign-out form
    page = Client().get("/en/").content.decode()
    assert "My organisations" not in page and "Sign in" in page


def test_each_visitor_gets_their_own_csrf_token_on_a_cached_page(terms):
    first, second = Client(enforce_csrf_checks=True), Client(enforce_csrf_checks=True)
    first.get("/terms/")
    page = second.get("/terms/")  # from the cache
    tokens = set(TOKEN.findall(page.content.decode()))
    assert len(tokens) == 1 and tokens != set(TOKEN.findall(first.get("/terms/").content.decode()))
    # The language switcher's form works with the token the cached page gave.
    switched = second.post(
        "/i18n/setlang/",
        {"language": "sv", "next": "/terms/", "csrfmiddlewaretoken": tokens.pop()},
    )
    assert switched.status_code == 302


def test_the_cached_page_varies_as_the_rendered_one(client, terms):
    for path in ("/", "/sv/terms/"):
        rendered = client.get(path)
        cached = client.get(path)
        assert cached["Vary"] == rendered["Vary"]
        assert "Cookie" in cached["Vary"]
        assert cached.cookies.keys() == rendered.cookies.keys() == {"csrftoken"}


# The rules for what is kept, on views of their own -----------------------------------------------


def visit(rf, view, path: str, **cookies: str) -> None:
    request = rf.get(path)
    request.COOKIES.update(cookies)
    SessionMiddleware(MessageMiddleware(view))(request)


def counting(answer):
    """A view that answers with `answer(request)` and counts its calls."""

    @cached_public_page
    def view(request):
        view.calls += 1
        return answer(request)

    view.calls = 0
    return view


def test_a_plain_page_is_rendered_once(rf):
    view = counting(lambda request: HttpResponse("hello"))
    visit(rf, view, "/plain/")
    visit(rf, view, "/plain/")
    assert view.calls == 1


def test_a_page_with_a_query_string_is_not_cached(rf):
    """A search of the register has as many addresses as there are words: none is kept."""
    view = counting(lambda request: HttpResponse("hello"))
    visit(rf, view, "/search/?q=lem")
    visit(rf, view, "/search/?q=lem")
    assert view.calls == 2


def test_a_page_that_set_a_cookie_is_not_cached(rf):
    def answer(request):
        response = HttpResponse("hello")
        response.set_cookie("seen", "yes")
        return response

    view = counting(answer)
    visit(rf, view, "/cookie/")
    visit(rf, view, "/cookie/")
    assert view.calls == 2


def test_a_page_that_used_the_session_is_not_cached(rf):
    def answer(request):
        request.session["seen"] = True
        return HttpResponse("hello")

    view = counting(answer)
    visit(rf, view, "/session/")
    visit(rf, view, "/session/")
    assert view.calls == 2


def test_a_page_with_a_message_is_not_cached(rf):
    def answer(request):
        messages.info(request, "Saved.")
        return HttpResponse("hello")

    view = counting(answer)
    visit(rf, view, "/message/")
    visit(rf, view, "/message/")
    assert view.calls == 2


def test_a_visitor_with_a_session_or_messages_is_never_served_from_the_cache(rf, settings):
    view = counting(lambda request: HttpResponse("hello"))
    visit(rf, view, "/visitor/")
    visit(rf, view, "/visitor/", **{settings.SESSION_COOKIE_NAME: "abc"})
    visit(rf, view, "/visitor/", messages="abc")
    assert view.calls == 3

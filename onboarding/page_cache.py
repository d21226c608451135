"""Whole public pages, cached for anonymous visitors: the start page, the terms page and the
member register, in each language.

Such a page changes only when staff publish terms or a membership changes, yet rendering it
costs ten times what the least Django page costs (docs/performance.md). So the rendered page is
kept, per language and per day, under the member register's version token
(`register.version()`), which `register.invalidate()` replaces after every publication,
acceptance, approval, lapse and edit. Each process keeps its own copy of the pages of the
current token, so a cached page costs one cache read (the token) and no query.

Never one person's page to another: only a visitor with no session and no messages (neither
cookie) is served from the cache or has their page cached; a page is kept only when the view
left the session untouched, set no cookie, queued no message and answered 200. The page's one
personal part, the CSRF token of the language switcher's forms, is kept as a placeholder and
filled in with the visitor's own token when served.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from functools import wraps

from django.conf import settings
from django.contrib.messages.storage.cookie import CookieStorage
from django.core.cache import cache
from django.http import HttpResponse
from django.middleware.csrf import get_token
from django.utils import timezone
from django.utils.translation import get_language

from onboarding import register

PAGE_KEY = "public-page:{version}:{day}:{language}:{path}"
PAGE_SECONDS = 24 * 60 * 60  # a replaced token's pages are never read again
CSRF_PLACEHOLDER = b"%%csrf-token%%"
_CSRF_INPUT = re.compile(rb'(name="csrfmiddlewaretoken" value=")([A-Za-z0-9]+)(")')


@dataclass(frozen=True)
class CachedPage:
    content: bytes  # with CSRF_PLACEHOLDER for the token
    headers: tuple[tuple[str, str], ...]


_pages: dict[str, CachedPage] = {}  # this process's copies, of the current version only
_pages_version = ""


def cached_public_page(view):
    """The view's page from the cache for an anonymous visitor without a session."""

    @wraps(view)
    def cached(request, *args, **kwargs):
        if not _visitor_without_state(request):
            return view(request, *args, **kwargs)
        version = register.version()
        key = PAGE_KEY.format(
            version=version,
            day=timezone.localdate().isoformat(),
            language=get_language(),
            path=request.path,
        )
        page = _get(version, key)
        if page is not None:
            return _response(request, page)
        response = view(request, *args, **kwargs)
        page = _storable(request, response)
        if page is not None:
            _pages[key] = page
            cache.set(key, page, PAGE_SECONDS)
        return response

    return cached


def _visitor_without_state(request) -> bool:
    """A plain GET of the page itself, from someone the portal knows nothing about."""
    return (
        request.method == "GET"
        and not request.META.get("QUERY_STRING")
        and settings.SESSION_COOKIE_NAME not in request.COOKIES
        and CookieStorage.cookie_name not in request.COOKIES
    )


def _get(version: str, key: str) -> CachedPage | None:
    global _pages_version
    if version != _pages_version:
        _pages.clear()
        _pages_version = version
    page = _pages.get(key)
    if page is None:
        page = cache.get(key)
        if page is not None:
            _pages[key] = page
    return page


def _storable(request, response) -> CachedPage | None:
    """The page as it can be shown to anyone, or None if it holds anything of this visit."""
    session = getattr(request, "session", None)
    messages = getattr(request, "_messages", None)
    if (
        response.status_code != 200
        or response.streaming
        or response.cookies
        or response.has_header("Cache-Control")
        or (session is not None and (session.modified or not session.is_empty()))
        or (messages is not None and getattr(messages, "_queued_messages", None))
    ):
        return None
    content = response.content
    tokens = set(match.group(2) for match in _CSRF_INPUT.finditer(content))
    content = _CSRF_INPUT.sub(rb"\1" + CSRF_PLACEHOLDER + rb"\3", content)
    secret = request.META.get("CSRF_COOKIE", "").encode()
    if any(token in content for token in tokens) or (secret and secret in content):
        return None  # the token somewhere else than in a form: not a page to share
    headers = tuple((k, v) for k, v in response.items() if k.lower() != "content-length")
    return CachedPage(content=content, headers=headers)


def _response(request, page: CachedPage) -> HttpResponse:
    content = page.content
    if CSRF_PLACEHOLDER in content:
        content = content.replace(CSRF_PLACEHOLDER, get_token(request).encode())
    response = HttpResponse(content)
    for name, value in page.headers:
        response[name] = value
    return response

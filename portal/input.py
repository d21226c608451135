"""Input that no page can use is refused at the edge, before it reaches a view or the database.

PostgreSQL cannot store a NUL character, and no field of the portal means a control character
(onboarding.text): an address with one (C0 or DEL), a query parameter or form value with one
other than a tab or a line break (a tab pasted into the register's search box is text), or a
header with one other than a tab, answers 400 with the portal's 400 page. So does a form body
that cannot be read (a charset other than UTF-8, a broken multipart body).
A cookie with a control character is dropped instead, as if it was not sent: a session cookie
can only come from us, and the person would otherwise be stuck with a 400 on every page.

Placed early in MIDDLEWARE: before the session, the user and the CSRF check read anything.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Iterable

from django.core.exceptions import BadRequest
from django.http import HttpRequest, HttpResponse
from django.http.multipartparser import MultiPartParserError

from onboarding.text import CONTROL, TYPED_TEXT_CONTROL
from onboarding.views.error_pages import BAD_CHARACTERS, UNREADABLE_FORM, bad_request

# A header value may have a tab (RFC 9110, field-value).
HEADER_CONTROL = re.compile(r"[\x00-\x08\x0a-\x1f\x7f]")
UTF_8 = frozenset({"utf-8", "utf8", "us-ascii", "ascii"})  # ASCII is a subset


def _has_control(values: Iterable[str], pattern: re.Pattern[str] = CONTROL) -> bool:
    return any(pattern.search(value) for value in values)


def _pairs(query) -> Iterable[str]:
    for key, values in query.lists():
        yield key
        yield from values


class UnusableInputMiddleware:
    def __init__(self, get_response: Callable[[HttpRequest], HttpResponse]) -> None:
        self.get_response = get_response

    def __call__(self, request: HttpRequest) -> HttpResponse:
        for name, value in list(request.COOKIES.items()):
            if CONTROL.search(name) or CONTROL.search(value):
                del request.COOKIES[name]
        reason = self._refusal(request)
        if reason:
            return bad_request(request, reason=reason)
        return self.get_response(request)

    def _refusal(self, request: HttpRequest) -> str:
        if CONTROL.search(request.path_info) or _has_control(
            _pairs(request.GET), TYPED_TEXT_CONTROL
        ):
            return BAD_CHARACTERS
        headers = (value for key, value in request.META.items() if key.startswith("HTTP_"))
        if _has_control((value for value in headers if isinstance(value, str)), HEADER_CONTROL):
            return BAD_CHARACTERS
        if request.method != "POST":
            return ""
        charset = request.content_params.get("charset")
        if charset is not None and charset.strip().lower() not in UTF_8:
            # Browsers send forms in UTF-8; Django would ignore a charset it does not know.
            return UNREADABLE_FORM
        try:
            form, files = request.POST, request.FILES
        except (BadRequest, MultiPartParserError, UnicodeDecodeError, LookupError):
            # A charset other than UTF-8, or a multipart body that cannot be parsed. A body too
            # large or with too many fields (SuspiciousOperation) goes on to Django's own 400.
            return UNREADABLE_FORM
        file_names = (upload.name or "" for _name, uploads in files.lists() for upload in uploads)
        if _has_control(_pairs(form), TYPED_TEXT_CONTROL) or _has_control(file_names):
            return BAD_CHARACTERS
        return ""

"""The error pages that Django's own views cannot give: the 400 and 500 pages and the CSRF
failure.

403 and 404 are Django's default views rendering templates/403.html and 404.html with the
request, so they get the layout and the context processors as any page does. Django's 400 view
renders without the request, and a 400 may be about the request itself (a control character in
its address, a body that cannot be read), so the 400 page is ours and needs no request data.
"""

from __future__ import annotations

from django.conf import settings
from django.http import (
    HttpRequest,
    HttpResponse,
    HttpResponseBadRequest,
    HttpResponseServerError,
)
from django.shortcuts import render
from django.template.loader import render_to_string
from django.utils import translation
from django.utils.http import url_has_allowed_host_and_scheme

# Why a request was refused, when we know it; the 400 page says it in plain words.
BAD_CHARACTERS = "characters"
UNREADABLE_FORM = "encoding"


def bad_request(request: HttpRequest, exception: Exception | None = None, *, reason: str = ""):
    """The 400 page (handler400, and portal.input's refusals): rendered without the session, the
    user, the database or the request's values, which may be what was wrong."""
    language = _language(request)
    with translation.override(language):
        body = render_to_string(
            "400.html",
            {"customer_service_email": settings.CUSTOMER_SERVICE_EMAIL, "reason": reason},
        )
    return HttpResponseBadRequest(body)


def _language(request: HttpRequest) -> str:
    if hasattr(request, "LANGUAGE_CODE"):  # LocaleMiddleware has run
        return translation.get_language() or settings.LANGUAGE_CODE
    chosen = request.COOKIES.get(settings.LANGUAGE_COOKIE_NAME, "")
    return (
        translation.get_language_from_path(request.path_info)
        or (chosen if chosen in dict(settings.LANGUAGES) else None)
        or settings.LANGUAGE_CODE
    )


def server_error(request: HttpRequest) -> HttpResponse:
    """The 500 page, rendered without the request: the database, the session or a context
    processor may be what failed, so the page needs none of them."""
    # The language comes from the address, as LocaleMiddleware decides it, even when the
    # error happened before that middleware ran.
    language = translation.get_language_from_path(request.path_info) or settings.LANGUAGE_CODE
    with translation.override(language):
        body = render_to_string(
            "500.html", {"customer_service_email": settings.CUSTOMER_SERVICE_EMAIL}
        )
    return HttpResponseServerError(body)


def csrf_failure(request: HttpRequest, reason: str = "") -> HttpResponse:
    """A form refused by the CSRF check (an old page, cookies blocked): what happened in plain
    words and a link back to the page the form came from, if that page is on this site."""
    referer = request.META.get("HTTP_REFERER", "")
    back_url = (
        referer
        if url_has_allowed_host_and_scheme(
            referer, allowed_hosts={request.get_host()}, require_https=request.is_secure()
        )
        else ""
    )
    return render(request, "403_csrf.html", {"back_url": back_url}, status=403)

"""The page a person is on, in another language; and the language they chose last time.

Finnish pages have no prefix, Swedish and English ones `/sv/` and `/en/`
(i18n_patterns with prefix_default_language=False). The paths are the same in every
language, so the same page in another language is the same path under another prefix.
"""

from __future__ import annotations

from django.conf import settings
from django.http import HttpResponseRedirect
from django.urls import translate_url
from django.utils.cache import patch_vary_headers
from django.utils.translation import get_language, get_language_from_path

DEFAULT = settings.LANGUAGE_CODE


def _prefix(language: str) -> str:
    return "" if language == DEFAULT else f"/{language}"


def page_in_language(request, language: str) -> str:
    """This page's address (its query string kept) in `language`."""
    full_path = request.get_full_path()
    translated = translate_url(full_path, language)
    if translated != full_path or language == (get_language() or DEFAULT):
        return translated
    # A path no pattern matches (a 404 page): move it under the other prefix as it is.
    current = get_language_from_path(request.path_info) or DEFAULT
    rest = full_path.removeprefix(_prefix(current)) or "/"
    return f"{_prefix(language)}{rest}"


class PreferredLanguageMiddleware:
    """A Finnish (unprefixed) page asked for by someone who chose Swedish or English with
    the language switcher is sent to the same page in their language. A prefixed address
    is always obeyed, so a link to /sv/ shows Swedish, and choosing Finnish sticks."""

    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request):
        chosen = request.COOKIES.get(settings.LANGUAGE_COOKIE_NAME, "")
        unprefixed = get_language_from_path(request.path_info) is None
        if (
            request.method in ("GET", "HEAD")
            and unprefixed
            and chosen != DEFAULT
            and chosen in dict(settings.LANGUAGES)
        ):
            target = translate_url(request.get_full_path(), chosen)
            if target != request.get_full_path():
                response = HttpResponseRedirect(target)
                patch_vary_headers(response, ["Cookie"])
                return response
        response = self.get_response(request)
        if unprefixed:
            patch_vary_headers(response, ["Cookie"])
        return response

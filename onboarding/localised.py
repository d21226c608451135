"""Fields kept once per language (name_fi, name_sv, name_en) and read in the active one."""

from __future__ import annotations

from django.utils.translation import get_language

LANGUAGE_CODES = ("fi", "sv", "en")


def active_language() -> str:
    code = (get_language() or "fi")[:2]
    return code if code in LANGUAGE_CODES else "fi"


def localised(obj: object, field: str, language: str | None = None) -> str:
    """`obj.<field>_<language>`, falling back to Finnish when that one is empty."""
    language = language or active_language()
    return getattr(obj, f"{field}_{language}", "") or getattr(obj, f"{field}_fi")

"""The language switcher's addresses: this page in each language."""

from __future__ import annotations

from django import template
from django.conf import settings
from django.utils.translation import get_language_info

from portal.languages import page_in_language

register = template.Library()


@register.simple_tag(takes_context=True)
def language_choices(context) -> list[dict]:
    request = context["request"]
    return [
        {
            "code": code,
            "name": get_language_info(code)["name_local"],
            "next": page_in_language(request, code),
        }
        for code, _name in settings.LANGUAGES
    ]

"""The terms text in sections, for templates/onboarding/_terms_text.html."""

from __future__ import annotations

from django import template

from onboarding.models import TermsVersion
from onboarding.terms_text import TermsDocument
from onboarding.terms_text import terms_document as _terms_document

register = template.Library()


@register.simple_tag
def terms_document(terms: TermsVersion, versioned_anchors: bool = False) -> TermsDocument:
    """`terms.text` (in the language shown) in sections; anchors carry the version where
    the page shows several versions, so that only one has the plain `section-N`."""
    return _terms_document(terms.text, version=terms.version if versioned_anchors else None)

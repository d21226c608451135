from __future__ import annotations

from django.http import HttpResponse
from django.shortcuts import get_object_or_404, render
from django.utils import timezone

from onboarding import selectors
from onboarding.localised import active_language
from onboarding.models import TermsVersion


def home(request):
    return render(request, "onboarding/home.html", {"terms": selectors.current_terms()})


def terms(request):
    today = timezone.localdate()
    current = selectors.current_terms(on=today)
    versions = list(selectors.published_terms())
    language = active_language()
    for version in versions:
        version.shown_lang = version.shown_language(language)  # for lang="" (WCAG 3.1.2)
    if current is not None:
        current = next(v for v in versions if v.pk == current.pk)
    return render(
        request,
        "onboarding/terms.html",
        {
            "current": current,
            "upcoming": sorted(
                (v for v in versions if v.effective_from > today), key=lambda v: v.effective_from
            ),
            "earlier": [v for v in versions if v.effective_from <= today and v != current],
        },
    )


def terms_canonical(request, version: str):
    """The exact document whose SHA-256 is shown, so anyone can recompute the hash."""
    terms = get_object_or_404(TermsVersion.objects.published(), version=version)
    response = HttpResponse(terms.canonical_content(), content_type="application/json")
    response["Content-Disposition"] = f'inline; filename="mpassid-terms-{terms.version}.json"'
    return response

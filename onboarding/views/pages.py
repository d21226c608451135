from __future__ import annotations

from django.conf import settings
from django.http import HttpResponse
from django.shortcuts import get_object_or_404, render

from onboarding import selectors
from onboarding.models import TermsVersion


def home(request):
    return render(
        request,
        "onboarding/home.html",
        {
            "terms": selectors.current_terms(),
            "legacy_contracts_end": settings.LEGACY_CONTRACTS_END,
        },
    )


def terms(request):
    overview = selectors.terms_overview()
    return render(
        request,
        "onboarding/terms.html",
        {"current": overview.current, "upcoming": overview.upcoming, "earlier": overview.earlier},
    )


def terms_canonical(request, version: str):
    """The exact document whose SHA-256 is shown, so anyone can recompute the hash."""
    terms = get_object_or_404(TermsVersion.objects.published(), version=version)
    response = HttpResponse(terms.canonical_content(), content_type="application/json")
    response["Content-Disposition"] = f'inline; filename="{terms.canonical_filename}"'
    return response

from __future__ import annotations

from django.conf import settings
from django.http import HttpResponse
from django.shortcuts import get_object_or_404, render
from django.utils.translation import get_language

from onboarding import selectors
from onboarding.models import TermsVersion
from onboarding.page_cache import cached_public_page


@cached_public_page
def home(request):
    return render(
        request,
        "onboarding/home.html",
        {
            "terms": selectors.current_terms(),
            "legacy_contracts_end": settings.LEGACY_CONTRACTS_END,
        },
    )


@cached_public_page
def terms(request):
    overview = selectors.terms_overview()
    return render(
        request,
        "onboarding/terms.html",
        {"current": overview.current, "upcoming": overview.upcoming, "earlier": overview.earlier},
    )


def privacy(request):
    """The privacy notice (tietosuojaseloste); public, like every statement."""
    return render(
        request,
        "onboarding/privacy.html",
        {
            "privacy_contact_email": settings.PRIVACY_CONTACT_EMAIL,
            "data_protection_officer_email": settings.DATA_PROTECTION_OFFICER_EMAIL,
            "retention_days": settings.NOTIFICATION_RETENTION_DAYS,
            "ombudsman_url": OMBUDSMAN_URLS.get(get_language(), OMBUDSMAN_URLS["fi"]),
        },
    )


# The Data Protection Ombudsman's site in the reader's language.
OMBUDSMAN_URLS = {
    "fi": "https://tietosuoja.fi/",
    "sv": "https://tietosuoja.fi/sv/",
    "en": "https://tietosuoja.fi/en/",
}


def accessibility(request):
    """The accessibility statement (saavutettavuusseloste), with its feedback address and the
    date of the last assessment."""
    return render(
        request,
        "onboarding/accessibility.html",
        {
            "feedback_email": settings.ACCESSIBILITY_FEEDBACK_EMAIL,
            "assessed_on": settings.ACCESSIBILITY_ASSESSED_ON,
        },
    )


def terms_canonical(request, version: str):
    """The exact document whose SHA-256 is shown, so anyone can recompute the hash."""
    terms = get_object_or_404(TermsVersion.objects.published(), version=version)
    response = HttpResponse(terms.canonical_content(), content_type="application/json")
    response["Content-Disposition"] = f'inline; filename="{terms.canonical_filename}"'
    return response

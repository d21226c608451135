from __future__ import annotations

from django.shortcuts import render

from onboarding import selectors


def home(request):
    return render(request, "onboarding/home.html", {"terms": selectors.current_terms()})

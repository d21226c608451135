"""Reads of the domain: who is a member, which terms are current."""

from __future__ import annotations

from datetime import date

from django.db.models import Count, OuterRef, Q, QuerySet, Subquery
from django.utils import timezone

from onboarding.models import Organisation, TermsAcceptance, TermsVersion


def current_terms(*, on: date | None = None) -> TermsVersion | None:
    """The published version in force on `on` (today): the latest one already effective."""
    on = on or timezone.localdate()
    return (
        TermsVersion.objects.published()
        .filter(effective_from__lte=on)
        .order_by("-effective_from", "-published_at")
        .first()
    )


def organisations_for_review() -> QuerySet[Organisation]:
    """Organisations with what a reviewer's list shows, in a constant number of queries."""
    latest = TermsAcceptance.objects.filter(organisation=OuterRef("pk")).order_by("-accepted_at")
    return Organisation.objects.annotate(
        active_contact_count=Count("contacts", filter=Q(contacts__is_active=True)),
        latest_terms_version=Subquery(latest.values("terms_version__version")[:1]),
        latest_accepted_at=Subquery(latest.values("accepted_at")[:1]),
    )

"""Reads of the domain: who is a member, which terms are current."""

from __future__ import annotations

from datetime import date

from allauth.account.models import EmailAddress
from django.db.models import Count, OuterRef, Q, QuerySet, Subquery
from django.db.models.functions import Lower
from django.utils import timezone

from onboarding.models import (
    ContactPerson,
    Organisation,
    Registration,
    TermsAcceptance,
    TermsVersion,
)


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


def published_terms() -> QuerySet[TermsVersion]:
    return TermsVersion.objects.published().order_by("-effective_from", "-published_at")


def verified_emails(user) -> list[str]:
    if not user.is_authenticated:
        return []
    return [
        email.lower()
        for email in EmailAddress.objects.filter(user=user, verified=True).values_list(
            "email", flat=True
        )
    ]


def organisations_for_user(user) -> QuerySet[Organisation]:
    """The organisations of which the user's verified email is an active contact."""
    emails = verified_emails(user)
    if not emails:
        return Organisation.objects.none()
    contact_of = ContactPerson.objects.annotate(email_lower=Lower("email")).filter(
        email_lower__in=emails, is_active=True
    )
    return Organisation.objects.filter(pk__in=contact_of.values("organisation_id"))


def user_is_contact(user, organisation: Organisation | None) -> bool:
    return (
        organisation is not None
        and organisations_for_user(user).filter(pk=organisation.pk).exists()
    )


def acceptance_due(organisation: Organisation | None, terms: TermsVersion | None) -> bool:
    """Whether a notification for this organisation must accept `terms` (the current ones)."""
    if terms is None:
        return False
    if organisation is None:
        return True
    return not organisation.acceptances.filter(terms_version=terms).exists()


def registrations_visible_to(user) -> QuerySet[Registration]:
    """The user's own notifications and those of organisations they are a contact of."""
    return Registration.objects.filter(
        Q(submitted_by=user) | Q(organisation__in=organisations_for_user(user))
    ).select_related("terms_version", "organisation")


def pending_registrations() -> QuerySet[Registration]:
    """The review queue, oldest first."""
    return Registration.objects.filter(status=Registration.Status.SUBMITTED).order_by(
        "submitted_at"
    )

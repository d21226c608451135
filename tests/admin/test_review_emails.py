"""The review page lists what a notification has sent: its receipt, the reviewers' notices and
the decision; never another notification's emails, nor a campaign's or an announcement's."""

from __future__ import annotations

import pytest
from django.urls import reverse

from onboarding import services
from onboarding.models import OutgoingEmail
from tests.factories import (
    ALICE,
    BORGA,
    CHARLIE,
    ContactPersonFactory,
    contact,
    notification,
    notification_data,
    published_terms,
)

pytestmark = pytest.mark.django_db


def test_the_review_page_lists_exactly_the_notifications_own_emails(
    admin_client, admin_user, terms, alice, bob, charlie, lempaala
):
    ContactPersonFactory(organisation=lempaala, email="hallinto@lempaala.fi")
    ours = notification(terms, user=alice)
    theirs = notification(
        terms,
        user=bob,
        data=notification_data(
            terms,
            oid=BORGA,
            name_fi="Porvoon kaupunki",
            contacts=[contact("kansli@borga.fi"), contact("it@borga.fi", "technical")],
        ),
    )
    services.registration_reject(registration_id=ours.pk, reviewer=admin_user, reason="Typo.")
    services.registration_approve(registration_id=theirs.pk, reviewer=admin_user)
    published_terms(version="2024-9")  # announced to Lempäälä's contacts: not a notice of ours

    response = admin_client.get(reverse("admin:onboarding_registration_change", args=[ours.pk]))

    listed = sorted((email.kind, email.to) for email in response.context["emails"])
    assert listed == sorted(
        [
            ("decision", ALICE),
            ("decision", "hallinto@lempaala.fi"),
            ("receipt", ALICE),
            ("to_review", admin_user.email),
            ("to_review", CHARLIE),
        ]
    )
    page = response.content.decode()
    for email in response.context["emails"]:
        assert f"→ {email.to}: " in page
    assert "borga.fi" not in page
    assert OutgoingEmail.objects.filter(kind="terms_changed", to="hallinto@lempaala.fi").exists()

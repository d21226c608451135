"""The review page lists what a notification has sent: its receipt, the reviewers' notices and
the decision; never another notification's emails, nor a campaign's or an announcement's."""

from __future__ import annotations

import pytest
from django.urls import reverse

from onboarding import services
from onboarding.models import OutgoingEmail
from tests.factories import ContactPersonFactory, OrganisationFactory, UserFactory, published_terms
from tests.notifications import contact, notification_data, submit

pytestmark = pytest.mark.django_db

LEMPAALA = "1.2.246.562.10.74484103937"
BORGA = "1.2.246.562.10.10000000001"


def test_the_review_page_lists_exactly_the_notifications_own_emails(admin_client, admin_user):
    terms = published_terms()
    UserFactory(email="kasittelija@oph.fi", is_staff=True)
    lempaala = OrganisationFactory(oid=LEMPAALA, membership="legacy_contract")
    ContactPersonFactory(organisation=lempaala, email="hallinto@lempaala.fi")
    ours, _created = submit(
        terms,
        user=UserFactory(email="riikka@lempaala.fi"),
        data=notification_data(terms, oid=LEMPAALA),
    )
    theirs, _created = submit(
        terms,
        user=UserFactory(email="rektor@borga.fi"),
        data=notification_data(
            terms,
            oid=BORGA,
            name_fi="Borgå",
            contacts=[contact("kansli@borga.fi"), contact("it@borga.fi", "technical")],
        ),
    )
    services.registration_reject(registration_id=ours.pk, reviewer=admin_user, reason="Typo.")
    services.registration_approve(registration_id=theirs.pk, reviewer=admin_user)
    published_terms(version="2024-9")  # announced to hallinto@lempaala.fi: not a notice of ours

    response = admin_client.get(reverse("admin:onboarding_registration_change", args=[ours.pk]))

    listed = sorted((email.kind, email.to) for email in response.context["emails"])
    assert listed == [
        ("decision", "hallinto@lempaala.fi"),
        ("decision", "riikka@lempaala.fi"),
        ("receipt", "riikka@lempaala.fi"),
        ("to_review", admin_user.email),
        ("to_review", "kasittelija@oph.fi"),
    ]
    page = response.content.decode()
    for email in response.context["emails"]:
        assert f"→ {email.to}: " in page
    assert "borga.fi" not in page
    assert OutgoingEmail.objects.filter(kind="terms_changed", to="hallinto@lempaala.fi").exists()

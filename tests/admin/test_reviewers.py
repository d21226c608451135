"""OPH staff who are not superusers: the Reviewers group lets them review and read history,
and nothing more."""

from __future__ import annotations

import pytest
from allauth.mfa.totp.internal.auth import TOTP, generate_totp_secret
from django.contrib.auth.models import Group
from django.urls import reverse

from onboarding.models import Registration
from onboarding.permissions import REVIEWERS
from tests.factories import ContactPersonFactory, notification

pytestmark = pytest.mark.django_db


@pytest.fixture
def reviewer_client(client, charlie):
    """charlie, in the Reviewers group, signed in to the admin with a second factor."""
    charlie.groups.add(Group.objects.get(name=REVIEWERS))
    TOTP.activate(charlie, generate_totp_secret())
    client.force_login(charlie)
    return client


def test_a_reviewer_decides_a_notification_from_the_queue(reviewer_client, terms):
    registration = notification(terms)
    assert (
        reviewer_client.get(reverse("admin:onboarding_pendingregistration_changelist")).status_code
        == 200
    )
    url = reverse("admin:onboarding_pendingregistration_change", args=[registration.pk])
    assert reviewer_client.get(url).status_code == 200
    reviewer_client.post(url, {"decision": "request_changes", "reason": "Add a security contact."})
    registration.refresh_from_db()
    assert registration.status == Registration.Status.CHANGES_REQUESTED


def test_a_reviewer_reads_the_history_of_organisations_and_contacts(reviewer_client):
    contact = ContactPersonFactory()
    for model, pk in (("organisation", contact.organisation.pk), ("contactperson", contact.pk)):
        history = reviewer_client.get(reverse(f"admin:onboarding_{model}_history", args=[pk]))
        assert history.status_code == 200


def test_a_reviewer_cannot_write_terms_or_campaigns(reviewer_client, terms):
    assert reviewer_client.get(reverse("admin:onboarding_termsversion_add")).status_code == 403
    assert (
        reviewer_client.get(reverse("admin:onboarding_acceptancecampaign_add")).status_code == 403
    )
    change = reviewer_client.get(reverse("admin:onboarding_termsversion_change", args=[terms.pk]))
    assert change.status_code == 200  # to read
    assert reviewer_client.get(reverse("admin:onboarding_user_changelist")).status_code == 403


def test_a_reviewer_follows_campaigns_their_targets_and_reminders(reviewer_client):
    for model in ("acceptancecampaign", "campaigntarget", "campaignmessage", "outgoingemail"):
        changelist = reverse(f"admin:onboarding_{model}_changelist")
        assert reviewer_client.get(changelist).status_code == 200, model

"""One function per kind of email: each writes its outbox row with its kind and what caused
it, once however often the event is told."""

from __future__ import annotations

from datetime import timedelta

import pytest
from django.utils import timezone

from onboarding import emails
from onboarding.models import OutgoingEmail
from onboarding.services.campaigns import campaign_create
from tests.factories import ALICE, CHARLIE, ContactPersonFactory, OrganisationFactory, notification

pytestmark = pytest.mark.django_db


def test_each_kind_links_to_what_caused_it(
    django_capture_on_commit_callbacks, terms, alice, charlie
):
    member = OrganisationFactory(name_fi="Aaltola", membership="legacy_contract")
    contact = ContactPersonFactory(organisation=member, email="Rehtori@Aaltola.fi")
    campaign = campaign_create(
        terms_version=terms, deadline=timezone.localdate() + timedelta(days=90), audience="legacy"
    )
    OutgoingEmail.objects.all().delete()
    with django_capture_on_commit_callbacks():
        registration = notification(terms, user=alice)
    [reminder] = emails.campaign_messages(
        campaign=campaign,
        step="30",
        today=timezone.localdate(),
        recipients=[emails.CampaignRecipient(member, contact, link="https://example.fi/x")],
    )
    [summary] = emails.campaign_summary(campaign, ["Aaltola"])
    [announcement] = emails.terms_changed(terms)

    receipt = registration.emails.get(kind="receipt")
    assert receipt.key == f"receipt:{registration.pk}:{ALICE}"
    assert [e.to for e in registration.emails.filter(kind="to_review")] == [CHARLIE]
    assert (reminder.kind, reminder.campaign, reminder.organisation) == (
        "campaign_reminder",
        campaign,
        member,
    )
    assert reminder.key == f"campaign_reminder:{campaign.pk}:{member.pk}:30:rehtori@aaltola.fi"
    assert (summary.kind, summary.campaign, summary.to) == (
        "campaign_summary",
        campaign,
        CHARLIE,
    )
    assert (announcement.kind, announcement.terms_version, announcement.organisation) == (
        "terms_changed",
        terms,
        member,
    )


def test_an_event_told_twice_writes_its_emails_once(django_capture_on_commit_callbacks, terms):
    registration = notification(terms)
    with django_capture_on_commit_callbacks() as enqueued:
        again = emails.registration_receipt(registration)
        decisions = emails.registration_decision(registration, "registration_rejected")
        decisions_again = emails.registration_decision(registration, "registration_rejected")
    assert again == registration.emails.get(kind="receipt")
    assert decisions == decisions_again
    assert len(enqueued) == len(decisions)  # only the new rows are sent


def test_a_long_key_is_shortened_without_two_becoming_one(terms):
    registration = notification(terms)
    long = "x" * 190
    first = emails.email_key("decision", {"registration": registration}, "", f"{long}1@a.fi")
    second = emails.email_key("decision", {"registration": registration}, "", f"{long}2@a.fi")
    assert len(first) <= 200 and len(second) <= 200
    assert first != second

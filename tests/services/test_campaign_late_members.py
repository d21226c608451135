"""Legacy members imported after a campaign's launch join it: invited at once, then the
reminder steps still ahead, never a step whose day has passed, and nothing twice."""

from __future__ import annotations

from datetime import timedelta

import pytest
from django.core.exceptions import ValidationError
from django.utils import timezone

from onboarding.legacy_import import parse_legacy_members
from onboarding.models import CampaignMessage, OutgoingEmail
from onboarding.services.campaigns import (
    campaign_create,
    campaign_launch,
    campaign_targets_add,
    reminders_send_due,
)
from onboarding.services.legacy_members import legacy_members_import
from tests.factories import launched_campaign, legacy_member, published_terms
from tests.importing import LEMPAALA, csv_bytes, row

pytestmark = pytest.mark.django_db

TODAY = timezone.localdate()
DEADLINE = TODAY + timedelta(days=10)  # steps: 14 days before (passed), 7 and 1 (ahead)


@pytest.fixture
def campaign(terms):
    """Launched 10 days ago, its invitations sent then, and the 14-day step four days ago."""
    legacy_member("Alkuperäinen", "alku@koulu.fi", language="en")
    campaign = launched_campaign(terms, deadline=DEADLINE, offsets=[14, 7, 1], launched_days_ago=10)
    reminders_send_due(today=DEADLINE - timedelta(days=14))
    return campaign


def steps_of(email: str) -> list[str]:
    return list(
        CampaignMessage.objects.filter(recipient=email)
        .order_by("pk")
        .values_list("step", flat=True)
    )


def test_a_member_imported_after_the_launch_is_invited_at_once_and_then_reminded(campaign):
    legacy_member("Myöhäinen", "myoha@koulu.fi", language="en")

    added = campaign_targets_add(campaign_id=campaign.pk)

    assert added.names == ["Myöhäinen"]
    assert steps_of("myoha@koulu.fi") == ["invitation"]
    assert OutgoingEmail.objects.filter(to="myoha@koulu.fi").count() == 1
    assert reminders_send_due(today=TODAY) == []  # the 14-day step had passed: not sent
    sent = reminders_send_due(today=DEADLINE - timedelta(days=7))
    assert sorted(m.recipient for m in sent) == ["alku@koulu.fi", "myoha@koulu.fi"]
    reminders_send_due(today=DEADLINE - timedelta(days=1))
    assert steps_of("myoha@koulu.fi") == ["invitation", "7", "1"]
    assert steps_of("alku@koulu.fi") == ["invitation", "14", "7", "1"]


def test_adding_again_adds_and_sends_nothing_twice(campaign):
    legacy_member("Myöhäinen", "myoha@koulu.fi", language="en")
    campaign_targets_add(campaign_id=campaign.pk)
    again = campaign_targets_add(campaign_id=campaign.pk)
    assert again.names == []
    assert OutgoingEmail.objects.filter(to="myoha@koulu.fi").count() == 1


def test_an_import_naming_the_campaign_adds_the_files_new_members(campaign):
    # Not in the file: left for the admin to add.
    legacy_member("Muu myöhäinen", "muu@koulu.fi", language="en")
    rows = parse_legacy_members(csv_bytes([row(contact_language="en")])).rows

    preview = legacy_members_import(rows=rows, dry_run=True, campaign_ids=[campaign.pk])
    assert [added.names for added in preview.campaigns] == [["Lempäälän kunta"]]
    assert not OutgoingEmail.objects.filter(to="riikka@lempaala.fi").exists()

    result = legacy_members_import(rows=rows, campaign_ids=[campaign.pk])
    assert "1 organisation joins and is invited at once." in result.summary_lines()[-1]
    assert steps_of("riikka@lempaala.fi") == ["invitation"]
    assert steps_of("muu@koulu.fi") == []
    assert campaign.targets.filter(organisation__oid=LEMPAALA).exists()


def test_a_campaign_not_running_takes_no_members_and_the_import_writes_nothing(campaign):
    reminders_send_due(today=DEADLINE + timedelta(days=1))  # the lapse closes the campaign
    rows = parse_legacy_members(csv_bytes([row()])).rows
    with pytest.raises(ValidationError, match="takes no more organisations"):
        legacy_members_import(rows=rows, campaign_ids=[campaign.pk])
    assert not OutgoingEmail.objects.filter(to="riikka@lempaala.fi").exists()
    draft = campaign_create(terms_version=published_terms(), deadline=DEADLINE, audience="legacy")
    with pytest.raises(ValidationError, match="has not been launched"):
        campaign_targets_add(campaign_id=draft.pk)


def test_a_member_another_running_campaign_asks_is_left_to_it(campaign):
    terms = campaign.terms_version
    member = legacy_member("Myöhäinen", "myoha@koulu.fi", language="en")
    other = campaign_create(terms_version=terms, deadline=DEADLINE, audience="members")
    campaign_launch(campaign_id=other.pk)  # same deadline: it may run, and now asks Myöhäinen
    assert campaign_targets_add(campaign_id=campaign.pk).names == []
    assert not campaign.targets.filter(organisation=member).exists()

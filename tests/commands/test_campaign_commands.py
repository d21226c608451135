from __future__ import annotations

from datetime import timedelta
from io import StringIO

import pytest
from django.core.management import CommandError, call_command
from django.utils import timezone

from onboarding.models import AcceptanceCampaign, Reminder
from tests.factories import ContactPersonFactory, OrganisationFactory, published_terms

pytestmark = pytest.mark.django_db
DEADLINE = timezone.localdate() + timedelta(days=45)


def run(*args) -> str:
    out = StringIO()
    call_command(*args, stdout=out)
    return out.getvalue()


@pytest.fixture
def member():
    organisation = OrganisationFactory(name_fi="Kunta", membership="legacy_contract")
    ContactPersonFactory(organisation=organisation, email="hallinto@kunta.fi")
    return organisation


def test_start_campaign_creates_launches_and_invites(member):
    published_terms(version="2024-1")
    output = run(
        "start_campaign",
        "2024-1",
        "--deadline",
        DEADLINE.isoformat(),
        "--targets",
        "legacy",
        "--offsets",
        "30,7",
    )
    campaign = AcceptanceCampaign.objects.get()
    assert campaign.reminder_offsets == [30, 7] and campaign.is_launched
    assert "1 organisation(s) invited" in output
    assert Reminder.objects.get().recipient == "hallinto@kunta.fi"


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (["9999-9", "--deadline", "2030-01-01", "--targets", "legacy"], "No published"),
        (["2024-1", "--deadline", "1.1.2030", "--targets", "legacy"], "Bad --deadline"),
        (["2024-1", "--deadline", "2020-01-01", "--targets", "legacy"], "future"),
    ],
)
def test_start_campaign_explains_what_is_wrong(args, message):
    published_terms(version="2024-1")
    with pytest.raises(CommandError, match=message):
        run("start_campaign", *args)
    assert not AcceptanceCampaign.objects.filter(launched_at__isnull=False).exists()


def test_send_reminders_for_a_date_prints_what_it_sends_and_a_dry_run_sends_nothing(member):
    published_terms(version="2024-1")
    run("start_campaign", "2024-1", "--deadline", DEADLINE.isoformat(), "--targets", "legacy")
    day = (DEADLINE - timedelta(days=30)).isoformat()
    dry = run("send_reminders", "--date", day, "--dry-run")
    assert "would send: " in dry and "step 30 → hallinto@kunta.fi" in dry
    assert Reminder.objects.filter(step="30").count() == 0
    sent = run("send_reminders", "--date", day)
    assert "1 message(s) sent." in sent
    assert "0 message(s) sent." in run("send_reminders", "--date", day)


def test_send_reminders_refuses_a_bad_date():
    with pytest.raises(CommandError, match="YYYY-MM-DD"):
        run("send_reminders", "--date", "eilen")


def test_a_future_date_never_lapses_a_campaign_ahead_of_time(member):
    published_terms(version="2024-1")
    run("start_campaign", "2024-1", "--deadline", DEADLINE.isoformat(), "--targets", "legacy")
    after = (DEADLINE + timedelta(days=1)).isoformat()
    with pytest.raises(CommandError, match="before their deadline"):
        run("send_reminders", "--date", after)
    member.refresh_from_db()
    assert member.membership == "legacy_contract"
    assert "step lapsed" in run("send_reminders", "--date", after, "--dry-run")

from __future__ import annotations

from datetime import timedelta
from io import StringIO

import pytest
from django.core.management import CommandError, call_command
from django.utils import timezone

from onboarding.models import AcceptanceCampaign, CampaignMessage
from tests.factories import backdate_launch, legacy_member, published_terms

pytestmark = pytest.mark.django_db
DEADLINE = timezone.localdate() + timedelta(days=45)


def run(*args) -> str:
    out = StringIO()
    call_command(*args, stdout=out)
    return out.getvalue()


@pytest.fixture
def member():
    return legacy_member("Kunta", "hallinto@kunta.fi")


def test_start_campaign_creates_launches_and_invites(member, terms):
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
    assert CampaignMessage.objects.get().recipient == "hallinto@kunta.fi"


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (["9999-9", "--deadline", "2030-01-01", "--targets", "legacy"], "No published"),
        (["2024-1", "--deadline", "1.1.2030", "--targets", "legacy"], "Bad --deadline"),
        (["2024-1", "--deadline", "2020-01-01", "--targets", "legacy"], "future"),
    ],
)
def test_start_campaign_explains_what_is_wrong(args, message, terms):
    with pytest.raises(CommandError, match=message):
        run("start_campaign", *args)
    assert not AcceptanceCampaign.objects.filter(launched_at__isnull=False).exists()


def test_send_reminders_prints_what_it_sends_and_a_dry_run_sends_nothing(member, terms):
    run("start_campaign", "2024-1", "--deadline", DEADLINE.isoformat(), "--targets", "legacy")
    # Launched and invited 20 days ago: the 60-day reminder fell due 15 days ago, still owed.
    backdate_launch(AcceptanceCampaign.objects.get(), days=20)
    dry = run("send_reminders", "--dry-run")
    assert "would send: " in dry and "step 60 → hallinto@kunta.fi" in dry
    assert CampaignMessage.objects.filter(step="60").count() == 0
    later = (DEADLINE - timedelta(days=30)).isoformat()
    assert "step 30 → hallinto@kunta.fi" in run("send_reminders", "--date", later, "--dry-run")
    assert "1 message(s) sent." in run("send_reminders", "--date", timezone.localdate().isoformat())
    assert "0 message(s) sent." in run("send_reminders")


def test_a_dry_run_lists_the_invitations_a_real_run_would_still_send(member, terms):
    run("start_campaign", "2024-1", "--deadline", DEADLINE.isoformat(), "--targets", "legacy")
    CampaignMessage.objects.all().delete()  # as if the launch crashed before inviting
    assert "step invitation → hallinto@kunta.fi" in run("send_reminders", "--dry-run")
    assert "1 message(s) sent." in run("send_reminders")


def test_send_reminders_refuses_a_bad_date():
    with pytest.raises(CommandError, match="YYYY-MM-DD"):
        run("send_reminders", "--date", "eilen")


def test_a_future_date_never_lapses_a_campaign_ahead_of_time(member, terms):
    run("start_campaign", "2024-1", "--deadline", DEADLINE.isoformat(), "--targets", "legacy")
    after = (DEADLINE + timedelta(days=1)).isoformat()
    with pytest.raises(CommandError, match="in the future: use --dry-run"):
        run("send_reminders", "--date", after)
    member.refresh_from_db()
    assert member.membership == "legacy_contract"
    assert "step lapsed" in run("send_reminders", "--date", after, "--dry-run")


def test_a_campaign_that_cannot_launch_yet_is_not_left_behind(member, terms):
    published_terms(version="2099-1", effective_from=timezone.localdate() + timedelta(days=10))
    args = ("start_campaign", "2099-1", "--deadline", DEADLINE.isoformat(), "--targets", "members")
    with pytest.raises(CommandError, match="not the version in force"):
        run(*args)
    assert not AcceptanceCampaign.objects.exists()
    with pytest.raises(CommandError, match="not the version in force"):
        run(*args)  # the same answer again, not "already has a campaign"


def test_start_campaign_refuses_an_empty_list_of_reminder_days(member, terms):
    with pytest.raises(CommandError, match="at least one reminder day"):
        run(
            "start_campaign",
            "2024-1",
            "--deadline",
            DEADLINE.isoformat(),
            "--targets",
            "legacy",
            "--offsets",
            ",",
        )

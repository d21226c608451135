"""A campaign walked through time: launch, every reminder step, the lapse, a late acceptance."""

from __future__ import annotations

from collections.abc import Callable
from datetime import date, timedelta
from typing import Any

import pytest
from django.core.exceptions import ValidationError
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.utils import timezone

from onboarding import emails, selectors
from onboarding.models import CampaignMessage, Organisation, OutgoingEmail, TermsAcceptance
from onboarding.services.campaigns import (
    CampaignsFailed,
    campaign_create,
    campaign_launch,
    reminders_send_due,
)
from tests.factories import (
    CHARLIE,
    ContactPersonFactory,
    OrganisationFactory,
    TermsAcceptanceFactory,
    legacy_member,
    published_terms,
)

pytestmark = pytest.mark.django_db

TODAY = timezone.localdate()
DEADLINE = TODAY + timedelta(days=100)


@pytest.fixture
def campaign(terms):
    return campaign_create(terms_version=terms, deadline=DEADLINE, audience="legacy")


Picks = Callable[[dict[str, Any]], bool]  # given a message's campaign and organisation


def failing_campaign_messages(error: Exception, when: Picks) -> Callable[..., list]:
    """`emails.campaign_messages`, which the campaigns call for each batch of messages they
    write, raising `error` for a batch with a message `when` picks: a worker lost or a template
    missing in the middle of a run."""
    real = emails.campaign_messages

    def campaign_messages(**batch: Any) -> list[OutgoingEmail]:
        messages = [
            {"campaign": batch["campaign"], "organisation": recipient.organisation}
            for recipient in batch["recipients"]
        ]
        if any(when(message) for message in messages):
            raise error
        return real(**batch)

    return campaign_messages


def to(name: str) -> Picks:
    return lambda message: message["organisation"].name_fi == name


@pytest.fixture
def one_by_one(settings) -> None:
    """Each organisation's messages written in a transaction of their own (batches of one)."""
    settings.CAMPAIGN_BATCH_SIZE = 1


def steps_sent() -> list[tuple[str, str]]:
    return sorted(CampaignMessage.objects.values_list("step", "recipient"))


def test_launching_invites_each_legacy_members_administrative_contacts_once(campaign):
    legacy_member("Aaltola", "a@aaltola.fi", "b@aaltola.fi")
    legacy_member("Borgå", "c@borga.fi", language="sv")
    OrganisationFactory(membership="terms_accepted")
    OrganisationFactory(membership="none")
    assert campaign_launch(campaign_id=campaign.pk) == 2
    assert campaign_launch(campaign_id=campaign.pk) == 2  # a second launch sends nothing
    assert steps_sent() == [
        ("invitation", "a@aaltola.fi"),
        ("invitation", "b@aaltola.fi"),
        ("invitation", "c@borga.fi"),
    ]
    swedish = OutgoingEmail.objects.get(to="c@borga.fi")
    assert swedish.language == "sv"
    assert "/sv/invitations/" in swedish.body_text


def test_a_campaign_walks_every_step_to_the_lapse_and_a_late_acceptance(campaign, terms):
    slow = legacy_member("Hidas", "hidas@koulu.fi")
    quick = legacy_member("Nopea", "nopea@koulu.fi")
    campaign_launch(campaign_id=campaign.pk)
    sent_on = {}
    day = TODAY
    while day <= DEADLINE + timedelta(days=2):
        for message in reminders_send_due(today=day):
            sent_on.setdefault(message.step, []).append((day, message.recipient))
        if day == DEADLINE - timedelta(days=20):
            TermsAcceptanceFactory(organisation=quick, terms_version=terms)
        day += timedelta(days=1)

    def on(offset):
        return DEADLINE - timedelta(days=offset)

    assert sent_on["60"] == [(on(60), "hidas@koulu.fi"), (on(60), "nopea@koulu.fi")]
    assert sent_on["30"] == [(on(30), "hidas@koulu.fi"), (on(30), "nopea@koulu.fi")]
    for offset in ("14", "7", "1"):
        assert sent_on[offset] == [(on(int(offset)), "hidas@koulu.fi")]
    day_after = DEADLINE + timedelta(days=1)
    assert sorted(sent_on["lapsed"]) == [
        (day_after, "hidas@koulu.fi"),
        (day_after, "it.hidas@koulu.fi"),
    ]
    slow.refresh_from_db()
    quick.refresh_from_db()
    assert slow.membership == Organisation.Membership.LAPSED
    assert quick.membership == Organisation.Membership.LEGACY_CONTRACT  # factory, not approval
    campaign.refresh_from_db()
    assert campaign.lapsed_at is not None
    assert (
        OutgoingEmail.objects.filter(
            kind=OutgoingEmail.Kind.CAMPAIGN_SUMMARY, campaign=campaign
        ).count()
        == 0
    )  # no staff users in this test

    TermsAcceptanceFactory(
        organisation=slow, terms_version=terms, accepted_at=timezone.now() + timedelta(days=103)
    )
    report = selectors.campaign_report(campaign)
    assert (
        report.targets,
        report.accepted_on_time,
        report.accepted_late,
        report.pending,
        report.lapsed,
    ) == (2, 1, 1, 0, 0)
    assert dict(report.reminders_per_step) == {
        "invitation": 2,
        "60": 2,
        "30": 2,
        "14": 1,
        "7": 1,
        "1": 1,
        "lapsed": 2,
    }


def test_after_days_without_a_scheduler_only_the_latest_due_step_is_sent(campaign):
    legacy_member("Unohdettu", "u@koulu.fi")
    campaign_launch(campaign_id=campaign.pk)
    reminders_send_due(today=DEADLINE - timedelta(days=10))
    assert [step for step, _r in steps_sent()] == ["14", "invitation"]
    reminders_send_due(today=DEADLINE - timedelta(days=10))
    reminders_send_due(today=DEADLINE - timedelta(days=9))
    assert CampaignMessage.objects.count() == 2


def test_a_step_due_before_the_launch_is_covered_by_the_invitation(terms):
    campaign = campaign_create(
        terms_version=terms, deadline=TODAY + timedelta(days=20), audience="legacy"
    )
    legacy_member("Myöhässä", "m@koulu.fi")
    campaign_launch(campaign_id=campaign.pk)
    assert reminders_send_due(today=TODAY) == []
    assert [m.step for m in reminders_send_due(today=TODAY + timedelta(days=6))] == ["14"]


def test_the_dry_run_lists_what_is_due_and_sends_nothing(campaign):
    legacy_member("Kuiva", "k@koulu.fi")
    campaign_launch(campaign_id=campaign.pk)
    before = OutgoingEmail.objects.count()
    planned = reminders_send_due(today=DEADLINE - timedelta(days=30), dry_run=True)
    assert [(m.step, m.recipient) for m in planned] == [("30", "k@koulu.fi")]
    assert OutgoingEmail.objects.count() == before
    lapse = reminders_send_due(today=DEADLINE + timedelta(days=1), dry_run=True)
    assert {m.step for m in lapse} == {"lapsed"}
    assert Organisation.objects.get(name_fi="Kuiva").membership == "legacy_contract"


def test_staff_get_one_summary_when_the_campaign_closes(campaign, charlie):
    legacy_member("Rauennut", "r@koulu.fi")
    campaign_launch(campaign_id=campaign.pk)
    reminders_send_due(today=DEADLINE + timedelta(days=1))
    reminders_send_due(today=DEADLINE + timedelta(days=2))
    summary = OutgoingEmail.objects.get(kind=OutgoingEmail.Kind.CAMPAIGN_SUMMARY, campaign=campaign)
    assert summary.to == CHARLIE
    assert "Rauennut" in summary.body_text


def test_a_re_acceptance_campaign_asks_every_member(terms):
    newer = published_terms(
        version="2025-1", requires_reacceptance=True, effective_from=date(2025, 1, 1)
    )
    accepted = TermsAcceptanceFactory(terms_version=terms).organisation
    ContactPersonFactory(organisation=accepted, email="member@koulu.fi")
    legacy_member("Vanha", "vanha@koulu.fi")
    OrganisationFactory(membership="lapsed")
    campaign = campaign_create(terms_version=newer, deadline=DEADLINE, audience="members")
    assert campaign_launch(campaign_id=campaign.pk) == 2


def test_a_campaign_needs_published_terms_a_future_deadline_and_positive_days(terms):
    with pytest.raises(ValidationError):
        campaign_create(terms_version=terms, deadline=TODAY, audience="legacy")
    with pytest.raises(ValidationError):
        campaign_create(terms_version=terms, deadline=DEADLINE, audience="legacy", offsets=[7, 0])


def test_a_version_not_yet_in_force_cannot_be_launched(terms):
    future = published_terms(version="2099-1", effective_from=TODAY + timedelta(days=30))
    campaign = campaign_create(terms_version=future, deadline=DEADLINE, audience="members")
    with pytest.raises(ValidationError, match="not the version in force"):
        campaign_launch(campaign_id=campaign.pk)


def test_an_invitation_lost_in_a_crash_is_sent_by_the_next_run(campaign, monkeypatch):
    """The batch of both fails; written again one at a time, Eka's invitation is kept."""
    legacy_member("Eka", "eka@koulu.fi")
    legacy_member("Toka", "toka@koulu.fi")
    with monkeypatch.context() as crashing:
        lost = ConnectionError("worker lost")
        crashing.setattr(emails, "campaign_messages", failing_campaign_messages(lost, to("Toka")))
        with pytest.raises(ConnectionError):
            campaign_launch(campaign_id=campaign.pk)
    assert steps_sent() == [("invitation", "eka@koulu.fi")]
    reminders_send_due(today=TODAY)
    assert sorted(r for _s, r in steps_sent()) == ["eka@koulu.fi", "toka@koulu.fi"]


def test_an_organisation_that_accepted_a_later_version_is_not_pending(campaign, terms):
    member = legacy_member("Edellä", "e@koulu.fi")
    campaign_launch(campaign_id=campaign.pk)
    later = published_terms(version="2030-1", effective_from=date(2025, 6, 1))
    TermsAcceptanceFactory(organisation=member, terms_version=later)
    assert reminders_send_due(today=DEADLINE - timedelta(days=30)) == []
    report = selectors.campaign_report(campaign)
    assert (report.pending, report.accepted_on_time) == (0, 1)


def test_an_organisation_that_accepts_while_the_run_is_under_way_gets_no_reminder(
    campaign, terms, monkeypatch, one_by_one
):
    legacy_member("Eka", "eka@koulu.fi")
    toka = legacy_member("Toka", "toka@koulu.fi")
    campaign_launch(campaign_id=campaign.pk)
    real = emails.campaign_messages

    def toka_accepts_meanwhile(**batch: Any) -> list[OutgoingEmail]:
        # The run has listed Toka as pending; it accepts while Eka's reminder is written.
        if not TermsAcceptance.objects.filter(organisation=toka).exists():
            TermsAcceptanceFactory(organisation=toka, terms_version=terms)
        return real(**batch)

    monkeypatch.setattr(emails, "campaign_messages", toka_accepts_meanwhile)
    sent = reminders_send_due(today=DEADLINE - timedelta(days=30))
    assert [m.recipient for m in sent] == ["eka@koulu.fi"]
    assert not CampaignMessage.objects.filter(organisation=toka, step="30").exists()


def test_the_summary_names_organisations_lapsed_by_a_run_that_was_cut_short(
    campaign, charlie, monkeypatch
):
    legacy_member("Aaltola", "a@aaltola.fi")
    legacy_member("Borgå", "b@borga.fi")
    campaign_launch(campaign_id=campaign.pk)
    with monkeypatch.context() as crashing:
        lost = ConnectionError("worker lost")
        crashing.setattr(emails, "campaign_messages", failing_campaign_messages(lost, to("Borgå")))
        with pytest.raises(CampaignsFailed):
            reminders_send_due(today=DEADLINE + timedelta(days=1))
    assert Organisation.objects.get(name_fi="Borgå").membership == "legacy_contract"
    reminders_send_due(today=DEADLINE + timedelta(days=2))
    summary = OutgoingEmail.objects.get(kind=OutgoingEmail.Kind.CAMPAIGN_SUMMARY, campaign=campaign)
    assert summary.to == CHARLIE
    assert "Aaltola" in summary.body_text and "Borgå" in summary.body_text


def test_a_failing_campaign_is_reported_after_the_others_have_sent(terms, monkeypatch):
    legacy_member("Eka", "eka@koulu.fi")
    first = campaign_create(terms_version=terms, deadline=DEADLINE, audience="legacy")
    second = campaign_create(terms_version=terms, deadline=DEADLINE, audience="members")
    campaign_launch(campaign_id=first.pk)
    campaign_launch(campaign_id=second.pk)
    missing = RuntimeError("template missing")
    monkeypatch.setattr(
        emails,
        "campaign_messages",
        failing_campaign_messages(missing, lambda message: message["campaign"].pk == first.pk),
    )
    with pytest.raises(CampaignsFailed, match="template missing") as failed:
        reminders_send_due(today=DEADLINE - timedelta(days=30))
    assert list(failed.value.failures) == [first.pk]
    assert [(m.campaign_id, m.step) for m in failed.value.planned] == [(second.pk, "30")]
    assert CampaignMessage.objects.filter(campaign=second, step="30").exists()


def test_a_campaign_needs_at_least_one_reminder_day(terms):
    with pytest.raises(ValidationError, match="at least one reminder day"):
        campaign_create(terms_version=terms, deadline=DEADLINE, audience="legacy", offsets=[])


def test_an_invitation_asks_for_a_new_version_only_of_who_accepted_an_earlier_one(terms):
    newer = published_terms(version="2025-1", effective_from=date(2025, 1, 1))
    earlier = TermsAcceptanceFactory(
        organisation__name_fi="Edellinen", terms_version=terms
    ).organisation
    ContactPersonFactory(organisation=earlier, email="edellinen@koulu.fi", language="en")
    legacy_member("Vanha", "vanha@koulu.fi", language="en")
    campaign = campaign_create(terms_version=newer, deadline=DEADLINE, audience="members")

    campaign_launch(campaign_id=campaign.pk)

    renewal = OutgoingEmail.objects.get(to="edellinen@koulu.fi")
    assert renewal.subject.startswith("MPASSid: accept the new version of the terms of use by")
    for body in (renewal.body_text, renewal.body_html):
        assert f"accepted version {terms.version} on" in body
        assert "must now accept the new version 2025-1" in body
    first = OutgoingEmail.objects.get(to="vanha@koulu.fi")
    assert first.subject.startswith("MPASSid: accept the terms of use by")
    for body in (first.body_text, first.body_html):
        assert "new version" not in body
        assert "the organisation must accept the terms of use" in body


def test_a_run_asks_the_database_as_often_for_twelve_organisations_as_for_two(terms, charlie):
    """Launch, a reminder step and the lapse each write a batch of organisations in a fixed
    number of queries: a campaign to thousands costs queries per batch, not per organisation."""

    def queries(work: Callable[[], object]) -> int:
        with CaptureQueriesContext(connection) as captured:
            work()
        return len(captured)

    def walk(names: list[str], version) -> tuple[list[int], int]:
        for name in names:
            legacy_member(name, f"a@{name}.fi", f"b@{name}.fi")
        campaign = campaign_create(terms_version=version, deadline=DEADLINE, audience="legacy")
        counts = [
            queries(lambda: campaign_launch(campaign_id=campaign.pk, today=TODAY)),
            queries(lambda: reminders_send_due(today=DEADLINE - timedelta(days=30))),
            queries(lambda: reminders_send_due(today=DEADLINE + timedelta(days=1))),
        ]
        return counts, CampaignMessage.objects.filter(campaign=campaign).count()

    two, two_messages = walk(["eka", "toka"], terms)
    # One campaign a version per audience: the next round asks a version in force since today.
    newer = published_terms(version="2026-2", effective_from=TODAY)
    twelve, twelve_messages = walk([f"kunta{n}" for n in range(12)], newer)
    # Two administrative contacts each: invitation and reminder; the lapse adds the technical.
    assert (two_messages, twelve_messages) == (2 * 7, 12 * 7)
    assert twelve == two, (two, twelve)


def test_a_person_who_is_two_of_the_contacts_gets_one_lapse_notice(campaign):
    """The lapse notice goes to every active contact, and one person may be both the
    administrative and the technical contact: one message to the address, and the lapse
    completes."""
    member = legacy_member("Yksi", "rehtori@yksi.fi")
    ContactPersonFactory(
        organisation=member, email="Rehtori@Yksi.fi", role="technical", language="sv"
    )
    campaign_launch(campaign_id=campaign.pk)

    reminders_send_due(today=DEADLINE + timedelta(days=1))

    notices = OutgoingEmail.objects.filter(kind="campaign_lapsed", organisation=member)
    assert sorted(e.to for e in notices) == ["it.rehtori@yksi.fi", "rehtori@yksi.fi"]
    # Written as to the administrative contact: in their language (Finnish), not Swedish.
    assert notices.get(to="rehtori@yksi.fi").language == "fi"
    member.refresh_from_db()
    assert member.membership == "lapsed"

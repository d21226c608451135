"""A campaign's messages through Redis, a real worker and an SMTP server: each contact gets
each step once, in their own language, however often (and however parallel) the day runs."""

from __future__ import annotations

from collections import Counter
from datetime import timedelta

import pytest
from django.utils import timezone

from onboarding.emails import render_email
from onboarding.models import CampaignMessage, Organisation, OutgoingEmail
from onboarding.services.campaigns import reminders_send_due
from onboarding.tasks import send_due_reminders
from tests.factories import ContactPersonFactory, OrganisationFactory, launched_campaign
from tests.integration.broker import QUEUES, WORKER_DB, queue_length

pytestmark = [
    pytest.mark.redis,
    pytest.mark.django_db(transaction=True),
    # Celery's Redis result backend calls redis-py's deprecated setex(); not ours to fix.
    pytest.mark.filterwarnings("ignore:Call to deprecated setex:DeprecationWarning"),
]

CONTACTS = {  # administrative contact → language
    "aino@aaltola.fi": "fi",
    "alex@aaltola.fi": "en",
    "bjorn@borga.fi": "sv",
    "cecilia@kaskinen.fi": "sv",
    "eero@espoo.fi": "fi",
}


@pytest.fixture
def celery_worker_pool() -> str:
    return "threads"  # two tasks can run at once, as with two workers


@pytest.fixture
def celery_worker_parameters() -> dict:
    return {
        "perform_ping_check": False,
        "shutdown_timeout": 30,
        "concurrency": 2,
        "queues": QUEUES,
    }


@pytest.fixture
def smtp(smtp_settings, celery_worker):
    return smtp_settings


@pytest.fixture
def legacy_members(terms) -> list[Organisation]:
    """Three legacy members, their administrative contacts in Finnish, Swedish and English;
    each also has a technical contact, whom a campaign does not write to. They join after the
    terms were published: publishing announced nothing to them."""
    members = []
    for name, domain in [
        ("Aaltola", "aaltola.fi"),
        ("Borgå", "borga.fi"),
        ("Kaskö", "kaskinen.fi"),
    ]:
        organisation = OrganisationFactory(name_fi=name, membership="legacy_contract")
        for address, language in CONTACTS.items():
            if address.endswith(domain):
                ContactPersonFactory(organisation=organisation, email=address, language=language)
        ContactPersonFactory(organisation=organisation, role="technical", email=f"it@{domain}")
        members.append(organisation)
    espoo = OrganisationFactory(name_fi="Espoo", membership="legacy_contract")
    ContactPersonFactory(organisation=espoo, email="eero@espoo.fi", language="fi")
    return [*members, espoo]


def arrived(smtp, wait_until, count: int) -> None:
    """`count` messages in all have arrived, the queue is empty, and no more come."""
    wait_until(lambda: len(smtp.received) >= count, f"{count} messages at the SMTP server")
    wait_until(lambda: queue_length(WORKER_DB) == 0, "the queue to empty")
    wait_until(
        lambda: not OutgoingEmail.objects.filter(status="queued").exists(),
        "every email to be sent",
    )
    assert len(smtp.received) == count


def subjects_by_recipient(smtp) -> dict[str, list[str]]:
    subjects: dict[str, list[str]] = {}
    for message in smtp.received:
        for recipient in message.recipients:
            subjects.setdefault(recipient, []).append(message.subject)
    return subjects


def test_invitations_and_a_reminder_arrive_once_per_contact_in_their_language(
    smtp, terms, legacy_members, wait_until
):
    deadline = timezone.localdate() + timedelta(days=40)
    campaign = launched_campaign(terms, deadline=deadline)
    arrived(smtp, wait_until, len(CONTACTS))

    invitation = {
        language: render_email("campaign_invitation", {"campaign": campaign}, language)[0]
        for language in ("fi", "sv", "en")
    }
    assert len(set(invitation.values())) == 3, "the subject reads differently per language"
    assert subjects_by_recipient(smtp) == {
        address: [invitation[language]] for address, language in CONTACTS.items()
    }

    planned = reminders_send_due(today=deadline - timedelta(days=30))
    assert sorted(m.recipient for m in planned) == sorted(CONTACTS)
    arrived(smtp, wait_until, 2 * len(CONTACTS))
    assert reminders_send_due(today=deadline - timedelta(days=30)) == []

    reminder = {
        language: render_email("campaign_reminder", {"days_left": 30}, language)[0]
        for language in ("fi", "sv", "en")
    }
    assert len(set(reminder.values())) == 3
    assert subjects_by_recipient(smtp) == {
        address: [invitation[language], reminder[language]]
        for address, language in CONTACTS.items()
    }
    assert smtp.recipients() == Counter({address: 2 for address in CONTACTS})
    assert CampaignMessage.objects.count() == 2 * len(CONTACTS)
    assert set(OutgoingEmail.objects.values_list("status", "attempts")) == {("sent", 1)}


def test_the_daily_task_sends_the_due_step_once_however_often_it_runs(
    smtp, terms, legacy_members, wait_until, celery_app
):
    campaign = launched_campaign(
        terms, deadline=timezone.localdate() + timedelta(days=30), launched_days_ago=10
    )
    arrived(smtp, wait_until, len(CONTACTS))  # the invitations

    # Two beats at once, as from two schedulers: they share the work, nothing twice.
    first, second = send_due_reminders.apply_async(), send_due_reminders.apply_async()
    assert first.get(timeout=30) + second.get(timeout=30) == len(CONTACTS)
    arrived(smtp, wait_until, 2 * len(CONTACTS))

    assert send_due_reminders.apply_async().get(timeout=30) == 0
    again = [send_due_reminders.apply_async() for _ in range(2)]
    assert [result.get(timeout=30) for result in again] == [0, 0]
    arrived(smtp, wait_until, 2 * len(CONTACTS))

    assert smtp.recipients() == Counter({address: 2 for address in CONTACTS})
    assert sorted(
        CampaignMessage.objects.filter(step="30").values_list("recipient", flat=True)
    ) == sorted(CONTACTS)
    assert CampaignMessage.objects.filter(campaign=campaign).count() == 2 * len(CONTACTS)
    assert set(OutgoingEmail.objects.values_list("status", flat=True)) == {"sent"}

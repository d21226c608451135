"""One deadline per organisation and terms version: two campaigns that would ask the same
organisation to accept the same version by different deadlines cannot both run."""

from __future__ import annotations

import threading
from datetime import timedelta

import pytest
from django.core.exceptions import ValidationError
from django.db import connections, transaction
from django.utils import timezone, translation

from onboarding.models import AcceptanceCampaign, CampaignTarget, Organisation
from onboarding.services.campaigns import (
    campaign_create,
    campaign_launch,
    campaign_start,
    reminders_send_due,
)
from tests.concurrency import until_another_waits_for_a_lock
from tests.factories import legacy_member, published_terms

TODAY = timezone.localdate()
SPRING = TODAY + timedelta(days=60)
AUTUMN = TODAY + timedelta(days=200)


@pytest.mark.django_db
def test_a_second_campaign_with_another_deadline_is_refused_naming_the_first(terms):
    legacy_member("Aaltola", "hallinto@aaltola.fi")
    legacy_member("Borgå", "hallinto@borga.fi")
    legacy = campaign_create(terms_version=terms, deadline=SPRING, audience="legacy")
    members = campaign_create(terms_version=terms, deadline=AUTUMN, audience="members")
    campaign_launch(campaign_id=legacy.pk)

    with pytest.raises(ValidationError) as refused:
        campaign_launch(campaign_id=members.pk)

    message = " ".join(refused.value.messages)
    assert f"“{legacy}”" in message
    assert "already asks 2 organisations of these to accept version 2024-1" in message
    assert "Aaltola, Borgå" in message
    members.refresh_from_db()
    assert not members.is_launched
    assert not CampaignTarget.objects.filter(campaign=members).exists()


@pytest.mark.django_db
def test_the_error_names_the_first_few_organisations_and_counts_the_rest(terms):
    for n in range(7):
        legacy_member(f"Jasen{n}", f"hallinto@jasen{n}.fi")
    campaign_launch(
        campaign_id=campaign_create(terms_version=terms, deadline=SPRING, audience="legacy").pk
    )
    with pytest.raises(
        ValidationError, match="Jasen0, Jasen1, Jasen2, Jasen3, Jasen4 and 2 others"
    ):
        campaign_create(terms_version=terms, deadline=AUTUMN, audience="members")


@pytest.mark.django_db
def test_the_shell_keeps_no_campaign_it_could_not_launch(terms):
    legacy_member("Aaltola", "hallinto@aaltola.fi")
    campaign_start(terms_version=terms, deadline=SPRING, audience="legacy")
    with pytest.raises(ValidationError, match="already asks 1 organisation of these"):
        campaign_start(terms_version=terms, deadline=AUTUMN, audience="members")
    assert AcceptanceCampaign.objects.count() == 1


@pytest.mark.django_db
def test_campaigns_that_share_no_organisation_or_the_deadline_both_run(terms):
    legacy_member("Aaltola", "hallinto@aaltola.fi")
    same_day = campaign_create(terms_version=terms, deadline=SPRING, audience="members")
    campaign_start(terms_version=terms, deadline=SPRING, audience="legacy")
    assert campaign_launch(campaign_id=same_day.pk) == 1

    newer = published_terms(version="2025-1", effective_from=TODAY - timedelta(days=1))
    assert campaign_start(terms_version=newer, deadline=AUTUMN, audience="legacy")[1] == 1


@pytest.mark.django_db
def test_once_the_first_campaign_has_closed_another_deadline_can_run(terms):
    legacy_member("Aaltola", "hallinto@aaltola.fi")
    first, _count = campaign_start(terms_version=terms, deadline=SPRING, audience="members")
    reminders_send_due(today=SPRING + timedelta(days=1))  # lapses Aaltola, closes the campaign
    Organisation.objects.filter(name_fi="Aaltola").update(membership="legacy_contract")
    second, count = campaign_start(terms_version=terms, deadline=AUTUMN, audience="legacy")
    assert (second.is_launched, count) == (True, 1)


@pytest.mark.django_db(transaction=True)
def test_two_launches_at_once_cannot_both_pass(terms):
    legacy_member("Aaltola", "hallinto@aaltola.fi")
    spring = campaign_create(terms_version=terms, deadline=SPRING, audience="legacy")
    autumn = campaign_create(terms_version=terms, deadline=AUTUMN, audience="members")
    outcome = {}

    def launch_autumn():
        translation.activate("en")  # a thread starts in the default language
        try:
            outcome["count"] = campaign_launch(campaign_id=autumn.pk)
        except ValidationError as error:
            outcome["error"] = " ".join(error.messages)
        finally:
            connections.close_all()

    with transaction.atomic():
        campaign_launch(campaign_id=spring.pk)  # holds the version's campaign locks till commit
        other = threading.Thread(target=launch_autumn)
        other.start()
        until_another_waits_for_a_lock("the second launch")
    other.join(timeout=30)

    assert "already asks 1 organisation of these" in outcome["error"]
    assert list(AcceptanceCampaign.objects.filter(launched_at__isnull=False)) == [spring]

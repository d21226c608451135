"""Emails queued before they had a due time get the one their next try had (migration 0015):
the sweep picks up what was waiting for a lost retry, and nothing is tried before its time."""

from __future__ import annotations

from datetime import timedelta

import pytest
from django.core.management import call_command
from django.db import connection
from django.db.migrations.executor import MigrationExecutor
from django.utils import timezone

from onboarding.models import OutgoingEmail

pytestmark = pytest.mark.django_db(transaction=True)

BEFORE = [("onboarding", "0014_evidence_chain")]


@pytest.fixture(autouse=True)
def _latest_schema_afterwards():
    yield
    call_command("migrate", "onboarding", verbosity=0)


def test_queued_emails_are_due_when_their_next_try_was_and_the_others_not_at_all():
    call_command("migrate", "onboarding", BEFORE[0][1], verbosity=0)
    Email = (
        MigrationExecutor(connection)
        .loader.project_state(BEFORE)
        .apps.get_model("onboarding", "OutgoingEmail")
    )
    an_hour_ago = timezone.now() - timedelta(hours=1)

    def old(key: str, **fields) -> int:
        email = Email.objects.create(
            key=key, kind="receipt", to="a@koulu.fi", language="fi", subject="s", body_text="t",
            **fields,
        )  # fmt: skip
        Email.objects.filter(pk=email.pk).update(created_at=an_hour_ago)
        return email.pk

    never_tried = old("never tried")
    refused_twice = old("refused twice", attempts=2, last_attempt_at=an_hour_ago)
    refused_often = old("refused often", attempts=7, last_attempt_at=an_hour_ago)
    sent = old("sent", status="sent", attempts=1, last_attempt_at=an_hour_ago)

    call_command("migrate", "onboarding", verbosity=0)

    due = dict(OutgoingEmail.objects.values_list("pk", "next_attempt_at"))
    assert due[never_tried] == an_hour_ago
    assert due[refused_twice] == an_hour_ago + timedelta(minutes=1)
    assert due[refused_often] == an_hour_ago + timedelta(minutes=5)
    assert due[sent] is None

"""Faults on the way out: a worker process killed in the middle of a batch, an SMTP server
that refuses or hangs up on some messages. Nothing is lost and nothing is sent twice.

The killed worker's task is redelivered by Redis only after the visibility timeout (2 h):
what recovers the batch sooner is the design — the next run of the day's reminders, and the
periodic sweep of emails written but never tried (`send_stranded_emails`)."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
from collections import Counter
from datetime import timedelta
from itertools import count
from pathlib import Path

import pytest
from django.db import connection
from django.db.models import F
from django.utils import timezone

from onboarding.models import AcceptanceCampaign, OutgoingEmail, Reminder
from onboarding.services.campaigns import campaign_create, campaign_launch, reminders_send_due
from onboarding.services.outgoing_emails import outgoing_emails_stranded
from onboarding.tasks import send_due_reminders, send_outgoing_email
from tests.factories import ContactPersonFactory, OrganisationFactory, published_terms
from tests.integration.conftest import REDIS, SUBPROCESS_DB, queue_length

pytestmark = [pytest.mark.redis, pytest.mark.django_db(transaction=True)]

PROJECT = Path(__file__).resolve().parents[2]
BROKER = f"{REDIS}/{SUBPROCESS_DB}"


@pytest.fixture
def celery_config() -> dict:
    """This process only enqueues, to the broker of the worker subprocesses."""
    return {"broker_url": BROKER, "result_backend": None, "task_always_eager": False}


class WorkerProcess:
    """`celery worker` as production runs it, in its own process group."""

    names = count(1)

    def __init__(self, *, smtp_port: int, log_dir: Path) -> None:
        self.name = f"integration{next(self.names)}"
        self.log_path = log_dir / f"{self.name}.log"
        db = connection.settings_dict  # the test database pytest-django created
        env = os.environ | {
            "DJANGO_SETTINGS_MODULE": "tests.settings",
            "DATABASE_URL": (
                f"postgres://{db['USER']}@{db['HOST'] or '127.0.0.1'}:{db['PORT'] or 5432}"
                f"/{db['NAME']}"
            ),
            "CELERY_BROKER_URL": BROKER,
            "CELERY_TASK_ALWAYS_EAGER": "false",
            "EMAIL_URL": f"smtp://127.0.0.1:{smtp_port}",
            "EMAIL_TIMEOUT": "10",
            "PYTHONUNBUFFERED": "1",
        }
        command = [
            sys.executable, "-m", "celery", "-A", "portal", "worker",
            "--pool", "solo", "--concurrency", "1",
            "--without-heartbeat", "--without-gossip", "--without-mingle",
            "-l", "info", "-n", f"{self.name}@%h",
        ]  # fmt: skip
        with self.log_path.open("wb") as log:
            self.process = subprocess.Popen(
                command,
                cwd=PROJECT,
                env=env,
                stdout=log,
                stderr=subprocess.STDOUT,
                start_new_session=True,  # its own process group, killed as one
            )

    def log(self) -> str:
        return f"--- {self.name} log ---\n{self.log_path.read_text(errors='replace')[-6000:]}"

    def ready(self) -> bool:
        if self.process.poll() is not None:
            pytest.fail(f"the worker exited with {self.process.returncode}\n{self.log()}")
        return " ready." in self.log_path.read_text(errors="replace")

    def kill(self) -> None:
        """SIGKILL: no shutdown, no acknowledgement, no rollback but the database's own."""
        if self.process.poll() is None:
            os.killpg(self.process.pid, signal.SIGKILL)
        self.process.wait(timeout=10)


@pytest.fixture
def start_worker(smtp_server, celery_app, tmp_path, wait_until):
    """Start a worker subprocess and wait until it consumes; all are killed at teardown."""
    started: list[WorkerProcess] = []

    def start() -> WorkerProcess:
        worker = WorkerProcess(smtp_port=smtp_server.port, log_dir=tmp_path)
        started.append(worker)
        wait_until(worker.ready, f"{worker.name} to be ready", timeout=30, explain=worker.log)
        return worker

    yield start
    for worker in started:
        worker.kill()


@pytest.fixture
def due_today() -> AcceptanceCampaign:
    """Twelve legacy members with one or two administrative contacts each (18 in all), and a
    campaign launched ten days ago whose 30-day reminder is due today.

    Launched here, before any worker runs: its invitations wait on the broker."""
    for n in range(12):
        organisation = OrganisationFactory(name_fi=f"Kunta {n:02d}", membership="legacy_contract")
        for k in range(1 + n % 2):
            ContactPersonFactory(
                organisation=organisation, email=f"rehtori{k}@kunta{n:02d}.fi", language="fi"
            )
    campaign = campaign_create(
        terms_version=published_terms(),
        deadline=timezone.localdate() + timedelta(days=30),
        targets="legacy",
    )
    campaign_launch(campaign_id=campaign.pk)
    AcceptanceCampaign.objects.filter(pk=campaign.pk).update(
        launched_at=F("launched_at") - timedelta(days=10)
    )
    return campaign


ADDRESSES = 18


def sweep_stranded() -> list[int]:
    """What the periodic `send_stranded_emails` does, without its 15-minute grace."""
    stranded = outgoing_emails_stranded(older_than=timedelta(0))
    for email_id in stranded:
        send_outgoing_email.delay(email_id)
    return stranded


def expected_messages() -> Counter[tuple[str, str]]:
    """(recipient, subject) of every campaign message claimed: each must arrive once."""
    return Counter(Reminder.objects.values_list("recipient", "email__subject"))


def delivered(smtp) -> Counter[tuple[str, str]]:
    return Counter((r, m.subject) for m in smtp.received for r in m.recipients)


def test_a_worker_killed_mid_batch_loses_no_message_and_sends_none_twice(
    smtp_server, start_worker, due_today, wait_until
):
    smtp = smtp_server
    smtp.delay = 0.1  # a slow server: the worker spends its time waiting for answers
    first = start_worker()
    send_due_reminders.apply_async()  # queued behind the invitations
    # Some messages through, then the server hangs on one: the worker is killed mid-send.
    wait_until(lambda: len(smtp.received) >= 24, "the first 24 messages", explain=first.log)
    smtp.stall()
    wait_until(lambda: smtp.waiting, "a message held by the server", explain=first.log)
    first.kill()
    smtp.release()
    assert 24 <= len(smtp.received) < 2 * ADDRESSES
    held_recipients, _answer = smtp.attempts[-1]
    held = OutgoingEmail.objects.get(to__in=held_recipients, status="queued", attempts=0)

    start_worker()
    stranded = sweep_stranded()
    assert held.pk in stranded, "the email being sent when the worker died was never tried"
    assert reminders_send_due() == []  # the day's reminders were all claimed before the kill

    wait_until(
        lambda: not OutgoingEmail.objects.exclude(status="sent").exists(),
        "every email to be sent",
    )
    wait_until(lambda: queue_length(SUBPROCESS_DB) == 0, "the queue to empty")
    assert Reminder.objects.count() == 2 * ADDRESSES
    assert set(Reminder.objects.values_list("step", flat=True)) == {"invitation", "30"}
    assert delivered(smtp) == expected_messages()
    assert set(delivered(smtp).values()) == {1}
    assert smtp.recipients() == Counter({a: 2 for a in smtp.recipients()})
    assert len(smtp.recipients()) == ADDRESSES

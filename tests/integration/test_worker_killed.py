"""Faults on the way out: a worker process killed in the middle of a batch or during an SMTP
outage, an SMTP server that refuses or hangs up on some messages, a broker that will not take
a retry. Nothing may be lost; nothing is sent twice, but in the one window SMTP and a
database cannot close.

The killed worker's tasks are redelivered by Redis only after the visibility timeout (1 h):
what recovers the batch sooner is the design — the next run of the day's reminders, and the
sweep every minute of emails overdue (`send_stranded_emails`): each email stores when it is
due (`next_attempt_at`), so a retry that died with its worker is not lost with it. Time is
moved, not waited for: the due times are set back as if the minutes had passed."""

from __future__ import annotations

import os
import signal
import socket
import subprocess
import sys
import threading
from collections import Counter
from contextlib import contextmanager, suppress
from datetime import timedelta
from itertools import count
from pathlib import Path
from urllib.parse import quote

import pytest
from django.db import connection, transaction
from django.db.models import F
from django.utils import timezone

from onboarding.models import AcceptanceCampaign, CampaignMessage, CampaignTarget, OutgoingEmail
from onboarding.services.campaigns import reminders_send_due
from onboarding.services.outgoing_emails import (
    RETRY_DELAY_MAX,
    SWEEP_GRACE,
    outgoing_emails_sweep,
)
from onboarding.tasks import enqueue_email, send_due_reminders
from tests.concurrency import waiting_for_a_lock
from tests.factories import ALICE, launched_campaign, legacy_member, notification
from tests.integration.broker import QUEUES, REDIS, SUBPROCESS_DB, queue_length, unacknowledged

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

    def __init__(self, *, smtp_port: int, log_dir: Path, broker: str = BROKER) -> None:
        self.name = f"integration{next(self.names)}"
        self.log_path = log_dir / f"{self.name}.log"
        db = connection.settings_dict  # the test database pytest-django created
        env = os.environ | {
            "DJANGO_SETTINGS_MODULE": "tests.settings",
            "DATABASE_URL": (
                f"postgres://{quote(db['USER'])}:{quote(db['PASSWORD'] or '')}"
                f"@{db['HOST'] or '127.0.0.1'}:{db['PORT'] or 5432}/{db['NAME']}"
            ),
            "CELERY_BROKER_URL": broker,
            "CELERY_TASK_ALWAYS_EAGER": "false",
            "EMAIL_URL": f"smtp://127.0.0.1:{smtp_port}",
            "EMAIL_TIMEOUT": "10",
            # Campaign messages written three organisations to a transaction (200 by default),
            # so that a run killed halfway has committed some batches.
            "CAMPAIGN_BATCH_SIZE": "3",
            "PYTHONUNBUFFERED": "1",
        }
        command = [
            sys.executable, "-m", "celery", "-A", "portal", "worker",
            "--pool", "solo", "--concurrency", "1", "--queues", ",".join(QUEUES),
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

    def output(self) -> str:
        return self.log_path.read_text(errors="replace")

    def log(self) -> str:
        """The end of its output, to explain a failure."""
        return f"--- {self.name} log ---\n{self.output()[-6000:]}"

    def ready(self) -> bool:
        if self.process.poll() is not None:
            pytest.fail(f"the worker exited with {self.process.returncode}\n{self.log()}")
        return " ready." in self.output()

    def kill(self) -> None:
        """SIGKILL: no shutdown, no acknowledgement, no rollback but the database's own."""
        if self.process.poll() is None:
            os.killpg(self.process.pid, signal.SIGKILL)
        self.process.wait(timeout=10)


@pytest.fixture
def start_worker(smtp_server, celery_app, tmp_path, wait_until):
    """Start a worker subprocess and wait until it consumes; all are killed at teardown."""
    started: list[WorkerProcess] = []

    def start(broker: str = BROKER) -> WorkerProcess:
        worker = WorkerProcess(smtp_port=smtp_server.port, log_dir=tmp_path, broker=broker)
        started.append(worker)
        wait_until(worker.ready, f"{worker.name} to be ready", timeout=30, explain=worker.log)
        return worker

    yield start
    for worker in started:
        worker.kill()


ADDRESSES = 18  # administrative contacts of the campaign below


@pytest.fixture
def due_today(celery_app, terms) -> AcceptanceCampaign:
    """Twelve legacy members with one or two administrative contacts each (18 in all), and a
    campaign launched ten days ago whose 30-day reminder is due today.

    Launched here, before any worker runs: its invitations wait on the broker. The terms are
    published before the members join, so that publishing announces nothing to them."""
    for n in range(12):
        addresses = [f"rehtori{k}@kunta{n:02d}.fi" for k in range(1 + n % 2)]
        legacy_member(f"Kunta {n:02d}", *addresses)
    deadline = timezone.localdate() + timedelta(days=30)
    return launched_campaign(terms, deadline=deadline, launched_days_ago=10)


def time_passes(delta: timedelta) -> None:
    """As if `delta` had passed: every queued email is due that much earlier."""
    OutgoingEmail.objects.filter(status="queued").update(
        next_attempt_at=F("next_attempt_at") - delta
    )


def sweep() -> list[int]:
    """What beat's `send_stranded_emails` does every minute: the ids of the emails it
    enqueued again, overdue by more than its grace."""
    overdue = outgoing_emails_sweep()
    for email in overdue:
        enqueue_email(email.pk, email.kind)
    return [email.pk for email in overdue]


def sweep_stranded() -> list[int]:
    """The sweep once the sweep's grace has passed."""
    time_passes(SWEEP_GRACE + timedelta(seconds=1))
    return sweep()


def expected_messages() -> Counter[tuple[str, str]]:
    """(recipient, subject) of every campaign message claimed: each must arrive once."""
    return Counter(CampaignMessage.objects.values_list("recipient", "email__subject"))


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
    claims = CampaignMessage.objects.values_list("organisation", "step", "recipient")
    assert len(set(claims)) == len(claims) == 2 * ADDRESSES
    assert {step for _o, step, _r in claims} == {"invitation", "30"}
    assert delivered(smtp) == expected_messages()
    assert set(delivered(smtp).values()) == {1}
    assert smtp.recipients() == Counter({a: 2 for a in smtp.recipients()})
    assert len(smtp.recipients()) == ADDRESSES


@contextmanager
def target_locked(target: CampaignTarget):
    """Hold the row lock a run of the reminders takes on `target`, from another connection:
    a run that reaches this organisation waits there."""
    locked, release = threading.Event(), threading.Event()

    def hold() -> None:
        try:
            with transaction.atomic():
                CampaignTarget.objects.select_for_update().get(pk=target.pk)
                locked.set()
                release.wait(60)
        finally:
            connection.close()

    holder = threading.Thread(target=hold)
    holder.start()
    try:
        assert locked.wait(10)
        yield
    finally:
        release.set()
        holder.join(10)


def test_a_worker_killed_while_claiming_leaves_the_rest_to_the_next_run(
    smtp_server, start_worker, due_today, wait_until
):
    smtp = smtp_server
    seventh = CampaignTarget.objects.get(campaign=due_today, organisation__name_fi="Kunta 06")
    with target_locked(seventh):
        first = start_worker()
        send_due_reminders.apply_async()
        wait_until(waiting_for_a_lock, "the run to wait at Kunta 06", explain=first.log)
        first.kill()
    claimed = CampaignMessage.objects.filter(step="30").values_list(
        "organisation__name_fi", flat=True
    )
    assert sorted(set(claimed)) == [f"Kunta {n:02d}" for n in range(6)]

    start_worker()
    sweep_stranded()
    rest = reminders_send_due()  # the same day, as the next beat or an operator runs it
    assert sorted({m.organisation for m in rest}) == [f"Kunta {n:02d}" for n in range(6, 12)]
    assert reminders_send_due() == []

    wait_until(
        lambda: not OutgoingEmail.objects.exclude(status="sent").exists(),
        "every email to be sent",
    )
    wait_until(lambda: queue_length(SUBPROCESS_DB) == 0, "the queue to empty")
    assert CampaignMessage.objects.count() == 2 * ADDRESSES
    assert delivered(smtp) == expected_messages()
    assert set(delivered(smtp).values()) == {1}


def scheduled_retries(celery_app) -> list[int]:
    """Ids of the emails whose sending task a worker holds until its countdown."""
    # One worker runs at a time: its answer is all there is to wait for.
    scheduled = celery_app.control.inspect(timeout=3, limit=1).scheduled() or {}
    return [entry["request"]["args"][0] for entries in scheduled.values() for entry in entries]


REFUSED = ["rehtori0@kunta00.fi", "rehtori0@kunta03.fi"]  # 550: no such mailbox
HUNG_UP_ON = ["rehtori1@kunta05.fi", "rehtori0@kunta08.fi"]  # the line dropped once
GREYLISTED = ["rehtori0@kunta10.fi"]  # 451 once


def test_refusals_and_dropped_lines_in_a_batch_are_recorded_or_retried_never_lost(
    smtp_server, start_worker, due_today, wait_until, celery_app
):
    smtp = smtp_server
    for address in REFUSED:
        smtp.answer("550 5.1.1 No such mailbox", times=float("inf"), to=address)
    for address in HUNG_UP_ON:
        smtp.drop(times=1, to=address)
    for address in GREYLISTED:
        smtp.answer("451 4.7.1 Greylisted, try again later", times=1, to=address)
    worker = start_worker()
    wait_until(
        lambda: not OutgoingEmail.objects.filter(attempts=0).exists(),
        "every invitation to be tried",
        explain=worker.log,
    )
    wait_until(lambda: queue_length(SUBPROCESS_DB) == 0, "the queue to empty")

    emails = {e.to: e for e in OutgoingEmail.objects.all()}
    assert len(emails) == ADDRESSES
    for address in REFUSED:
        assert (emails[address].status, emails[address].attempts) == ("failed", 1)
        assert "550" in emails[address].last_error
    retrying = HUNG_UP_ON + GREYLISTED
    for address in retrying:
        assert (emails[address].status, emails[address].attempts) == ("queued", 1)
    assert all(emails[a].last_error.startswith("SMTPServerDisconnected") for a in HUNG_UP_ON)
    assert all("451" in emails[a].last_error for a in GREYLISTED)
    sent = {a for a, e in emails.items() if e.status == "sent"}
    assert sent == set(emails) - set(REFUSED) - set(retrying)
    assert smtp.recipients() == Counter(sent)
    # Never a silent loss: what is not sent is failed with its reason, or waits for a retry
    # the worker holds (an ETA task) with the reason of the last try.
    assert not OutgoingEmail.objects.exclude(status="sent").filter(last_error="").exists()

    def a_retry_held_for_each() -> list[int] | None:
        retries = scheduled_retries(celery_app)
        return retries if len(retries) == len(retrying) else None

    retries = wait_until(a_retry_held_for_each, "the worker to hold each retry", timeout=15)
    assert sorted(retries) == sorted(emails[a].pk for a in retrying)


def marked_sent(email: OutgoingEmail) -> bool:
    email.refresh_from_db()
    return email.status == "sent"


@pytest.fixture
def receipt(celery_app, terms, alice) -> OutgoingEmail:
    """alice's notification submitted: its receipt is the one email, queued on the broker."""
    registration = notification(terms, user=alice)
    return registration.emails.get(kind=OutgoingEmail.Kind.RECEIPT)


def test_a_message_taken_as_the_worker_died_is_sent_again_rather_than_lost(
    smtp_server, start_worker, receipt, wait_until
):
    """SMTP and the database cannot commit together: between the server taking the message
    and the row marked sent, a dead worker leaves the email never tried, and the sweep sends
    it again.
    At least once, never lost: a duplicate is the price (the docstrings say "sent once")."""
    smtp = smtp_server
    smtp.stall(at="TAKEN")  # the message is taken; the worker waits for the server's 250
    first = start_worker()
    wait_until(lambda: smtp.waiting, "the server to take the message", explain=first.log)
    first.kill()
    smtp.release()
    receipt.refresh_from_db()
    assert (receipt.status, receipt.attempts) == ("queued", 0)

    start_worker()
    assert sweep_stranded() == [receipt.pk]
    wait_until(lambda: len(smtp.received) == 2, "the receipt to be sent again")
    wait_until(lambda: marked_sent(receipt), "the receipt to be marked sent")
    assert receipt.attempts == 1
    assert smtp.recipients() == Counter({ALICE: 2})


class BrokerRelay:
    """A TCP relay in front of Redis. After `refuse_new()` the connections already open keep
    working and new ones are closed at once, as when Redis has reached `maxclients`."""

    def __init__(self, upstream: tuple[str, int] = ("127.0.0.1", 6379)) -> None:
        self.upstream = upstream
        self.refusing = False
        self._listener = socket.create_server(("127.0.0.1", 0))
        self.url = f"redis://127.0.0.1:{self._listener.getsockname()[1]}/{SUBPROCESS_DB}"
        self._sockets: list[socket.socket] = []
        threading.Thread(target=self._accept, daemon=True).start()

    def refuse_new(self, *_args) -> None:
        self.refusing = True

    def _accept(self) -> None:
        while True:
            try:
                client, _address = self._listener.accept()
            except OSError:
                return
            if self.refusing:
                client.close()
                continue
            server = socket.create_connection(self.upstream)
            self._sockets += [client, server]
            for source, sink in ((client, server), (server, client)):
                threading.Thread(target=self._pump, args=(source, sink), daemon=True).start()

    @staticmethod
    def _pump(source: socket.socket, sink: socket.socket) -> None:
        with suppress(OSError):
            while data := source.recv(65536):
                sink.sendall(data)
        with suppress(OSError):
            sink.shutdown(socket.SHUT_WR)

    def close(self) -> None:
        with suppress(OSError):
            self._listener.shutdown(socket.SHUT_RDWR)
        self._listener.close()
        # Shut down, not only closed: a pump thread blocked in recv() keeps a closed socket's
        # line open, and Redis would hand the next test's first task to the dead worker's
        # BRPOP still waiting on it.
        for sock in self._sockets:
            with suppress(OSError):
                sock.shutdown(socket.SHUT_RDWR)
            sock.close()


@pytest.fixture
def broker_relay():
    relay = BrokerRelay()
    yield relay
    relay.close()


def still_to_be_tried(celery_app) -> bool:
    """Something will still try a queued email: a task on the queue, one delivered and not
    acknowledged, or a retry a worker holds until its countdown."""
    return bool(
        queue_length(SUBPROCESS_DB)
        or unacknowledged(SUBPROCESS_DB)
        or scheduled_retries(celery_app)
    )


def test_an_email_whose_retry_the_broker_refused_is_swept_and_sent(
    smtp_server, start_worker, broker_relay, receipt, wait_until, celery_app
):
    """A temporary refusal, and then the broker will not take the retry: Celery drops the
    task for good. The email stays queued with its reason, and once its retry is overdue the
    periodic sweep sends it: late, but never lost."""
    smtp = smtp_server
    smtp.answer("451 4.3.0 Try again later", times=1)
    smtp.on_data = broker_relay.refuse_new  # the broker stops taking connections just then
    worker = start_worker(broker=broker_relay.url)
    wait_until(lambda: "reject requeue=False" in worker.output(), "the task to be rejected")
    wait_until(lambda: not unacknowledged(SUBPROCESS_DB), "the worker to drop the task", timeout=10)
    broker_relay.refusing = False

    receipt.refresh_from_db()
    assert (receipt.status, receipt.attempts) == ("queued", 1)
    assert "451" in receipt.last_error
    assert not still_to_be_tried(celery_app), "the retry was lost, as the broker refused it"
    assert sweep() == [], "a retry is given its time before the sweep takes it"
    time_passes(receipt.next_attempt_at - timezone.now())
    assert sweep() == [], "and the grace of the sweep after that"

    assert sweep_stranded() == [receipt.pk]
    wait_until(lambda: smtp.received, "the receipt to arrive", explain=worker.log)
    wait_until(lambda: queue_length(SUBPROCESS_DB) == 0, "the queue to empty")
    wait_until(lambda: marked_sent(receipt), "the receipt to be marked sent")
    assert (receipt.attempts, receipt.last_error) == (2, "")
    assert smtp.recipients() == Counter({ALICE: 1})


def test_emails_whose_retries_died_with_the_worker_are_sent_once_soon_after_an_outage(
    smtp_server, start_worker, due_today, wait_until, celery_app
):
    """The incident: a worker killed during an SMTP outage took the retries it held with it,
    and the server was back within a minute. Every email due again is sent within 15 minutes
    of that, once, by the sweep: not two hours later by Redis."""
    smtp = smtp_server
    smtp.answer("451 4.3.0 Try again later", times=float("inf"))  # the outage
    first = start_worker()
    wait_until(
        lambda: not OutgoingEmail.objects.filter(attempts=0).exists(),
        "every invitation to be tried",
        explain=first.log,
    )
    wait_until(lambda: len(scheduled_retries(celery_app)) == ADDRESSES, "a retry held for each")
    first.kill()
    smtp.answer_normally()  # the server is back
    back = timezone.now()
    start_worker()

    # The retries wait, unacknowledged, for Redis to give them back after an hour.
    assert (queue_length(SUBPROCESS_DB), unacknowledged(SUBPROCESS_DB)) == (0, ADDRESSES)
    emails = OutgoingEmail.objects.filter(status="queued")
    assert emails.count() == ADDRESSES
    assert set(emails.values_list("attempts", flat=True)) == {1}
    # What each email stores brings it back within 15 minutes: due again within the backoff,
    # taken by the sweep (every minute) once its grace has passed.
    latest_due = max(emails.values_list("next_attempt_at", flat=True))
    assert latest_due - back <= RETRY_DELAY_MAX
    assert latest_due + SWEEP_GRACE + timedelta(minutes=1) - back < timedelta(minutes=15)

    waiting = sorted(emails.values_list("pk", flat=True))
    assert sweep() == [], "nothing is overdue yet"
    time_passes(latest_due - timezone.now() + SWEEP_GRACE + timedelta(seconds=1))
    assert sorted(sweep()) == waiting
    assert sweep() == [], "the next minute's sweep leaves them to their new tasks"

    wait_until(
        lambda: not OutgoingEmail.objects.exclude(status="sent").exists(),
        "every email to be sent",
    )
    wait_until(lambda: queue_length(SUBPROCESS_DB) == 0, "the queue to empty")
    assert delivered(smtp) == expected_messages()
    assert set(delivered(smtp).values()) == {1}
    assert set(OutgoingEmail.objects.values_list("attempts", flat=True)) == {2}

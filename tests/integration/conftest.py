"""Real services for the delivery tests: an SMTP server on a free port, a Celery worker that
takes the project's tasks from Redis, and a way to wait for what they do.

Tests that use the worker are `@pytest.mark.redis` and `django_db(transaction=True)`: the
worker has its own database connection and sees only what the test committed.
"""

from __future__ import annotations

import asyncio
import email
import email.policy
import logging
import os
import socket
import threading
import time
from collections import Counter
from collections.abc import Callable, Iterator
from contextlib import contextmanager, suppress
from dataclasses import dataclass
from email.message import EmailMessage
from typing import Any

import kombu.pools
import pytest

# celery.contrib.pytest is not a registered plugin here: these are its fixtures, and
# `celery_app` below gives `celery_worker` the project's app instead of a test app.
from celery.contrib.pytest import (  # noqa: F401
    celery_includes,
    celery_worker,
    celery_worker_pool,
)

from tests.integration.broker import QUEUES, REDIS, SUBPROCESS_DB, WORKER_DB, flush_redis

ACCEPTED = "250 2.0.0 Message accepted for delivery"
DROP = "drop the connection"


@dataclass(frozen=True)
class Received:
    sender: str
    recipients: list[str]
    message: EmailMessage

    @property
    def subject(self) -> str:
        # A long encoded subject is folded right after "Subject:"; readers drop the space.
        return str(self.message["Subject"]).strip()

    def part(self, subtype: str) -> str:
        body = self.message.get_body(preferencelist=(subtype,))
        assert body is not None, f"no text/{subtype} part in {self.message['Subject']!r}"
        assert body.get_content_type() == f"text/{subtype}"
        return body.get_content()


@dataclass
class Rule:
    answer: str  # an SMTP reply such as "451 4.3.0 Try later", or DROP
    times: float
    to: str | None


class SmtpSink:
    """An aiosmtpd handler: keeps what it accepts, and can be told to answer otherwise.

    A message counts as received only when the server answers 250: a connection lost before
    that (the client killed during a slow answer) leaves nothing behind, as on a real server.
    """

    def __init__(self) -> None:
        self.port = 0
        self.delay = 0.0  # seconds before each answer: a slow server
        self.attempts: list[tuple[list[str], str]] = []  # (recipients, answer) of every DATA
        #: Called with the recipients when a message's data arrives, before the answer.
        self.on_data: Callable[[list[str]], None] | None = None
        self.greetings = 0  # EHLOs: one per connection a client began (no STARTTLS here)
        self._received: list[Received] = []
        self._rules: list[Rule] = []
        self._stalled_at: str | None = None
        self._waiting = 0
        self._lock = threading.Lock()

    # Scripting the next answers.

    def answer(self, reply: str, *, times: float = 1, to: str | None = None) -> None:
        """Answer `reply` instead of 250 to the next `times` messages (to `to`, if given)."""
        with self._lock:
            self._rules.append(Rule(reply, times, to))

    def drop(self, *, times: float = 1, to: str | None = None) -> None:
        """Close the connection, without an answer, after the next messages' data."""
        self.answer(DROP, times=times, to=to)

    def stall(self, *, at: str = "DATA") -> None:
        """Answer nothing until `release()`: to the next messages' data (they are not taken),
        or at "TAKEN", to the next messages' data once taken (their 250 held back)."""
        self._stalled_at = at

    def release(self) -> None:
        self._stalled_at = None

    def answer_normally(self) -> None:
        """Forget the scripted answers: the server is back."""
        with self._lock:
            self._rules.clear()

    # What arrived.

    @property
    def received(self) -> list[Received]:
        with self._lock:
            return list(self._received)

    @property
    def waiting(self) -> int:
        """Clients held by `stall()` that are still connected."""
        return self._waiting

    def recipients(self) -> Counter[str]:
        return Counter(r for message in self.received for r in message.recipients)

    def to(self, address: str) -> list[Received]:
        return [m for m in self.received if address in m.recipients]

    # The aiosmtpd hook.

    def _scripted(self, recipients: list[str]) -> str | None:
        with self._lock:
            for rule in self._rules:
                if rule.times > 0 and (rule.to is None or rule.to in recipients):
                    rule.times -= 1
                    return rule.answer
        return None

    async def _hold(self, stage: str) -> None:
        if self._stalled_at != stage:
            return
        self._waiting += 1
        try:
            while self._stalled_at == stage:  # cancelled when the client goes away
                await asyncio.sleep(0.02)
        finally:
            self._waiting -= 1

    async def handle_DATA(self, server, session, envelope) -> str:
        recipients = list(envelope.rcpt_tos)
        if self.on_data is not None:
            self.on_data(recipients)
        answer = self._scripted(recipients) or ACCEPTED
        with self._lock:
            self.attempts.append((recipients, answer))
        if answer == DROP:
            server.transport.abort()
            return "421 4.4.2 Connection dropped"  # never reaches the client
        if self.delay:
            await asyncio.sleep(self.delay)
        await self._hold("DATA")
        if answer == ACCEPTED:
            message = email.message_from_bytes(envelope.content, policy=email.policy.default)
            with self._lock:
                self._received.append(Received(envelope.mail_from, recipients, message))
            await self._hold("TAKEN")
        return answer

    async def handle_EHLO(self, server, session, envelope, hostname, responses) -> list[str]:
        session.host_name = hostname  # this hook's duty in aiosmtpd
        with self._lock:
            self.greetings += 1
        return responses


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


@pytest.fixture
def smtp_server() -> Iterator[SmtpSink]:
    from aiosmtpd.controller import Controller

    sink = SmtpSink()
    sink.port = free_port()
    controller = Controller(sink, hostname="127.0.0.1", port=sink.port)
    session_log = logging.getLogger("mail.log")  # aiosmtpd's: a line per SMTP command
    level = session_log.level
    session_log.setLevel(logging.WARNING)
    controller.start()
    try:
        yield sink
    finally:
        sink.release()
        controller.stop()
        session_log.setLevel(level)


def _email_to(settings, port: int) -> None:
    """Django's email, in this process and its worker threads, goes to 127.0.0.1:`port`."""
    settings.EMAIL_BACKEND = "portal.mail.KeptOpenEmailBackend"  # production's, for smtp://
    settings.EMAIL_HOST = "127.0.0.1"
    settings.EMAIL_PORT = port
    settings.EMAIL_HOST_USER = settings.EMAIL_HOST_PASSWORD = ""
    settings.EMAIL_USE_TLS = settings.EMAIL_USE_SSL = False
    settings.EMAIL_TIMEOUT = 5


@pytest.fixture
def smtp_settings(settings, smtp_server: SmtpSink) -> SmtpSink:
    """Django's email, in this process and its worker threads, goes to `smtp_server`."""
    _email_to(settings, smtp_server.port)
    return smtp_server


REFUSAL = "421 4.3.2 Service not available, try again later"


class MailServer:
    """One address whose SMTP server is absent (nothing listens), refuses (answers 421 on
    connect and hangs up), hangs (takes the connection and never says a word) or is up (an
    `SmtpSink`, `sink`). Each switch ends what the address did before: a client held by the
    hanging server finds the line closed."""

    def __init__(self) -> None:
        self.port = free_port()
        self.sink = SmtpSink()
        self.sink.port = self.port
        self.held: list[socket.socket] = []  # connections the hanging server keeps
        self._listener: socket.socket | None = None
        self._controller = None

    def absent(self) -> None:
        self._stop()

    def refusing(self) -> None:
        self._listen(hang=False)

    def hanging(self) -> None:
        self._listen(hang=True)

    def up(self) -> None:
        from aiosmtpd.controller import Controller

        self._stop()
        self._controller = Controller(self.sink, hostname="127.0.0.1", port=self.port)
        self._controller.start()

    def _listen(self, *, hang: bool) -> None:
        self._stop()
        listener = self._listener = socket.create_server(("127.0.0.1", self.port))

        def serve() -> None:
            while True:
                try:
                    client, _address = listener.accept()
                except OSError:
                    return
                if hang:
                    self.held.append(client)
                else:
                    with client:
                        client.sendall(f"{REFUSAL}\r\n".encode())

        threading.Thread(target=serve, daemon=True).start()

    def _stop(self) -> None:
        if self._controller is not None:
            self._controller.stop()
            self._controller = None
        if self._listener is not None:
            with suppress(OSError):
                self._listener.shutdown(socket.SHUT_RDWR)
            self._listener.close()
            self._listener = None
        for client in self.held:
            client.close()
        self.held.clear()


@pytest.fixture
def mail_server(settings) -> Iterator[MailServer]:
    """A mail server, absent to begin with, at the address Django's email goes to."""
    session_log = logging.getLogger("mail.log")
    level = session_log.level
    session_log.setLevel(logging.WARNING)
    server = MailServer()
    _email_to(settings, server.port)
    try:
        yield server
    finally:
        server.absent()
        session_log.setLevel(level)


@pytest.fixture
def wait_until() -> Callable[..., Any]:
    """Poll `condition` until it returns something true, and return that; fail after
    `timeout` seconds with `what` and, if given, `explain()` (e.g. a worker's log)."""

    def wait_until(
        condition: Callable[[], Any],
        what: str,
        *,
        timeout: float = 60,
        explain: Callable[[], str] | None = None,
    ) -> Any:
        deadline = time.monotonic() + timeout
        while True:
            result = condition()
            if result:
                return result
            if time.monotonic() > deadline:
                detail = f"\n{explain()}" if explain else ""
                pytest.fail(f"waited {timeout:.0f} s for: {what}{detail}")
            time.sleep(0.05)

    return wait_until


def _drop_connections(app) -> None:
    """Forget the broker pools and result backend made with the previous configuration.

    The pools live in kombu's process-wide registry, keyed by broker URL: a pool closed and
    left there would refuse the next test's messages."""
    kombu.pools.reset()
    app._pool = None
    if "amqp" in app.__dict__:
        app.amqp._producer_pool = None
    app._backend_cache = None
    vars(app._local).pop("backend", None)


@contextmanager
def project_app_configured(config: dict[str, Any]):
    """The project's Celery app with `config`, and as it was again afterwards.

    Celery reads the broker from the CELERY_BROKER_URL environment variable before its
    configuration, and tests/settings.py sets that variable: it is switched too."""
    from portal.celery import app

    before = {key: app.conf[key] for key in config}
    environ_before = os.environ.get("CELERY_BROKER_URL")
    app.conf.update(config)
    os.environ["CELERY_BROKER_URL"] = config["broker_url"]
    _drop_connections(app)
    try:
        yield app
    finally:
        app.conf.update(before)
        if environ_before is None:
            os.environ.pop("CELERY_BROKER_URL", None)
        else:
            os.environ["CELERY_BROKER_URL"] = environ_before
        _drop_connections(app)


@pytest.fixture
def celery_config() -> dict[str, Any]:
    return {
        "broker_url": f"{REDIS}/{WORKER_DB}",
        "result_backend": f"{REDIS}/{WORKER_DB}",
        "task_always_eager": False,
        "worker_hijack_root_logger": False,
    }


@pytest.fixture
def celery_app(celery_config: dict[str, Any]):
    """The project's app (its tasks, acks_late, settings) on the test Redis databases.

    Overrides celery.contrib.pytest's `celery_app`, which would be a bare test app."""
    flush_redis(WORKER_DB, SUBPROCESS_DB)
    try:
        with project_app_configured(celery_config) as app:
            yield app
    finally:
        flush_redis(WORKER_DB, SUBPROCESS_DB)


@pytest.fixture
def celery_worker_parameters() -> dict[str, Any]:
    # No celery.ping task in the project; the worker is ready when its consumer is.
    return {"perform_ping_check": False, "shutdown_timeout": 30, "queues": QUEUES}


@pytest.fixture
def published_tasks():
    """(task name, task id, retries) of every task published while the test runs, by the
    test or by the worker (a retry is published again under the same id)."""
    from celery.signals import after_task_publish

    published: list[tuple[str, str, int]] = []

    def record(sender=None, headers=None, **kwargs):
        published.append((sender, headers["id"], headers.get("retries", 0)))

    after_task_publish.connect(record, weak=False)
    yield published
    after_task_publish.disconnect(record)


@pytest.fixture
def published_queues():
    """(task name, queue) of every task published while the test runs."""
    from celery.signals import after_task_publish

    published: list[tuple[str, str]] = []

    def record(sender=None, routing_key=None, **kwargs):
        published.append((sender, routing_key))

    after_task_publish.connect(record, weak=False)
    yield published
    after_task_publish.disconnect(record)

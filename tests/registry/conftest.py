"""OPH's organisation service, served for real on loopback by pytest-httpserver.

`registry` points the portal at it on 127.0.0.1 (no cache from earlier tests, no pause between
requests, a short timeout) and answers what each test says; `lookups_off` empties the setting;
`refused` points it at a port where nothing listens.
"""

from __future__ import annotations

import json
import re
import socket
import threading
import time
from collections.abc import Callable
from typing import Any

import pytest
from django.core.cache import cache
from pytest_httpserver import HTTPServer
from werkzeug import Request, Response

PREFIX = "/organisaatio-service"
TIMEOUT = 0.5


class Registry:
    """The fake service: `answers(oid, json)`, `fails(oid, status)`, what was asked."""

    def __init__(self, server: HTTPServer) -> None:
        self.server = server
        self.url = server.url_for(PREFIX)
        self.late: list[threading.Event] = []  # slow answers still being written

    def path(self, oid: str) -> str:
        return f"{PREFIX}/api/{oid}"

    def answers(self, oid: str, answer: Any) -> None:
        self.server.expect_request(self.path(oid)).respond_with_json(answer)

    def answers_every_oid(self, answer: Callable[[str], Any]) -> None:
        """`answer(oid)` for any OID asked: for checks of many members."""

        def by_oid(request: Request) -> Response:
            oid = request.path.rsplit("/", 1)[1]
            return Response(json.dumps(answer(oid)), content_type="application/json")

        self.server.expect_request(re.compile(f"{PREFIX}/api/.+")).respond_with_handler(by_oid)

    def fails(self, oid: str, status: int, body: str = "") -> None:
        self.server.expect_request(self.path(oid)).respond_with_data(body, status=status)

    def says(self, oid: str, body: str) -> None:
        """Any text, as JSON: a malformed answer."""
        self.server.expect_request(self.path(oid)).respond_with_data(
            body, content_type="application/json"
        )

    def is_slow(self, oid: str, answer: Any, seconds: float = TIMEOUT * 3) -> None:
        done = threading.Event()
        self.late.append(done)

        def late(request: Request) -> Response:
            time.sleep(seconds)
            done.set()
            return Response(json.dumps(answer), content_type="application/json")

        self.server.expect_request(self.path(oid)).respond_with_handler(late)

    @property
    def asked(self) -> list[str]:
        """The paths asked, in order."""
        return [request.path for request, _response in self.server.log]

    def headers(self, index: int = 0):
        return self.server.log[index][0].headers


@pytest.fixture(scope="session")
def registry_server():
    """One server for the session, threaded: a slow answer still being written after its
    test does not hold up the next one."""
    server = HTTPServer(host="127.0.0.1", threaded=True)
    server.start()
    yield server
    server.clear()
    if server.is_running():
        server.stop()


@pytest.fixture
def registry(registry_server: HTTPServer, settings) -> Registry:
    settings.ORGANISATION_SERVICE_URL = registry_server.url_for(PREFIX)
    settings.ORGANISATION_SERVICE_TIMEOUT = TIMEOUT
    settings.ORGANISATION_SERVICE_PAUSE = 0
    cache.clear()
    fake = Registry(registry_server)
    yield fake
    for done in fake.late:  # a slow answer finishes here, so the next test's log starts empty
        done.wait(timeout=5)
    deadline = time.monotonic() + 2
    while len(registry_server.log) < len(fake.late) and time.monotonic() < deadline:
        time.sleep(0.01)  # the server logs the answer just after the handler returns
    registry_server.clear()
    cache.clear()


@pytest.fixture
def lookups_off(settings) -> None:
    settings.ORGANISATION_SERVICE_URL = ""
    cache.clear()


@pytest.fixture
def refused(settings) -> str:
    """The service's address is a port where nothing listens: every request is refused."""
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    settings.ORGANISATION_SERVICE_URL = f"http://127.0.0.1:{port}/organisaatio-service"
    settings.ORGANISATION_SERVICE_TIMEOUT = TIMEOUT
    settings.ORGANISATION_SERVICE_PAUSE = 0
    cache.clear()
    return settings.ORGANISATION_SERVICE_URL

"""/healthz: 200 naming each check when the database, the cache and the broker answer, 503 with
the failing one marked when one does not; one query, no session, no cookie, never cached.
(The database down is tested against a real gunicorn: tests/deploy/test_production_start.py.)"""

from __future__ import annotations

import socket
import threading
from collections.abc import Iterator

import pytest
from django.db import connection
from django.test import override_settings

from portal import health

pytestmark = pytest.mark.django_db

ALL_OK = {"status": "ok", "checks": {"database": "ok", "cache": "ok", "broker": "ok"}}


@pytest.fixture
def closed_port() -> int:
    """A port on loopback where nothing listens: connections to it are refused at once."""
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


@pytest.fixture
def silent_port() -> Iterator[int]:
    """A port on loopback that accepts connections and never answers."""
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        sock.listen()
        yield sock.getsockname()[1]


def test_it_answers_ok_for_each_check_with_one_query(client, django_assert_num_queries):
    with django_assert_num_queries(1) as queries:
        response = client.get("/healthz")

    assert response.status_code == 200
    assert response.json() == ALL_OK
    assert queries.captured_queries[0]["sql"] == "SELECT 1"


def test_it_is_never_cached_and_opens_no_session(client):
    response = client.get("/healthz")

    assert response["Cache-Control"] == "no-store"
    assert "Set-Cookie" not in response.headers
    assert not response.cookies
    assert not response.wsgi_request.session.accessed


def test_it_is_one_address_whatever_language_the_visitor_chose(client):
    client.cookies["django_language"] = "sv"

    response = client.get("/healthz", headers={"accept-language": "sv"})

    assert response.status_code == 200
    assert client.get("/sv/healthz").status_code == 404


def test_it_answers_a_head_and_refuses_a_post(client):
    assert client.head("/healthz").status_code == 200
    assert client.post("/healthz").status_code == 405


def test_it_answers_503_naming_the_cache_when_redis_does_not_answer(client, closed_port):
    redis_down = {
        "default": {
            "BACKEND": "django.core.cache.backends.redis.RedisCache",
            "LOCATION": f"redis://127.0.0.1:{closed_port}/0",
        }
    }
    with override_settings(CACHES=redis_down):
        response = client.get("/healthz")

    assert response.status_code == 503
    assert response.json() == {
        "status": "failing",
        "checks": {"database": "ok", "cache": "failing", "broker": "ok"},
    }
    assert response["Cache-Control"] == "no-store"


def test_it_answers_503_naming_the_broker_when_redis_does_not_answer(client, closed_port):
    with override_settings(CELERY_BROKER_URL=f"redis://127.0.0.1:{closed_port}/0"):
        response = client.get("/healthz")

    assert response.status_code == 503
    # Only the names and "failing": no address, port or error text.
    assert response.json() == {
        "status": "failing",
        "checks": {"database": "ok", "cache": "ok", "broker": "failing"},
    }


def test_a_broker_that_accepts_and_never_answers_is_failing(silent_port):
    """Its PING has a timeout: a hung Redis makes the check fail, not the monitor wait."""
    outcome = []

    def check():
        try:
            with override_settings(CELERY_BROKER_URL=f"redis://127.0.0.1:{silent_port}/0"):
                outcome.append(health.run_checks()["broker"])
        finally:
            connection.close()  # this thread's own

    thread = threading.Thread(target=check, daemon=True)
    thread.start()
    thread.join(timeout=60)  # far beyond the check's own timeout; only a hang reaches it

    assert outcome == ["failing"]

"""Whether the services the portal needs answer: the database, the cache and the Celery broker.

For `/healthz` (portal.views.healthz), which a monitor polls every few seconds: each check is
one round trip, writes nothing, and says only "ok" or "failing" (never why: no host, version or
error text leaves the process; the reason goes to the log).
"""

from __future__ import annotations

import logging
from collections.abc import Callable

from django.conf import settings
from django.core.cache import cache
from django.db import connection
from kombu import Connection

log = logging.getLogger(__name__)

#: Seconds the broker check waits for Redis to accept the connection and answer its PING.
BROKER_TIMEOUT = 1.0
#: A key nothing stores: its get is one GET for Redis, answered (empty) only if Redis answers.
CACHE_KEY = "portal:healthz"


def database() -> None:
    """One `SELECT 1` on the request's connection (opening it if there is none)."""
    with connection.cursor() as cursor:
        cursor.execute("SELECT 1")
        cursor.fetchone()


def cache_answers() -> None:
    """A get of a fixed key. Django's Redis cache raises when Redis does not answer (a miss
    answers None only after Redis did), so a get proves the round trip without writing."""
    cache.get(CACHE_KEY)


def broker() -> None:
    """A connection to CELERY_BROKER_URL, as the web process opens one to queue a task; Redis
    answers its PING within BROKER_TIMEOUT or the check fails. Development's `memory://`
    broker (tasks run eagerly) is in-process: it always answers."""
    timeouts = {"socket_connect_timeout": BROKER_TIMEOUT, "socket_timeout": BROKER_TIMEOUT}
    with Connection(
        settings.CELERY_BROKER_URL, connect_timeout=BROKER_TIMEOUT, transport_options=timeouts
    ) as conn:
        conn.ensure_connection(max_retries=0)  # no retries: the monitor asks again


CHECKS: dict[str, Callable[[], None]] = {
    "database": database,
    "cache": cache_answers,
    "broker": broker,
}


def run_checks() -> dict[str, str]:
    """Each check's name and "ok" or "failing"; every check runs, whatever the others say."""
    results = {}
    for name, check in CHECKS.items():
        try:
            check()
        except Exception:
            log.warning("Health check %s failing", name, exc_info=True)
            results[name] = "failing"
        else:
            results[name] = "ok"
    return results

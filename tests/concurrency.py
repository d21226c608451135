"""Two things at once, for the tests of races: each call in its own thread and connection,
and a way to know that one of them waits for the lock another holds (never a sleep that hopes
the other side got there)."""

from __future__ import annotations

import threading
import time
from collections.abc import Callable
from typing import Any

from django.db import connection

# Sessions of the test database that wait for a lock, by their process id; the other sessions
# of the server (other test runs, other databases) are not counted.
_WAITING = """
    SELECT count(DISTINCT locks.pid)
    FROM pg_locks AS locks JOIN pg_stat_activity AS activity ON activity.pid = locks.pid
    WHERE NOT locks.granted AND activity.datname = current_database()
"""


def at_once(*calls: Callable[[], Any]) -> list[Any]:
    """Run each call in its own thread and connection, released together; each one's result
    or exception."""
    barrier = threading.Barrier(len(calls))
    outcomes: list[Any] = [None] * len(calls)

    def run(index: int, call: Callable[[], Any]) -> None:
        try:
            barrier.wait(timeout=10)
            outcomes[index] = call()
        except BaseException as error:  # noqa: BLE001 - the test inspects it
            outcomes[index] = error
        finally:
            connection.close()

    threads = [threading.Thread(target=run, args=item) for item in enumerate(calls)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=30)
    assert not any(thread.is_alive() for thread in threads), "a thread is still waiting"
    return outcomes


def waiting_for_a_lock(*, held_here: bool = False) -> bool:
    """Whether a session of the test database waits for a lock; with `held_here`, for a lock
    this thread's connection holds (its open transaction's)."""
    query = _WAITING
    if held_here:
        query += " AND pg_backend_pid() = ANY(pg_blocking_pids(locks.pid))"
    with connection.cursor() as cursor:
        # pg_stat_activity is read once per transaction unless cleared: a session that
        # started since would go unseen by a test that holds its transaction open.
        cursor.execute("SELECT pg_stat_clear_snapshot()")
        cursor.execute(query)
        return cursor.fetchone()[0] > 0


def until_another_waits_for_a_lock(
    what: str, *, held_here: bool = True, timeout: float = 10
) -> None:
    """Return once another session waits for a lock, by default one this thread's transaction
    holds: it has run into what this transaction wrote or locked. Fail after `timeout`
    seconds, saying `what` was expected to wait."""
    deadline = time.monotonic() + timeout
    while not waiting_for_a_lock(held_here=held_here):
        if time.monotonic() > deadline:
            raise AssertionError(f"{what} never waited for the lock (waited {timeout:.0f} s)")
        time.sleep(0.01)

"""The Redis databases of the delivery tests, and what waits in them."""

from __future__ import annotations

import os

import redis

REDIS = "redis://127.0.0.1:6379"
#: Redis databases of these tests, emptied before and after each: the in-process worker's
#: broker and results, and the broker of the worker subprocesses. Each pytest-xdist worker
#: (gw0, gw1, ...) has its own pair, or one worker's Celery would take another's tasks;
#: databases 9 to 12 belong to the benchmarks and the production-start test.
_PAIRS = [(14, 13), (8, 7), (6, 5), (4, 3)]
_WORKER = int(os.environ.get("PYTEST_XDIST_WORKER", "gw0").removeprefix("gw"))
assert len(_PAIRS) > _WORKER, f"at most {len(_PAIRS)} pytest-xdist workers (--maxprocesses)"
WORKER_DB, SUBPROCESS_DB = _PAIRS[_WORKER]
#: The queues a worker consumes, as in production (deploy/systemd/mpassid-worker.service).
QUEUES = ["celery", "account"]


def flush_redis(*databases: int) -> None:
    for number in databases:
        with redis.Redis.from_url(f"{REDIS}/{number}") as client:
            client.flushdb()


def queue_length(database: int, queue: str = "celery") -> int:
    """Tasks waiting on the queue for a worker."""
    with redis.Redis.from_url(f"{REDIS}/{database}") as client:
        return client.llen(queue)


def unacknowledged(database: int) -> int:
    """Tasks delivered to a worker and not acknowledged: Redis gives them back one day."""
    with redis.Redis.from_url(f"{REDIS}/{database}") as client:
        return client.hlen("unacked")

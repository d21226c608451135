"""The Redis databases of the delivery tests, and what waits in them."""

from __future__ import annotations

import redis

REDIS = "redis://127.0.0.1:6379"
#: Redis databases of these tests, emptied before and after each: the in-process worker's
#: broker and results, and the broker of the worker subprocesses.
WORKER_DB = 14
SUBPROCESS_DB = 13
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

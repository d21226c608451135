"""The outside services some tests need, and whether they are reachable here.

With CI=true a missing service fails the run; elsewhere the tests that need it are skipped with
a line that says which service is missing and how to start it.
"""

from __future__ import annotations

import os
import secrets
import socket
from dataclasses import dataclass
from functools import cache
from pathlib import Path
from urllib.parse import urlsplit


@dataclass(frozen=True)
class Service:
    name: str
    url: str
    how_to_start: str

    @property
    def address(self) -> tuple[str, int]:
        parts = urlsplit(self.url)
        return parts.hostname or "127.0.0.1", parts.port or 0

    def reachable(self) -> bool:
        try:
            with socket.create_connection(self.address, timeout=1):
                return True
        except OSError:
            return False

    def missing_message(self) -> str:
        host, port = self.address
        return f"{self.name} is not reachable at {host}:{port}; start it with: {self.how_to_start}"


POSTGRES = Service(
    "PostgreSQL",
    os.environ.get("DATABASE_URL", "postgres://postgres@127.0.0.1:5432/"),
    "pg_ctlcluster <version> main start (or set DATABASE_URL)",
)
REDIS = Service(
    "Redis",
    os.environ.get("REDIS_URL", "redis://127.0.0.1:6379/0"),
    "redis-server --daemonize yes --port 6379 (or set REDIS_URL)",
)


@dataclass(frozen=True)
class Program:
    name: str
    path: str
    how_to_install: str

    def reachable(self) -> bool:
        return Path(self.path).exists()

    def missing_message(self) -> str:
        return (
            f"{self.name} is not installed at {self.path}; install it with: {self.how_to_install}"
        )


CHROMIUM = Program("Chromium", "/usr/bin/chromium", "apt-get install chromium")


@cache
def available(service: Service | Program) -> bool:
    return service.reachable()


def in_ci() -> bool:
    return os.environ.get("CI", "").lower() in ("1", "true", "yes")


# The variables production must set, with values of the right shape: for tests that start a
# process as production starts it (manage.py check --deploy, gunicorn).
PRODUCTION = {
    "DEBUG": "false",
    "SECRET_KEY": secrets.token_urlsafe(64),
    "ALLOWED_HOSTS": "liittyminen.mpassid.example",
    "DATABASE_URL": "postgres://portal@127.0.0.1:5432/portal",
    "CELERY_BROKER_URL": "redis://127.0.0.1:6379/0",
    "EMAIL_URL": "smtp+tls://mailer:secret@smtp.example.fi:587",
    "SITE_URL": "https://liittyminen.mpassid.example",
    "CACHE_URL": "rediscache://127.0.0.1:6379/1",
}

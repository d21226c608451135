"""The anonymous public pages under load, beside a minimal Django view in the same run.

gunicorn (2 sync workers) serves the portal with production settings (DEBUG off, the benchmark's
PostgreSQL database, a Redis cache on its own database number, static files collected) on a
free port on loopback; wrk (2 threads, 16 connections) asks for each page in turn. Each page's
requests/s is compared with the minimal view's (`bench/urls.py`: the same middleware, a
constant body). Goals (issue 13): the start, terms and register pages in every language at
≥ 0.60 of the minimal view with p99 under 50 ms, /api/members.json at ≥ 0.80.

Each page's run follows a run of the minimal view and is compared with it, so that other work on
the machine weighs on both alike. BENCH_SECONDS sets each run's length (5 by default: 20 runs).
Without wrk (`apt-get install wrk`) the benchmark says so and is skipped.
`python -m bench.public_pages` runs this one alone.
"""

from __future__ import annotations

import os
import re
import shutil
import socket
import subprocess
import sys
import tempfile
import time
import urllib.error
import urllib.request
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import date, timedelta
from pathlib import Path

from bench import machine

REPO = Path(__file__).resolve().parent.parent
CACHE_URL = (
    "rediscache://127.0.0.1:6379/10"  # no test uses it (tests/integration/broker.py: 3-8, 13, 14)
)
MEMBERS_ON_CONTRACT = 250
MEMBERS_ON_TERMS = 100
PAGE_GOAL, API_GOAL, P99_GOAL_MS = 0.60, 0.80, 50.0
MINIMAL = "/bench/minimal/"
# (label, path, goal as a ratio to the minimal view)
PAGES = [
    ("start page", "/", PAGE_GOAL),
    ("start page (sv)", "/sv/", PAGE_GOAL),
    ("start page (en)", "/en/", PAGE_GOAL),
    ("terms page", "/terms/", PAGE_GOAL),
    ("terms page (sv)", "/sv/terms/", PAGE_GOAL),
    ("terms page (en)", "/en/terms/", PAGE_GOAL),
    ("member register", "/members/", PAGE_GOAL),
    ("member register (sv)", "/sv/members/", PAGE_GOAL),
    ("member register (en)", "/en/members/", PAGE_GOAL),
    ("/api/members.json", "/api/members.json", API_GOAL),
]
REVALIDATED = "/api/members.json with its ETag (304)"
COMPRESSED = "/api/members.json, gzip (Accept-Encoding)"
# What the proxy in front of production says: the request came over HTTPS.
HEADERS = {"X-Forwarded-Proto": "https"}


@dataclass(frozen=True)
class Result:
    label: str
    path: str
    requests_per_second: float
    p50_ms: float
    p99_ms: float
    errors: int


def run() -> None:
    wrk = shutil.which("wrk")
    if wrk is None:
        print("Public pages: skipped, wrk is not installed (apt-get install wrk).")
        return
    seconds = int(os.environ.get("BENCH_SECONDS", "5"))
    seed()
    from onboarding.register import register_rows

    members = len(register_rows())  # more if another benchmark imported members first
    with served(wait_for=MINIMAL) as base:
        for _label, path, _goal in PAGES:  # each page once: a 200, and anything cached
            for _ in range(20):
                get(base + path)
        load(wrk, base + MINIMAL, seconds=2)  # warm-up
        # Each page right after a run of the minimal view, and compared with that run:
        # other work on the machine then weighs on both alike.
        pairs = [
            (
                load(wrk, base + MINIMAL, seconds=seconds, label="minimal view"),
                load(wrk, base + path, seconds=seconds, label=f"{label} {path}"),
            )
            for label, path, _goal in PAGES
        ]
        # The same body as a client that takes gzip gets it (browsers, curl --compressed,
        # most HTTP libraries), and what a program that keeps the ETag costs (304, no body).
        etag = head_etag(base + "/api/members.json")
        for label, extra in (
            (COMPRESSED, {"Accept-Encoding": "gzip"}),
            (REVALIDATED, {"If-None-Match": etag}),
        ):
            pairs.append(
                (
                    load(wrk, base + MINIMAL, seconds=seconds, label="minimal view"),
                    load(
                        wrk,
                        base + "/api/members.json",
                        seconds=seconds,
                        label=label,
                        extra=extra,
                    ),
                )
            )
    print_results(pairs, seconds=seconds, members=members)


@contextmanager
def served(*, wait_for: str = "/", **environment: str) -> Iterator[str]:
    """gunicorn with 2 workers and the production settings (`production_environment`, plus
    `environment`) on a free port on loopback, static files collected into a temporary folder
    and the cache emptied before and after; yields the server's base URL once `wait_for`
    answers."""
    with tempfile.TemporaryDirectory(prefix="bench-static-") as static_root:
        env = {**production_environment(static_root), **environment}
        subprocess.run(
            [sys.executable, "manage.py", "collectstatic", "--noinput", "-v0"],
            cwd=REPO,
            env=env,
            check=True,
        )
        flush_cache()
        port = free_port()
        server = subprocess.Popen(  # noqa: S603 (our own command line)
            [
                sys.executable,
                "-m",
                "gunicorn",
                "--workers=2",
                f"--bind=127.0.0.1:{port}",
                "--log-level=warning",
                "portal.wsgi:application",
            ],
            cwd=REPO,
            env=env,
        )
        try:
            base = f"http://127.0.0.1:{port}"
            wait_until_up(base + wait_for)
            yield base
        finally:
            server.terminate()
            server.wait(timeout=30)
            flush_cache()


def seed() -> None:
    """A realistic register: published terms, members on old contracts and on the terms."""
    from django.utils import timezone

    from bench import acceptance
    from onboarding.models import LegacyContract, Organisation, User
    from tests.factories import published_terms

    terms = published_terms(
        version="2024-1",
        effective_from=date(2023, 12, 19),
    )
    accepter = User.objects.create(email="rehtori@example.fi")
    sectors = [["basic_education"], ["general_upper_secondary", "vocational"], []]
    for n in range(MEMBERS_ON_CONTRACT + MEMBERS_ON_TERMS):
        on_terms = n >= MEMBERS_ON_CONTRACT
        organisation = Organisation.objects.create(
            oid=f"1.2.246.562.10.{40_000_000_000 + n * 7919}",
            name_fi=f"Koulutustoimija {n:03d} – Lempäälän seutu",
            name_sv=f"Utbildningsaktör {n:03d}" if n % 3 else "",
            kind="service_provider" if n % 7 == 0 else "education_provider",
            sectors=sectors[n % 3] if n % 7 else [],
            membership="terms_accepted" if on_terms else "legacy_contract",
        )
        if on_terms:
            accepted_at = timezone.now() - timedelta(days=n)
            acceptance(organisation, terms, accepter, accepted_at=accepted_at)
        else:
            LegacyContract.objects.create(
                organisation=organisation,
                contract_reference=f"OPH-MPASS-{n:04d}",
                signed_on=date(2016 + n % 8, 1 + n % 12, 1 + n % 28),
            )


def production_environment(static_root: str) -> dict[str, str]:
    from django.db import connection

    db = connection.settings_dict  # the benchmark's test database, made by bench.test_database
    credentials = db["USER"] + (f":{db['PASSWORD']}" if db["PASSWORD"] else "")
    database_url = (
        f"postgres://{credentials}@{db['HOST'] or '127.0.0.1'}:{db['PORT'] or 5432}/{db['NAME']}"
    )
    return {
        **os.environ,
        "DJANGO_SETTINGS_MODULE": "bench.settings",
        "DEBUG": "false",
        "SECRET_KEY": "bench-only-" + "x" * 50,
        "ALLOWED_HOSTS": "127.0.0.1",
        "SITE_URL": "https://127.0.0.1",
        "DATABASE_URL": database_url,
        "CACHE_URL": CACHE_URL,
        "CELERY_BROKER_URL": CACHE_URL.replace("rediscache", "redis"),
        "EMAIL_URL": "consolemail://",
        "BENCH_STATIC_ROOT": static_root,
    }


def flush_cache() -> None:
    import redis

    redis.Redis.from_url(CACHE_URL.replace("rediscache", "redis")).flushdb()


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def get(url: str) -> bytes:
    request = urllib.request.Request(url, headers=HEADERS)  # noqa: S310 (http on loopback)
    with urllib.request.urlopen(request, timeout=10) as response:  # noqa: S310
        if response.status != 200:
            raise RuntimeError(f"{url} answered {response.status}")
        return response.read()


def head_etag(url: str) -> str:
    request = urllib.request.Request(url, headers=HEADERS)  # noqa: S310 (http on loopback)
    with urllib.request.urlopen(request, timeout=10) as response:  # noqa: S310
        return response.headers["ETag"]


def wait_until_up(url: str) -> None:
    deadline = time.monotonic() + 30
    while True:
        try:
            get(url)
            return
        except (urllib.error.URLError, ConnectionError):
            if time.monotonic() > deadline:
                raise
            time.sleep(0.2)


def load(
    wrk: str, url: str, *, seconds: int, label: str = "", extra: dict[str, str] | None = None
) -> Result:
    sent = {**HEADERS, **(extra or {})}
    headers = [arg for name, value in sent.items() for arg in ("-H", f"{name}: {value}")]
    out = subprocess.run(  # noqa: S603 (our own command line)
        [wrk, "-t2", "-c16", f"-d{seconds}s", "--latency", *headers, url],
        capture_output=True,
        text=True,
        check=True,
    ).stdout
    errors = re.search(r"Non-2xx or 3xx responses: (\d+)", out)
    return Result(
        label=label,
        path=url,
        requests_per_second=float(re.search(r"Requests/sec:\s+([\d.]+)", out).group(1)),
        p50_ms=_ms(re.search(r"^\s+50%\s+(\S+)", out, re.M).group(1)),
        p99_ms=_ms(re.search(r"^\s+99%\s+(\S+)", out, re.M).group(1)),
        errors=int(errors.group(1)) if errors else 0,
    )


def _ms(value: str) -> float:
    """wrk's 812.00us, 3.21ms or 1.02s in milliseconds."""
    number, unit = re.fullmatch(r"([\d.]+)(us|ms|s|m)", value).groups()
    return float(number) * {"us": 0.001, "ms": 1.0, "s": 1000.0, "m": 60_000.0}[unit]


def print_results(pairs: list[tuple[Result, Result]], *, seconds: int, members: int) -> None:
    goals = {f"{label} {path}": goal for label, path, goal in PAGES}
    goals |= {COMPRESSED: API_GOAL, REVALIDATED: API_GOAL}
    print(
        f"Public pages under load: gunicorn 2 workers, wrk -t2 -c16 -d{seconds}s on loopback, "
        "production settings (DEBUG off, PostgreSQL, Redis cache); "
        f"{members} members in the register"
    )
    print(machine())
    minimal = sorted(m.requests_per_second for m, _page in pairs)
    print(
        f"The minimal view, run before each page: {minimal[0]:.0f}–{minimal[-1]:.0f} requests/s "
        f"(median {minimal[len(minimal) // 2]:.0f}); each ratio is to the run just before."
    )
    width = max(len(page.label) for _m, page in pairs)
    print(
        f"{'page':{width}}  {'req/s':>8}  {'p50':>8}  {'p99':>8}  {'minimal':>8}  "
        f"{'× minimal':>9}  {'goal':>11}  met?"
    )
    for m, r in pairs:
        ratio = r.requests_per_second / m.requests_per_second
        goal = goals[r.label]
        met = "yes" if ratio >= goal and r.p99_ms < P99_GOAL_MS and not r.errors else "NO"
        errors = f"  ({r.errors + m.errors} errors)" if r.errors or m.errors else ""
        print(
            f"{r.label:{width}}  {r.requests_per_second:>8.0f}  {r.p50_ms:>5.1f} ms  "
            f"{r.p99_ms:>5.1f} ms  {m.requests_per_second:>8.0f}  {ratio:>9.2f}  "
            f"{f'≥{goal:.2f}, <{P99_GOAL_MS:.0f}ms':>11}  {met}{errors}"
        )


if __name__ == "__main__":
    from bench import run_alone

    run_alone(run)

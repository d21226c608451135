"""Benchmarks: `python -m bench` runs the `run()` of every module in this package.

They run against the database Django is configured with (tests.settings unless
DJANGO_SETTINGS_MODULE says otherwise), in a test database of their own that is created at the
start and dropped at the end, so they never touch real data.
"""

from __future__ import annotations

import os
import re
import subprocess
import time
import tracemalloc
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Any

BENCH_DATABASE_SUFFIX = "_bench"  # not pytest's test database, which may be in use meanwhile
REPO = Path(__file__).resolve().parent.parent


def machine() -> str:
    """What the figures were measured on: cores, memory and the commit (marked when the
    working tree had changes)."""
    return f"Machine: {os.cpu_count()} cores, {_memory()}; commit {_commit()}"


def _memory() -> str:
    try:
        meminfo = Path("/proc/meminfo").read_text()
        kib = int(re.search(r"MemTotal:\s+(\d+) kB", meminfo).group(1))
        return f"{kib / 2**20:.0f} GiB memory"
    except (OSError, AttributeError):
        return "memory unknown"


def _commit() -> str:
    def git(*args: str) -> str:
        return subprocess.run(  # noqa: S603 (our own git, fixed arguments)
            ["git", *args],  # noqa: S607
            cwd=REPO,
            capture_output=True,
            text=True,
        ).stdout.strip()

    try:
        commit = git("rev-parse", "--short", "HEAD")
        dirty = git("status", "--porcelain", "--untracked-files=no")
    except OSError:
        return "unknown"
    return (
        f"{commit}{' (with uncommitted changes)' if dirty else ''}" or "unknown"
    )  # not pytest's test database, which may be in use meanwhile


@dataclass(frozen=True)
class Measurement:
    label: str
    seconds: float
    peak_bytes: int
    queries: int


def timed(work: Callable[[], Any], *, repeat: int = 1) -> tuple[float, int, Any]:
    """The best wall time of `repeat` runs, the database queries and the result of the last."""
    from django.db import connection

    best = float("inf")
    result = None
    queries = 0
    for _ in range(repeat):
        counter = _QueryCounter()
        with connection.execute_wrapper(counter):
            started = time.perf_counter()
            result = work()
            best = min(best, time.perf_counter() - started)
        queries = counter.count
    return best, queries, result


def peak_memory(work: Callable[[], Any]) -> int:
    """The peak of memory that Python allocated during one run (tracemalloc).

    A run of its own, apart from the timed ones: tracemalloc slows allocation-heavy code several
    times over, so its runs would not tell the time.
    """
    tracemalloc.start()
    try:
        work()
        return tracemalloc.get_traced_memory()[1]
    finally:
        tracemalloc.stop()


def education_providers(numbers: range, *, oid_base: int, membership: Callable[[int], str]):
    """Education providers numbered `numbers`, made in bulk: real-shaped node-10 OIDs from
    `oid_base`, Finnish and Swedish names, a business ID each, `membership(n)`."""
    from bench.import_legacy import business_id
    from onboarding.models import Organisation

    return Organisation.objects.bulk_create(
        Organisation(
            oid=f"1.2.246.562.10.{oid_base + n}",
            name_fi=f"Koulutustoimija {n}",
            name_sv=f"Utbildningsaktör {n}",
            business_id=business_id(n),
            kind="education_provider",
            membership=membership(n),
        )
        for n in numbers
    )


def acceptance(organisation, terms, accepter, *, accepted_at):
    """An acceptance of `terms` as the notification form records it, through
    `TermsAcceptance.save` (the evidence chain holds)."""
    from onboarding.models import TermsAcceptance

    return TermsAcceptance.objects.create(
        organisation=organisation,
        terms_version=terms,
        accepted_by=accepter,
        accepter_name="Riikka Rehtori",
        accepter_title="Sivistysjohtaja",
        authority_confirmed=True,
        accepted_at=accepted_at,
        ip_address="192.0.2.1",
        user_agent="bench",
        language="fi",
        content_sha256=terms.content_sha256,
    )


class _QueryCounter:
    def __init__(self) -> None:
        self.count = 0

    def __call__(self, execute, sql, params, many, context):
        self.count += 1
        return execute(sql, params, many, context)


def print_table(title: str, measurements: list[Measurement]) -> None:
    """A small table; ratios are to the first measurement, the baseline."""
    baseline = measurements[0]
    width = max(len(m.label) for m in measurements)
    print(title)
    print(
        f"{'':{width}}  {'time':>9}  {'× base':>8}  {'peak memory':>11}  {'× base':>7}  "
        f"{'queries':>7}"
    )
    for m in measurements:
        print(
            f"{m.label:{width}}  {m.seconds:>7.3f} s  {m.seconds / baseline.seconds:>7.1f}×  "
            f"{m.peak_bytes / 2**20:>8.1f} MB  {m.peak_bytes / baseline.peak_bytes:>6.1f}×  "
            f"{m.queries:>7}"
        )


def run_alone(*runs: Callable[[], None]) -> None:
    """Run benchmarks (`python -m bench`, or `python -m bench.<name>` for one): Django set up
    with tests.settings unless DJANGO_SETTINGS_MODULE says otherwise, the machine printed,
    then each `run` in English, in one test database of their own."""
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "tests.settings")
    import django

    django.setup()
    from django.utils import translation

    print(machine(), end="\n\n")
    with test_database(), translation.override("en"):
        for run in runs:
            run()
            print()


@contextmanager
def test_database() -> Iterator[None]:
    """A test database of the configured engine, created empty (migrated) and dropped after."""
    from django.db import connections
    from django.test.utils import setup_databases, teardown_databases

    settings_dict = connections["default"].settings_dict
    test_settings = settings_dict.setdefault("TEST", {})
    test_settings["NAME"] = (
        test_settings.get("NAME") or f"test_{settings_dict['NAME']}"
    ) + BENCH_DATABASE_SUFFIX
    old_config = setup_databases(
        verbosity=0, interactive=False, aliases={"default"}, serialized_aliases=()
    )
    try:
        yield
    finally:
        teardown_databases(old_config, verbosity=0)

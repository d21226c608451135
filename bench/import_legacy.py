"""The import of legacy members on a realistic file: 10,000 rows, 4,000 organisations.

Measured in one run, against the baseline of merely reading the CSV with the csv module:
(a) the baseline, (b) our reading and validation, (c) the first import into an empty database,
(d) importing the same file again, which changes nothing. The times of a and b are the best of
3 runs; c and d are timed once each, as the first import happens once. The peaks of memory come
from separate runs under tracemalloc, which would distort the times (for c, on the emptied
tables again).
"""

from __future__ import annotations

import csv
import io
import random
import tempfile
from pathlib import Path

ORGANISATIONS = 4_000
ROWS = 10_000
KINDS = ["education_provider", "koulutustoimija", "Palveluntarjoaja", "both", "service_provider"]
ROLES = ["administrative", "technical", "security", "data_protection"]


def business_id(n: int) -> str:
    from onboarding.identifiers import business_id_check_digit

    body = f"{1_000_000 + n * 17:07d}"
    while business_id_check_digit(body) is None:
        body = f"{int(body) + 1:07d}"
    return f"{body}-{business_id_check_digit(body)}"


def write_file(path: Path, *, seed: int = 2024) -> None:
    """ORGANISATIONS organisations with 2–3 contacts each, ROWS rows in all, as Excel in Finland
    would save them (semicolons, a byte order mark, Finnish dates and kinds here and there)."""
    rng = random.Random(seed)
    three = ROWS - 2 * ORGANISATIONS  # organisations with a third contact
    with path.open("w", encoding="utf-8-sig", newline="") as file:
        from onboarding.legacy_import import COLUMNS

        writer = csv.writer(file, delimiter=";")
        writer.writerow(COLUMNS)
        for n in range(ORGANISATIONS):
            signed = f"{rng.randint(1, 28)}.{rng.randint(1, 12)}.{rng.randint(2016, 2023)}"
            organisation = [
                f"1.2.246.562.10.{10_000_000_000 + n * 7919}",
                f"Koulutustoimija {n} – Lempäälän seutu",
                f"Utbildningsaktör {n}" if n % 3 else "",
                business_id(n) if n % 5 else "",
                KINDS[n % len(KINDS)],
                f"OPH-MPASS-{n:05d}",
                signed if n % 2 else "",
                "" if n % 4 else "31.7.2025",
            ]
            for c in range(3 if n < three else 2):
                writer.writerow(
                    [
                        *organisation,
                        f"Yhteys Henkilö {n}-{c}",
                        f"Contact.{c}@Organisaatio{n}.fi",
                        ROLES[c],
                        ["fi", "sv", "en"][(n + c) % 3],
                    ]
                )


def empty_the_imported_tables() -> None:
    """Back to an empty database for the traced run of the first import."""
    from django.core.management.color import no_style
    from django.db import connection

    from onboarding.models import ContactPerson, LegacyContract, Organisation

    models = [Organisation, ContactPerson, LegacyContract]
    tables = [m._meta.db_table for m in models] + [m.history.model._meta.db_table for m in models]
    connection.ops.execute_sql_flush(
        connection.ops.sql_flush(no_style(), tables, allow_cascade=True)
    )


def run() -> None:
    from bench import Measurement, peak_memory, print_table, timed
    from onboarding.legacy_import import parse_legacy_members
    from onboarding.models import ContactPerson, LegacyContract, Organisation
    from onboarding.services.legacy_members import legacy_members_import

    assert not Organisation.objects.exists(), "the benchmark needs an empty database"
    with tempfile.TemporaryDirectory() as directory:
        path = Path(directory) / "legacy_members.csv"
        write_file(path)
        size = path.stat().st_size

        def read_with_csv_module():
            text = path.read_bytes().decode("utf-8-sig")
            return list(csv.reader(io.StringIO(text, newline=""), delimiter=";"))

        def validate():
            return parse_legacy_members(path.read_bytes())

        def import_file():
            parsed = parse_legacy_members(path.read_bytes())
            assert parsed.is_valid, parsed.errors[:5]
            return legacy_members_import(rows=parsed.rows)

        # The timed runs, without tracemalloc.
        a_time, a_queries, rows = timed(read_with_csv_module, repeat=3)
        b_time, b_queries, parsed = timed(validate, repeat=3)
        c_time, c_queries, first = timed(import_file)
        d_time, d_queries, again = timed(import_file)
        _check(rows, parsed, first, again)
        assert Organisation.history.count() == ORGANISATIONS  # the re-import added no history
        assert ContactPerson.objects.count() == ROWS
        assert LegacyContract.objects.count() == ORGANISATIONS

        # The same work again under tracemalloc, for the peaks of memory.
        empty_the_imported_tables()
        c_peak = peak_memory(import_file)
        d_peak = peak_memory(import_file)
        a_peak = peak_memory(read_with_csv_module)
        b_peak = peak_memory(validate)

    print_table(
        f"Import of legacy members: {ROWS:,} rows, {ORGANISATIONS:,} organisations, "
        f"a CSV of {size / 2**20:.1f} MB",
        [
            Measurement("(a) csv module: read + parse (baseline)", a_time, a_peak, a_queries),
            Measurement("(b) legacy_import: read + validate", b_time, b_peak, b_queries),
            Measurement("(c) first import, empty database", c_time, c_peak, c_queries),
            Measurement("(d) import of the same file again", d_time, d_peak, d_queries),
        ],
    )
    print(
        "Times: best of 3 for a and b, one run for c and d (read + validate + write); "
        "peaks of memory (tracemalloc) from separate runs."
    )
    print("(c) " + " ".join(first.summary_lines()))
    print("(d) " + " ".join(again.summary_lines()))


def _check(rows, parsed, first, again) -> None:
    """The benchmark measures the right thing only if the import did what it should."""
    assert len(rows) == ROWS + 1
    assert parsed.is_valid and len(parsed.rows) == ROWS
    assert (first.organisations.created, first.contacts.created, first.contracts.created) == (
        ORGANISATIONS,
        ROWS,
        ORGANISATIONS,
    )
    assert not again.changed


if __name__ == "__main__":
    from bench import run_alone

    run_alone(run)

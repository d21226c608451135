"""Reading the legacy members file: every format quirk it accepts and every error it reports."""

from __future__ import annotations

from datetime import date, datetime

import pytest

from onboarding.legacy_import import REQUIRED_COLUMNS, RowError, parse_legacy_members
from tests.importing import (
    HEADER,
    LEMPAALA,
    OPPIMISALUSTA,
    csv_bytes,
    lempaala_rows,
    row,
    xlsx_bytes,
)


def only_row(data: bytes):
    parsed = parse_legacy_members(data)
    assert parsed.errors == ()
    assert len(parsed.rows) == 1
    return parsed.rows[0]


def errors_of(data: bytes) -> list[tuple[int | None, str | None]]:
    return [(error.row, error.column) for error in parse_legacy_members(data).errors]


def only_error(data: bytes) -> RowError:
    parsed = parse_legacy_members(data)
    assert parsed.rows == () or len(parsed.errors) == 1
    assert len(parsed.errors) == 1, parsed.errors
    return parsed.errors[0]


# The formats


def test_it_reads_a_comma_separated_file():
    parsed = parse_legacy_members(csv_bytes(lempaala_rows()))
    assert parsed.errors == ()
    assert [(r.row, r.oid, r.contact_email) for r in parsed.rows] == [
        (2, LEMPAALA, "riikka@lempaala.fi"),
        (3, LEMPAALA, "it@lempaala.fi"),
        (4, OPPIMISALUSTA, "tech@oppimisalusta.fi"),
    ]
    first = parsed.rows[0]
    assert first.name_fi == "Lempäälän kunta"
    assert first.name_sv == "Lempäälä kommun"
    assert first.business_id == "0150783-1"
    assert first.kind == "education_provider"
    assert first.contract_reference == "OPH-MPASS-0001"
    assert first.signed_on == date(2019, 1, 15)
    assert first.ends_on == date(2024, 8, 1)
    assert first.contact_name == "Riikka Rehtori"
    assert first.contact_role == "administrative"
    assert first.contact_language == "fi"
    assert parsed.organisation_count == 2


def test_it_reads_semicolons_as_excel_in_finland_saves_them():
    parsed = parse_legacy_members(csv_bytes(lempaala_rows(), delimiter=";"))
    assert parsed.errors == ()
    assert [r.name_fi for r in parsed.rows] == [
        "Lempäälän kunta",
        "Lempäälän kunta",
        "Oppimisalusta Oy",
    ]


def test_semicolons_win_even_with_commas_in_the_data():
    data = csv_bytes([row(name_fi="Kunta, sivistystoimi")], delimiter=";")
    assert only_row(data).name_fi == "Kunta, sivistystoimi"


@pytest.mark.parametrize("delimiter", [",", ";"])
def test_it_reads_utf8_with_a_byte_order_mark(delimiter):
    data = csv_bytes(lempaala_rows(), delimiter=delimiter, bom=True)
    assert data.startswith(b"\xef\xbb\xbfoid")
    parsed = parse_legacy_members(data)
    assert parsed.errors == ()
    assert parsed.rows[0].oid == LEMPAALA
    assert parsed.rows[0].name_fi == "Lempäälän kunta"


def test_it_reads_unix_line_ends_too():
    data = csv_bytes(lempaala_rows()).replace(b"\r\n", b"\n")
    assert len(parse_legacy_members(data).rows) == 3


def test_a_quoted_value_may_span_lines_and_rows_are_counted_as_a_spreadsheet_does():
    data = csv_bytes(
        [row(contact_name="Riikka\nRehtori"), row(contact_email="x", contact_role="technical")]
    )
    parsed = parse_legacy_members(data)
    assert parsed.rows[0].contact_name == "Riikka\nRehtori"
    assert errors_of(data) == [(3, "contact_email")]  # on the file's fourth line


def test_columns_may_come_in_any_order_and_other_columns_are_ignored():
    header = ["notes", *reversed(HEADER)]
    data = csv_bytes([{**row(), "notes": "paperi arkistossa"}], header=header)
    assert only_row(data).oid == LEMPAALA


def test_header_names_are_read_in_any_case_with_spaces_around():
    header = [f" {column.upper()} " for column in HEADER]
    values = list(row().values())
    assert only_row(csv_bytes([values], header=header)).contact_email == "riikka@lempaala.fi"


def test_optional_columns_may_be_left_out():
    header = [c for c in HEADER if c in REQUIRED_COLUMNS]
    member = only_row(csv_bytes([row()], header=header))
    assert (member.name_sv, member.business_id, member.signed_on) == ("", "", None)
    assert member.contact_language == "fi"


def test_values_are_stripped_of_spaces_around_them():
    member = only_row(csv_bytes([row(oid=f"  {LEMPAALA} ", contact_email=" Riikka@Lempaala.fi ")]))
    assert member.oid == LEMPAALA
    assert member.contact_email == "riikka@lempaala.fi"


# Dates


@pytest.mark.parametrize("written", ["2024-08-01", "1.8.2024", "01.08.2024", "1.08.2024"])
def test_dates_are_read_as_iso_or_as_finnish_spreadsheets_write_them(written):
    assert only_row(csv_bytes([row(signed_on=written, ends_on="")])).signed_on == date(2024, 8, 1)


def test_an_empty_ends_on_is_the_end_of_all_legacy_contracts(settings):
    settings.LEGACY_CONTRACTS_END = date(2025, 7, 31)
    assert only_row(csv_bytes([row(ends_on="")])).ends_on == date(2025, 7, 31)


def test_signed_on_may_be_empty():
    assert only_row(csv_bytes([row(signed_on="")])).signed_on is None


# Kinds, roles, languages, emails


@pytest.mark.parametrize(
    ("written", "kind"),
    [
        ("education_provider", "education_provider"),
        ("service_provider", "service_provider"),
        ("both", "both"),
        ("koulutustoimija", "education_provider"),
        ("Koulutustoimija", "education_provider"),
        ("PALVELUNTARJOAJA", "service_provider"),
        ("palveluntarjoaja", "service_provider"),
        ("Molemmat", "both"),
        ("Education_Provider", "education_provider"),
    ],
)
def test_kinds_are_read_in_english_or_finnish_in_any_case(written, kind):
    assert only_row(csv_bytes([row(kind=written)])).kind == kind


@pytest.mark.parametrize("role", ["administrative", "technical", "security", "data_protection"])
def test_every_role_is_read_in_any_case(role):
    assert only_row(csv_bytes([row(contact_role=role.upper())])).contact_role == role


@pytest.mark.parametrize(("written", "language"), [("fi", "fi"), ("SV", "sv"), ("En", "en")])
def test_languages_are_read_in_any_case(written, language):
    assert only_row(csv_bytes([row(contact_language=written)])).contact_language == language


def test_an_empty_language_is_finnish():
    assert only_row(csv_bytes([row(contact_language="")])).contact_language == "fi"


def test_emails_are_lower_cased():
    assert only_row(csv_bytes([row(contact_email="Riikka.Rehtori@Lempaala.FI")])).contact_email == (
        "riikka.rehtori@lempaala.fi"
    )


def test_test_organisations_are_accepted_where_allowed(settings):
    settings.ALLOW_TEST_ORGANISATIONS = True
    assert only_row(csv_bytes([row(oid="1.2.246.562.99.00000000001")])).oid == (
        "1.2.246.562.99.00000000001"
    )


# Empty lines


def test_empty_lines_are_skipped_and_row_numbers_stay_as_a_spreadsheet_shows_them():
    data = csv_bytes(
        [
            row(),
            [],
            [""] * len(HEADER),  # what Excel writes for an empty row: only separators
            row(contact_email="it@lempaala.fi", contact_role="technical", business_id="0150783-2"),
        ],
        delimiter=";",
    )
    parsed = parse_legacy_members(data)
    assert [r.row for r in parsed.rows] == [2]
    assert [(e.row, e.column) for e in parsed.errors] == [(5, "business_id")]


def test_empty_lines_before_the_header_are_skipped():
    data = b"\r\n" + csv_bytes([row()])
    parsed = parse_legacy_members(data)
    assert parsed.errors == ()
    assert parsed.rows[0].row == 3


# XLSX


def test_it_reads_an_xlsx_workbook():
    parsed = parse_legacy_members(xlsx_bytes(lempaala_rows()))
    assert parsed.errors == ()
    assert [(r.row, r.oid, r.contact_email, r.contact_language) for r in parsed.rows] == [
        (2, LEMPAALA, "riikka@lempaala.fi", "fi"),
        (3, LEMPAALA, "it@lempaala.fi", "fi"),
        (4, OPPIMISALUSTA, "tech@oppimisalusta.fi", "sv"),
    ]


def test_xlsx_date_cells_are_dates(settings):
    settings.LEGACY_CONTRACTS_END = date(2024, 8, 1)
    data = xlsx_bytes([row(signed_on=date(2019, 1, 15), ends_on=datetime(2025, 7, 31))])
    member = only_row(data)
    assert member.signed_on == date(2019, 1, 15)
    assert member.ends_on == date(2025, 7, 31)


def test_xlsx_dates_may_also_be_text():
    member = only_row(xlsx_bytes([row(signed_on="15.1.2019", ends_on="")]))
    assert member.signed_on == date(2019, 1, 15)


def test_xlsx_numbers_are_read_as_the_sheet_shows_them():
    member = only_row(xlsx_bytes([row(contract_reference=1234, name_sv=12.5)]))
    assert member.contract_reference == "1234"
    assert member.name_sv == "12.5"


def test_xlsx_empty_rows_are_skipped_and_rows_keep_their_numbers():
    data = xlsx_bytes([row(), [], [], row(contact_email="bad", contact_role="technical")])
    parsed = parse_legacy_members(data)
    assert [r.row for r in parsed.rows] == [2]
    assert [(e.row, e.column) for e in parsed.errors] == [(5, "contact_email")]


def test_xlsx_with_missing_columns_names_them():
    data = xlsx_bytes([["x"]], header=["oid", "name_fi"])
    error = only_error(data)
    assert error.row == 1
    assert "kind" in error.message and "contact_email" in error.message


# Errors of the whole file


def test_missing_required_columns_are_one_error_naming_them():
    header = [c for c in HEADER if c not in ("kind", "contact_role")]
    error = only_error(csv_bytes([row()], header=header))
    assert (error.row, error.column) == (1, None)
    assert error.message == "Columns missing from the header row: kind, contact_role."
    assert str(error) == "row 1: Columns missing from the header row: kind, contact_role."


def test_a_column_twice_in_the_header_is_an_error():
    error = only_error(csv_bytes([[*row().values(), "x"]], header=[*HEADER, "kind"]))
    assert error.row == 1
    assert "kind" in error.message


def test_an_empty_file_is_an_error():
    assert "no header row" in only_error(b"").message
    assert "no header row" in only_error(b"\xef\xbb\xbf\r\n\r\n").message


def test_a_file_with_only_the_header_is_an_error():
    assert "no rows" in only_error(csv_bytes([])).message


def test_a_file_that_is_not_utf8_is_refused_with_advice():
    data = csv_bytes([row()]).decode("utf-8").encode("cp1252")
    error = only_error(data)
    assert error.row is None
    assert "UTF-8" in error.message


def test_the_old_excel_format_is_refused():
    assert ".xls" in only_error(b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1" + b"\0" * 100).message


def test_a_broken_workbook_is_refused():
    assert "Excel workbook" in only_error(b"PK\x03\x04 this is not a zip archive").message


def test_an_unreadable_csv_line_is_reported_with_its_row():
    data = csv_bytes([row(), row(name_fi="x" * 200_000)])
    error = only_error(data)
    assert error.row == 3
    assert "CSV" in error.message


# Errors of rows: each with its row and column


@pytest.mark.parametrize(
    ("column", "value", "message"),
    [
        ("oid", "", "This value is required."),
        ("oid", "1.2.246.562.24.12345678901", "This is a learner number"),
        ("oid", "1.2.3.4", "The identifier must start with 1.2.246.562."),
        ("oid", "1.2.246.562.99.00000000001", "Test organisations"),
        ("name_fi", "", "This value is required."),
        ("name_fi", "x" * 256, "At most 255 characters; this one has 256."),
        ("name_sv", "x" * 256, "At most 255 characters"),
        ("business_id", "0150783-2", "The check digit of the business ID is wrong"),
        ("business_id", "150783-1", "Write the business ID as seven digits"),
        ("kind", "", "This value is required."),
        ("kind", "kunta", "Unknown kind “kunta”"),
        ("contract_reference", "", "This value is required."),
        ("contract_reference", "x" * 101, "At most 100 characters"),
        ("signed_on", "15/01/2019", "Write the date as 2024-08-01 or 1.8.2024"),
        ("signed_on", "1.8.24", "Write the date as 2024-08-01 or 1.8.2024"),
        ("signed_on", "31.2.2019", "There is no such date: 31.2.2019."),
        ("ends_on", "2024-13-01", "There is no such date"),
        ("ends_on", "2018-12-31", "The contract cannot end before it was signed."),
        ("contact_name", "", "This value is required."),
        ("contact_name", "x" * 201, "At most 200 characters"),
        ("contact_email", "", "This value is required."),
        ("contact_email", "riikka.lempaala.fi", "Enter a valid email address."),
        ("contact_role", "", "This value is required."),
        ("contact_role", "rehtori", "Unknown value “rehtori”: write one of administrative,"),
        ("contact_language", "de", "Unknown value “de”: write one of fi, sv, en."),
    ],
)
def test_every_wrong_value_is_an_error_of_its_row_and_column(settings, column, value, message):
    settings.ALLOW_TEST_ORGANISATIONS = False
    other = row(oid=OPPIMISALUSTA, contract_reference="R-2")
    parsed = parse_legacy_members(csv_bytes([other, row(**{column: value})]))
    assert [r.row for r in parsed.rows] == [2]  # the wrong row is not taken
    assert len(parsed.errors) == 1, parsed.errors
    error = parsed.errors[0]
    assert (error.row, error.column) == (3, column)
    assert error.message.startswith(message)


def test_an_error_reads_with_its_row_and_column():
    error = only_error(csv_bytes([row(business_id="0150783-2")]))
    assert str(error) == (
        "row 2, business_id: The check digit of the business ID is wrong: "
        "check it for typing errors."
    )


def test_every_error_of_every_row_is_listed_in_order():
    data = csv_bytes(
        [
            row(),
            row(contact_email="bad", contact_role="boss"),
            row(oid=OPPIMISALUSTA, name_fi="Oppimisalusta", contract_reference="R-2"),
            row(
                oid=OPPIMISALUSTA,
                name_fi="",
                kind="x",
                contract_reference="R-2",
                contact_email="it@oppimisalusta.fi",
            ),
        ]
    )
    assert errors_of(data) == [
        (3, "contact_email"),
        (3, "contact_role"),
        (5, "name_fi"),
        (5, "kind"),
    ]


# Rows of one organisation


def test_an_organisation_may_span_rows_that_agree_once_read():
    rows = [
        row(kind="education_provider", signed_on="2019-01-15", ends_on=""),
        row(
            kind="Koulutustoimija",
            signed_on="15.1.2019",
            ends_on="1.8.2024",
            contact_email="it@lempaala.fi",
        ),
    ]
    assert len(parse_legacy_members(csv_bytes(rows)).rows) == 2


def test_rows_of_one_organisation_that_disagree_are_errors_of_the_later_row():
    data = csv_bytes(
        [
            row(),
            row(oid=OPPIMISALUSTA, contract_reference="R-2"),
            row(
                name_fi="Lempäälä",
                signed_on="2019-02-01",
                contact_email="it@lempaala.fi",
            ),
        ]
    )
    errors = parse_legacy_members(data).errors
    assert [(e.row, e.column) for e in errors] == [(4, "name_fi"), (4, "signed_on")]
    assert errors[0].message == (
        "Row 2 of the same organisation says “Lempäälän kunta”: an organisation's columns must "
        "be the same on each of its rows."
    )
    assert "2019-01-15" in errors[1].message


def test_an_empty_value_that_disagrees_is_shown_as_empty():
    data = csv_bytes([row(), row(name_sv="", contact_email="it@lempaala.fi")])
    error = only_error(data)
    assert (error.row, error.column) == (3, "name_sv")
    assert "Lempäälä kommun" in error.message
    data = csv_bytes([row(name_sv=""), row(contact_email="it@lempaala.fi")])
    assert "(empty)" in only_error(data).message


def test_the_same_contact_twice_in_one_role_is_an_error():
    data = csv_bytes([row(), row(contact_email="RIIKKA@lempaala.fi", contact_name="R. Rehtori")])
    error = only_error(data)
    assert (error.row, error.column) == (3, "contact_email")
    assert error.message == "This contact is already on row 2 in the same role."


def test_the_same_person_may_have_several_roles_and_organisations():
    rows = [
        row(),
        row(contact_role="security"),
        row(oid=OPPIMISALUSTA, contract_reference="R-2"),
    ]
    assert len(parse_legacy_members(csv_bytes(rows)).rows) == 3


# Progress


def test_progress_wraps_the_rows_and_is_told_about_how_many_there_are():
    seen = {}

    def progress(records, total):
        seen["total"] = total
        for record in records:
            seen["count"] = seen.get("count", 0) + 1
            yield record

    parsed = parse_legacy_members(csv_bytes(lempaala_rows()), progress=progress)
    assert len(parsed.rows) == 3
    assert seen["count"] == 3
    assert 3 <= seen["total"] <= 4

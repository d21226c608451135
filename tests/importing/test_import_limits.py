"""What the legacy import refuses, and how early: control characters in cells, files that are
not workbooks (broken XML or zip, entities), and files past the size, row and error limits.

Every bad file is made here from a good one, in memory: no fixture files.
"""

from __future__ import annotations

import io

import openpyxl.xml
import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.core.management import CommandError, call_command
from django.urls import reverse
from django.utils import translation

from onboarding.legacy_import import ERRORS_SHOWN, parse_legacy_members
from onboarding.models import ContactPerson, LegacyContract, Organisation
from tests.importing import (
    HEADER,
    SHEET,
    csv_bytes,
    lempaala_rows,
    row,
    sheet_xml,
    text_cell,
    xlsx_bytes,
    xlsx_with_part,
)

pytestmark = pytest.mark.django_db

with translation.override("en"):
    IMPORT = reverse("admin:onboarding_organisation_import")
ENGLISH = {"accept-language": "en"}

NOT_A_WORKBOOK = "The file could not be read as an Excel workbook (.xlsx)."
ENTITIES = (
    "The workbook contains XML entity declarations, which are refused for safety: open it in "
    "Excel and save it again as .xlsx."
)
CONTROL = "The value contains a control character (such as NUL) that cannot be stored: remove it."


def _entity_bomb() -> bytes:
    """Nine levels of ten references each: a billion "lol"s once expanded."""
    entities = ['<!ENTITY lol0 "lol">']
    for level in range(1, 10):
        entities.append(f'<!ENTITY lol{level} "{f"&lol{level - 1};" * 10}">')
    return ("<!DOCTYPE worksheet [" + "".join(entities) + "]>").encode()


ENTITY_BOMB = _entity_bomb()


def good_xlsx() -> bytes:
    return xlsx_bytes(lempaala_rows())


def with_sheet(sheet: bytes) -> bytes:
    return xlsx_with_part(good_xlsx(), SHEET, sheet)


def empty_rows(count: int) -> bytes:
    """Rows without numbers, each the next: a few bytes each once compressed."""
    return b"<row/>" * count


def header_row() -> bytes:
    cells = b"".join(text_cell(f"{chr(ord('A') + n)}1", name) for n, name in enumerate(HEADER))
    return b'<row r="1">' + cells + b"</row>"


def only_error(data: bytes) -> str:
    parsed = parse_legacy_members(data)
    assert not parsed.rows
    assert len(parsed.errors) == 1, parsed.errors
    return str(parsed.errors[0])


def nothing_imported() -> bool:
    return not any(m.objects.exists() for m in (Organisation, ContactPerson, LegacyContract))


def command_error(tmp_path, data: bytes, name: str = "members.xlsx") -> str:
    path = tmp_path / name
    path.write_bytes(data)
    with pytest.raises(CommandError) as raised:
        call_command("import_legacy_members", str(path), "--no-progress", stdout=io.StringIO())
    return str(raised.value)


# Control characters in cells


@pytest.mark.parametrize("character", ["\x00", "\x01", "\x1b", "\x7f"])
def test_a_control_character_in_a_cell_is_an_error_on_its_row_and_column(character):
    parsed = parse_legacy_members(csv_bytes([row(name_fi=f"Lempäälä{character}")]))

    assert [str(error) for error in parsed.errors] == [f"row 2, name_fi: {CONTROL}"]


def test_tabs_and_line_breaks_in_a_cell_are_text():
    parsed = parse_legacy_members(csv_bytes([row(name_sv="Lempäälä\tkommun", sectors="basic\n")]))
    assert parsed.is_valid


def test_the_command_lists_a_nul_cell_and_writes_nothing(tmp_path):
    message = command_error(tmp_path, csv_bytes([row(contact_name="Riikka\x00")]), "m.csv")

    assert f"row 2, contact_name: {CONTROL}" in message
    assert nothing_imported()


def test_the_admin_shows_a_nul_cell_as_an_error(admin_client):
    data = csv_bytes([row(contact_email="riikka\x00@lempaala.fi")])
    response = admin_client.post(
        IMPORT, {"file": SimpleUploadedFile("members.csv", data)}, headers=ENGLISH
    )

    assert response.status_code == 200
    assert [(e.row, e.column, e.message) for e in response.context["errors"]] == [
        (2, "contact_email", CONTROL)
    ]
    assert nothing_imported()


# Files that are not workbooks


def test_openpyxl_parses_with_defusedxml():
    assert openpyxl.xml.DEFUSEDXML


@pytest.mark.parametrize("part", [SHEET, "xl/workbook.xml", "xl/styles.xml", "[Content_Types].xml"])
def test_broken_xml_in_any_part_is_not_a_workbook(part):
    assert only_error(xlsx_with_part(good_xlsx(), part, b"<worksheet><sheetData><row>")) == (
        NOT_A_WORKBOOK
    )


@pytest.mark.parametrize(
    "data",
    [
        b"PK\x03\x04 not a zip after all",
        xlsx_bytes(lempaala_rows())[:2000],  # cut short
        xlsx_with_part(xlsx_bytes([]), "xl/workbook.xml", b"<nothing/>"),
    ],
    ids=["not-a-zip", "truncated", "wrong-part"],
)
def test_a_broken_zip_or_workbook_is_not_a_workbook(data):
    assert only_error(data) == NOT_A_WORKBOOK


def test_an_entity_expansion_bomb_is_refused():
    bomb = sheet_xml(
        header_row() + b'<row r="2">' + text_cell("A2", "&lol9;") + b"</row>",
        prolog=ENTITY_BOMB,
    )
    assert only_error(with_sheet(bomb)) == ENTITIES


def test_an_external_entity_is_refused_and_the_file_it_names_is_not_read(tmp_path):
    secret = tmp_path / "secret.txt"
    secret.write_text("the-secret-content")
    xxe = sheet_xml(
        header_row() + b'<row r="2">' + text_cell("A2", "&x;") + b"</row>",
        prolog=f'<!DOCTYPE worksheet [<!ENTITY x SYSTEM "file://{secret}">]>'.encode(),
    )

    parsed = parse_legacy_members(with_sheet(xxe))

    assert [str(error) for error in parsed.errors] == [ENTITIES]
    assert "the-secret-content" not in repr(parsed)


def test_entities_in_the_workbook_part_are_refused_too():
    data = xlsx_with_part(
        good_xlsx(), "xl/workbook.xml", b'<?xml version="1.0"?>' + ENTITY_BOMB + b"<workbook/>"
    )
    assert only_error(data) == ENTITIES


@pytest.mark.parametrize(
    "data",
    [
        "oid;name_fi\nÄänekoski;x\n".encode("latin-1"),
        "oid,name_fi\n".encode("utf-16"),
    ],
    ids=["latin-1", "utf-16"],
)
def test_a_csv_in_another_encoding_is_refused_with_how_to_save_it(data):
    assert only_error(data).startswith("The file is not UTF-8 text")


def test_the_command_says_in_one_line_that_a_file_is_not_a_workbook(tmp_path):
    message = command_error(tmp_path, with_sheet(b"<<<"))

    assert message == f"{tmp_path / 'members.xlsx'}: {NOT_A_WORKBOOK} Nothing was imported."
    assert "\n" not in message


def test_the_command_says_in_one_line_that_entities_are_refused(tmp_path):
    bomb = sheet_xml(header_row(), prolog=ENTITY_BOMB)
    message = command_error(tmp_path, with_sheet(bomb))
    assert message.endswith(f"{ENTITIES} Nothing was imported.")
    assert "\n" not in message


@pytest.mark.parametrize("part", [SHEET, "xl/workbook.xml"])
def test_the_admin_shows_that_a_file_is_not_a_workbook(admin_client, part):
    data = xlsx_with_part(good_xlsx(), part, b'<?xml version="1.0"?>' + ENTITY_BOMB + b"<x/>")
    response = admin_client.post(
        IMPORT, {"file": SimpleUploadedFile("members.xlsx", data)}, headers=ENGLISH
    )

    assert response.status_code == 200
    assert [e.message for e in response.context["errors"]] == [ENTITIES]
    assert ENTITIES.encode() in response.content
    assert nothing_imported()


def test_the_admin_shows_that_a_malformed_workbook_cannot_be_read(admin_client):
    data = with_sheet(b"<worksheet>")
    response = admin_client.post(
        IMPORT, {"file": SimpleUploadedFile("members.xlsx", data)}, headers=ENGLISH
    )
    assert response.status_code == 200
    assert NOT_A_WORKBOOK.encode() in response.content


# Limits


def test_a_file_past_the_size_limit_is_refused_before_it_is_opened(settings):
    settings.IMPORT_MAX_FILE_SIZE = 1000
    assert only_error(b"PK\x03\x04" + b"x" * 1001).startswith("The file is too large: at most")


def test_the_command_refuses_a_file_past_the_size_limit_in_one_line(tmp_path, settings):
    settings.IMPORT_MAX_FILE_SIZE = 1000
    message = command_error(tmp_path, csv_bytes(lempaala_rows() * 10), "members.csv")
    assert message.startswith(f"{tmp_path / 'members.csv'}: the file is too large: at most")
    assert "\n" not in message


def test_a_zip_bomb_is_refused_by_its_unpacked_size(settings):
    settings.IMPORT_MAX_FILE_SIZE = 50_000  # so at most 500 kB unpacked
    bomb = with_sheet(sheet_xml(header_row() + empty_rows(100_000)))
    assert len(bomb) < 10_000

    assert only_error(bomb).startswith("The workbook would unpack to more than")


def test_a_sheet_declaring_too_many_rows_is_refused_before_reading(settings):
    settings.IMPORT_MAX_ROWS = 100
    data = with_sheet(sheet_xml(header_row(), dimension="A1:M5000"))
    assert only_error(data).startswith("The file has more than 100 rows, empty rows counted")


def test_reading_stops_past_the_row_limit_whatever_the_sheet_declares():
    # 200,000 empty rows under a dimension that says four: reading stops past the limit.
    bomb = with_sheet(sheet_xml(header_row() + empty_rows(200_000), dimension="A1:M4"))

    assert only_error(bomb).startswith("The file has more than 20000 rows, empty rows counted")


def test_a_sheet_without_a_dimension_is_counted_before_openpyxl_reads_it(settings):
    # openpyxl would parse the whole sheet at opening to look for its dimension.
    settings.IMPORT_MAX_ROWS = 100
    data = with_sheet(sheet_xml(header_row() + empty_rows(30_000)))
    assert only_error(data).startswith("The workbook holds more cells than 100 rows can")


def test_a_csv_past_the_row_limit_is_refused(settings):
    settings.IMPORT_MAX_ROWS = 50
    data = csv_bytes([row()] + [[]] * 60)
    assert only_error(data).startswith("The file has more than 50 rows")


def test_checking_stops_after_the_error_limit_and_says_where(settings):
    settings.IMPORT_MAX_ERRORS = 150
    parsed = parse_legacy_members(csv_bytes([row(contact_email="bad")] * 400))

    assert str(parsed.errors[0]) == (
        "Checking stopped at row 152 after 150 errors: correct these and upload the file again."
    )
    assert len(parsed.errors) == 151
    assert len(parsed.first_errors) == ERRORS_SHOWN


def test_the_preview_lists_the_first_100_errors_and_gives_their_count(admin_client, settings):
    settings.IMPORT_MAX_ERRORS = 300
    data = csv_bytes([row(contact_email=f"bad{n}") for n in range(250)])
    response = admin_client.post(
        IMPORT, {"file": SimpleUploadedFile("members.csv", data)}, headers=ENGLISH
    )

    assert response.status_code == 200
    assert "members.csv has 250 errors" in response.content.decode()
    assert "The first 100 of 250 errors are listed below." in response.content.decode()
    assert response.content.decode().count("<code>contact_email</code>") == 100
    assert nothing_imported()

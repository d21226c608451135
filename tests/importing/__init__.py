"""Files for the tests of the legacy members import, made in the tests themselves."""

from __future__ import annotations

import csv
import io
from collections.abc import Sequence
from datetime import date
from typing import Any

from onboarding.identifiers import business_id_check_digit
from onboarding.legacy_import import COLUMNS
from tests.factories import LEMPAALA  # noqa: F401 - the files' Lempäälä is everyone's

HEADER = list(COLUMNS)
OPPIMISALUSTA = "1.2.246.562.10.20000000011"


def business_id(n: int) -> str:
    """A valid business ID (Y-tunnus), different for each n."""
    body = f"{2000000 + n * 13:07d}"
    while business_id_check_digit(body) is None:
        body = f"{int(body) + 1:07d}"
    return f"{body}-{business_id_check_digit(body)}"


def row(**values: Any) -> dict[str, Any]:
    """One valid row of Lempäälä's, with `values` changed."""
    return {
        "oid": LEMPAALA,
        "name_fi": "Lempäälän kunta",
        "name_sv": "Lempäälä kommun",
        "business_id": "0150783-1",
        "kind": "education_provider",
        "contract_reference": "OPH-MPASS-0001",
        "signed_on": "2019-01-15",
        "ends_on": "2024-08-01",
        "contact_name": "Riikka Rehtori",
        "contact_email": "riikka@lempaala.fi",
        "contact_role": "administrative",
        "contact_language": "fi",
        **values,
    }


def lempaala_rows() -> list[dict[str, Any]]:
    """Lempäälä with two contacts and Oppimisalusta with one."""
    return [
        row(),
        row(
            contact_name="Teemu Tekninen", contact_email="it@lempaala.fi", contact_role="technical"
        ),
        row(
            oid=OPPIMISALUSTA,
            name_fi="Oppimisalusta Oy",
            name_sv="",
            business_id="2345671-3",
            kind="service_provider",
            contract_reference="OPH-MPASS-0002",
            signed_on="",
            ends_on="",
            contact_name="Tor Teknik",
            contact_email="tech@oppimisalusta.fi",
            contact_role="technical",
            contact_language="sv",
        ),
    ]


def csv_bytes(
    rows: Sequence[dict[str, Any] | Sequence[Any]],
    *,
    header: Sequence[str] = HEADER,
    delimiter: str = ",",
    bom: bool = False,
) -> bytes:
    """A CSV file; a row given as a list is written as it is (an empty list: an empty line)."""
    buffer = io.StringIO(newline="")
    writer = csv.writer(buffer, delimiter=delimiter, lineterminator="\r\n")
    writer.writerow(header)
    for values in rows:
        writer.writerow(
            [values.get(column, "") for column in header] if isinstance(values, dict) else values
        )
    return (b"\xef\xbb\xbf" if bom else b"") + buffer.getvalue().encode("utf-8")


def xlsx_bytes(
    rows: Sequence[dict[str, Any] | Sequence[Any]], *, header: Sequence[str] = HEADER
) -> bytes:
    """An Excel workbook whose first sheet has the rows; dates may be real date cells."""
    import openpyxl

    workbook = openpyxl.Workbook()
    sheet = workbook.active
    sheet.append(list(header))
    for number, values in enumerate(rows, start=2):
        cells = [values.get(column) for column in header] if isinstance(values, dict) else values
        for column, value in enumerate(cells, start=1):
            if value not in (None, ""):
                cell = sheet.cell(row=number, column=column, value=value)
                if isinstance(value, date):
                    cell.number_format = "d.m.yyyy"
    buffer = io.BytesIO()
    workbook.save(buffer)
    return buffer.getvalue()


def many_rows(organisations: int, *, contacts: int = 2, start: int = 0) -> list[dict[str, Any]]:
    """`organisations` organisations with `contacts` contacts each."""
    rows = []
    for n in range(start, start + organisations):
        for c in range(contacts):
            rows.append(
                row(
                    oid=f"1.2.246.562.10.{40000000000 + n}",
                    name_fi=f"Koulutustoimija {n}",
                    name_sv=f"Utbildningsaktör {n}",
                    business_id=business_id(n),
                    contract_reference=f"OPH-MPASS-{n:05d}",
                    contact_name=f"Yhteys Henkilö {n}-{c}",
                    contact_email=f"contact{c}@org{n}.fi",
                    contact_role=["administrative", "technical", "security"][c % 3],
                )
            )
    return rows


SHEET = "xl/worksheets/sheet1.xml"  # the first sheet of a workbook made by xlsx_bytes
SPREADSHEET_NS = "http://schemas.openxmlformats.org/spreadsheetml/2006/main"


def xlsx_with_part(data: bytes, name: str, content: bytes) -> bytes:
    """The workbook `data` with its part `name` replaced by `content` (compressed)."""
    import zipfile

    source = zipfile.ZipFile(io.BytesIO(data))
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w", zipfile.ZIP_DEFLATED) as archive:
        for info in source.infolist():
            archive.writestr(
                info.filename, content if info.filename == name else source.read(info.filename)
            )
    return buffer.getvalue()


def sheet_xml(body: bytes, *, dimension: str | None = None, prolog: bytes = b"") -> bytes:
    """A worksheet part whose sheetData is `body`, with a declared dimension if given."""
    declared = f'<dimension ref="{dimension}"/>'.encode() if dimension else b""
    return (
        b'<?xml version="1.0" encoding="UTF-8"?>'
        + prolog
        + f'<worksheet xmlns="{SPREADSHEET_NS}">'.encode()
        + declared
        + b"<sheetData>"
        + body
        + b"</sheetData></worksheet>"
    )


def text_cell(reference: str, text: str) -> bytes:
    return f'<c r="{reference}" t="inlineStr"><is><t>{text}</t></is></c>'.encode()

"""Cells for spreadsheets (CSV and XLSX files that staff open in Excel or LibreOffice)."""

from __future__ import annotations

# A cell starting with one of these is read as a formula (or, for tab and CR, can smuggle one
# in after the field is split): OWASP's "CSV injection".
FORMULA_STARTS = ("=", "+", "-", "@", "\t", "\r")


def spreadsheet_cell(value: str) -> str:
    """The value as a spreadsheet shows it as text, never runs it: a leading apostrophe on
    anything that starts like a formula. Names, titles and user agents come from what people
    typed."""
    return f"'{value}" if value.startswith(FORMULA_STARTS) else value


def spreadsheet_safe(cells: list[str]) -> list[str]:
    """A row of cells, each made inert (`spreadsheet_cell`)."""
    return [spreadsheet_cell(cell) for cell in cells]

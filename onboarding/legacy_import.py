"""Reading the register of legacy members (old contract members) from CSV or XLSX.

The file has one row per contact person; an organisation spans as many rows as it has contacts,
and its columns (oid … ends_on) repeat on each of them. Every row is checked before anything is
written: `parse_legacy_members` returns the validated rows and every error it found, each with
its row number as a spreadsheet shows it (the header is row 1) and its column.

Built on the standard csv module and openpyxl rather than django-import-export: the format is
one fixed sheet whose rows map onto three models with rules of their own (an organisation
across rows, contacts matched by email and role, the membership rule), which a resource-per-model
tool does not express. Every quirk this module accepts is covered in
tests/importing/test_legacy_import.py.

Accepted quirks:
- CSV in UTF-8 with or without a byte order mark, separated by commas or semicolons (as Excel
  saves it in Finland), detected from the header line; XLSX (its first sheet).
- Dates as 2024-08-01, 1.8.2024 or 01.08.2024, or an XLSX date cell.
- kind in English (education_provider, service_provider, both) or Finnish (koulutustoimija,
  palveluntarjoaja, molemmat), in any case; roles and languages in any case.
- sectors (optional column): codes (basic, vocational, ...) or OPH's Finnish names
  (perusopetus, ammatillinen koulutus, ...), in any case, separated by commas, semicolons or
  line breaks; an empty cell or no column leaves an organisation's sectors as they are.
- Empty lines are skipped; an empty ends_on is the end of all legacy contracts
  (settings.LEGACY_CONTRACTS_END); an empty contact_language is Finnish, the model's default.

What is refused, and how early (tests/importing/test_import_limits.py):
- A cell with a control character (NUL and the like; tabs and line breaks are text): an error
  on its row and column, as PostgreSQL cannot store NUL.
- A file larger than settings.IMPORT_MAX_FILE_SIZE, before it is opened; an XLSX whose parts
  would unpack to more than XLSX_MAX_EXPANSION times that, before anything is unpacked (the
  sizes a zip declares are the most it gives: a part longer than declared fails its check),
  or whose XML holds more elements than the row and column limits allow (streamed, kept
  nowhere) before openpyxl builds anything from it.
- More than settings.IMPORT_MAX_ROWS rows, empty ones counted: by an XLSX sheet's declared
  dimension before reading, and in any case as soon as reading passes the limit.
- After settings.IMPORT_MAX_ERRORS errors, checking stops and says so.
- An XLSX with entities in its XML (an entity-expansion bomb, an external entity): openpyxl
  parses with defusedxml, which refuses them; broken XML, a broken zip and anything else the
  parser cannot read is "not a workbook", never an exception out of this module.
"""

from __future__ import annotations

import csv
import io
import re
import xml.sax.handler
import zipfile
from collections.abc import Callable, Generator, Iterable, Iterator
from dataclasses import dataclass
from datetime import date, datetime
from typing import Any

import defusedxml.sax
from defusedxml import DefusedXmlException
from django.conf import settings
from django.core.exceptions import ValidationError
from django.core.validators import validate_email
from django.db.models import Model, TextChoices
from django.template.defaultfilters import filesizeformat
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy

from onboarding.identifiers import validate_business_id, validate_organisation_oid
from onboarding.models import ContactPerson, LegacyContract, Organisation
from onboarding.models.organisations import (
    ContactRole,
    Language,
    OrganisationKind,
    Sector,
    default_contract_end,
    sectors_in_order,
)
from onboarding.text import TYPED_TEXT_CONTROL

ORGANISATION_COLUMNS = (
    "oid",
    "name_fi",
    "name_sv",
    "business_id",
    "kind",
    "contract_reference",
    "signed_on",
    "ends_on",
)
CONTACT_COLUMNS = ("contact_name", "contact_email", "contact_role", "contact_language")
# Organisation columns added later come after the contact columns: files and templates made
# for the first format keep their column order.
LATER_ORGANISATION_COLUMNS = ("sectors",)
COLUMNS = ORGANISATION_COLUMNS + CONTACT_COLUMNS + LATER_ORGANISATION_COLUMNS
# Columns whose every value may be empty may also be left out of the file.
OPTIONAL_COLUMNS = frozenset(
    {"name_sv", "business_id", "sectors", "signed_on", "ends_on", "contact_language"}
)
REQUIRED_COLUMNS = tuple(column for column in COLUMNS if column not in OPTIONAL_COLUMNS)

FINNISH_KINDS = {  # as Finnish spreadsheets may write them
    "koulutustoimija": OrganisationKind.EDUCATION_PROVIDER,
    "palveluntarjoaja": OrganisationKind.SERVICE_PROVIDER,
    "molemmat": OrganisationKind.BOTH,
}

FINNISH_SECTORS = {  # as OPH names them
    "varhaiskasvatus": Sector.EARLY_CHILDHOOD,
    "esiopetus": Sector.PRE_PRIMARY,
    "perusopetus": Sector.BASIC,
    "lukiokoulutus": Sector.GENERAL_UPPER_SECONDARY,
    "ammatillinen koulutus": Sector.VOCATIONAL,
    "vapaa sivistystyö": Sector.LIBERAL_ADULT,
}
_SECTOR_SEPARATORS = re.compile(r"[,;\n]+")

# How far an XLSX may unpack, relative to the largest file accepted.
XLSX_MAX_EXPANSION = 10
# Columns read from an XLSX sheet; the known columns are 13, the rest are notes, ignored.
XLSX_MAX_COLUMNS = 64

XLSX_MAGIC = b"PK\x03\x04"  # a zip archive
XLS_MAGIC = b"\xd0\xcf\x11\xe0"  # the binary Excel 97–2003 format

_ISO_DATE = re.compile(r"^(?P<year>\d{4})-(?P<month>\d{1,2})-(?P<day>\d{1,2})$")
_FINNISH_DATE = re.compile(r"^(?P<day>\d{1,2})\.(?P<month>\d{1,2})\.(?P<year>\d{4})$")

Record = tuple[int, list[Any]]  # a row number as a spreadsheet shows it, and its cells
Progress = Callable[[Iterator[Record], int | None], Iterable[Record]]


@dataclass(frozen=True, slots=True)
class LegacyMemberRow:
    """One valid row: an organisation's columns and one of its contact persons."""

    row: int
    oid: str
    name_fi: str
    name_sv: str
    business_id: str
    kind: str
    sectors: tuple[str, ...]  # empty: the file does not say
    contract_reference: str
    signed_on: date | None
    ends_on: date
    contact_name: str
    contact_email: str
    contact_role: str
    contact_language: str


@dataclass(frozen=True, slots=True)
class RowError:
    """What is wrong, where: `row` and `column` are None for what concerns the whole file."""

    row: int | None
    column: str | None
    message: str

    def __str__(self) -> str:
        if self.row is not None and self.column:
            return _("row %(row)s, %(column)s: %(message)s") % {
                "row": self.row,
                "column": self.column,
                "message": self.message,
            }
        if self.row is not None:
            return _("row %(row)s: %(message)s") % {"row": self.row, "message": self.message}
        return self.message


# The preview lists this many errors and says how many there are in all.
ERRORS_SHOWN = 100


@dataclass(frozen=True, slots=True)
class ParsedFile:
    rows: tuple[LegacyMemberRow, ...]
    errors: tuple[RowError, ...]

    @property
    def is_valid(self) -> bool:
        return not self.errors

    @property
    def first_errors(self) -> tuple[RowError, ...]:
        return self.errors[:ERRORS_SHOWN]

    @property
    def organisation_count(self) -> int:
        return len({row.oid for row in self.rows})


class UnreadableFile(Exception):
    """The file as a whole cannot be read; the message says why, for the person importing."""

    def __init__(self, message: str, row: int | None = None) -> None:
        super().__init__(message)
        self.message = message
        self.row = row


def parse_legacy_members(data: bytes, *, progress: Progress | None = None) -> ParsedFile:
    """Read and check every row of a CSV or XLSX file (told apart by content, not by name).

    `progress`, if given, wraps the iteration over the rows (the command passes a tqdm bar) and
    receives an estimate of their number.
    """
    try:
        records, estimate = _open(data)
    except UnreadableFile as error:
        return ParsedFile(rows=(), errors=(RowError(error.row, None, error.message),))
    records = _at_most_rows(records, settings.IMPORT_MAX_ROWS)
    try:
        header_row, header = _header(records)
        columns = _columns(header, header_row)
        rows: Iterable[Record] = records
        if progress is not None:
            rows = progress(records, None if estimate is None else estimate - 1)
        return _validate(rows, columns)
    except UnreadableFile as error:
        return ParsedFile(rows=(), errors=(RowError(error.row, None, error.message),))
    finally:
        records.close()  # an XLSX workbook is closed even when the header was wrong


def _open(data: bytes) -> tuple[Generator[Record, None, None], int | None]:
    if len(data) > settings.IMPORT_MAX_FILE_SIZE:
        raise UnreadableFile(
            _("The file is too large: at most %(size)s.")
            % {"size": filesizeformat(settings.IMPORT_MAX_FILE_SIZE)}
        )
    if data.startswith(XLSX_MAGIC):
        return _xlsx_records(data)
    if data.startswith(XLS_MAGIC):
        raise UnreadableFile(
            _("The old Excel format (.xls) is not supported: save the file as .xlsx or CSV.")
        )
    return _csv_records(data)


def _csv_records(data: bytes) -> tuple[Generator[Record, None, None], int | None]:
    try:
        text = data.decode("utf-8-sig")
    except UnicodeDecodeError as error:
        raise UnreadableFile(
            _(
                "The file is not UTF-8 text: in Excel, save it as “CSV UTF-8 (comma delimited)” "
                "or as an Excel workbook (.xlsx)."
            )
        ) from error
    header_line = next((line for line in text.splitlines() if line.strip()), "")
    delimiter = ";" if header_line.count(";") > header_line.count(",") else ","
    reader = csv.reader(io.StringIO(text, newline=""), delimiter=delimiter)

    def records() -> Generator[Record, None, None]:
        row = 0
        try:
            for row, cells in enumerate(reader, start=1):
                yield row, cells
        except csv.Error as error:
            raise UnreadableFile(
                _("The CSV file could not be read: %(error)s") % {"error": error}, row=row + 1
            ) from error

    return records(), text.count("\n") + 1


def _too_many_rows() -> UnreadableFile:
    return UnreadableFile(
        _(
            "The file has more than %(limit)s rows, empty rows counted: delete the empty rows "
            "below the data, or split the file."
        )
        % {"limit": settings.IMPORT_MAX_ROWS}
    )


def _at_most_rows(
    records: Generator[Record, None, None], limit: int
) -> Generator[Record, None, None]:
    """The records, stopping with an error as soon as a row number passes `limit`."""
    try:
        for record in records:
            if record[0] > limit:
                raise _too_many_rows()
            yield record
    finally:
        records.close()


def _caused_by(error: BaseException | None, kind: type[BaseException]) -> bool:
    """Whether `error` or what it was raised from is a `kind` (openpyxl wraps what it meets)."""
    seen = set()
    while error is not None and id(error) not in seen:
        if isinstance(error, kind):
            return True
        seen.add(id(error))
        error = error.__cause__ or error.__context__
    return False


def _unreadable_workbook(error: Exception) -> UnreadableFile:
    if _caused_by(error, DefusedXmlException):
        message = _(
            "The workbook contains XML entity declarations, which are refused for safety: "
            "open it in Excel and save it again as .xlsx."
        )
    else:
        message = _("The file could not be read as an Excel workbook (.xlsx).")
    return UnreadableFile(message)


def _check_workbook_size(data: bytes) -> None:
    """Refuse a zip bomb before openpyxl unpacks it.

    The sizes a zip declares are the most it gives. Within them, openpyxl may still build a
    tree of a whole part (a sheet without a declared dimension is parsed to its end to look for
    one), so every XML part is first streamed through a parser that keeps nothing and stops
    past as many elements as the row and column limits allow.
    """
    with zipfile.ZipFile(io.BytesIO(data)) as archive:
        members = archive.infolist()
        if sum(member.file_size for member in members) > _max_unpacked_size():
            raise UnreadableFile(
                _(
                    "The workbook would unpack to more than %(size)s: it is not a list of "
                    "legacy members. Save only the sheet of members in a new workbook."
                )
                % {"size": filesizeformat(_max_unpacked_size())}
            )
        counter = _ElementCounter(settings.IMPORT_MAX_ROWS * XLSX_MAX_COLUMNS * 3)
        for member in members:
            with archive.open(member) as part:
                if not part.peek(64)[:64].lstrip().startswith(_XML_STARTS):
                    continue  # a picture, say: openpyxl does not parse it as XML
                try:
                    defusedxml.sax.parse(part, counter)
                except _TooManyElements:
                    raise UnreadableFile(
                        _(
                            "The workbook holds more cells than %(rows)s rows can: save only "
                            "the sheet of members in a new workbook, without empty rows and "
                            "columns."
                        )
                        % {"rows": settings.IMPORT_MAX_ROWS}
                    ) from None


def _max_unpacked_size() -> int:
    return settings.IMPORT_MAX_FILE_SIZE * XLSX_MAX_EXPANSION


_XML_STARTS = (b"<", b"\xef\xbb\xbf", b"\xff\xfe", b"\xfe\xff")  # UTF-8 or UTF-16 XML


class _TooManyElements(Exception):
    pass


class _ElementCounter(xml.sax.handler.ContentHandler):
    def __init__(self, limit: int) -> None:
        super().__init__()
        self.left = limit

    def startElement(self, name, attrs):  # noqa: N802 - the SAX interface
        self.left -= 1
        if self.left < 0:
            raise _TooManyElements


def _xlsx_records(data: bytes) -> tuple[Generator[Record, None, None], int | None]:
    import openpyxl  # imported here: only XLSX files need it, and it takes a while to load

    # Any exception out of the parser means the file is not a workbook we can read: broken
    # XML or zip, entities refused by defusedxml, parts missing or of the wrong kind.
    try:
        _check_workbook_size(data)
        workbook = openpyxl.load_workbook(io.BytesIO(data), read_only=True, data_only=True)
    except UnreadableFile:
        raise
    except Exception as error:
        raise _unreadable_workbook(error) from error
    try:
        sheet = workbook.worksheets[0]
        declared_rows = sheet.max_row  # the sheet's dimension, as written in the file
    except Exception as error:
        workbook.close()
        raise _unreadable_workbook(error) from error
    if declared_rows is not None and declared_rows > settings.IMPORT_MAX_ROWS:
        workbook.close()
        raise _too_many_rows()

    def records() -> Generator[Record, None, None]:
        # A read-only sheet yields its empty rows too, so the count is the row number; reading
        # stops one row past the limit, whatever the dimension said.
        rows = sheet.iter_rows(
            max_row=settings.IMPORT_MAX_ROWS + 1, max_col=XLSX_MAX_COLUMNS, values_only=True
        )
        try:
            for row, cells in enumerate(rows, start=1):
                yield row, list(cells)
        except Exception as error:
            raise _unreadable_workbook(error) from error
        finally:
            workbook.close()

    return records(), declared_rows


def _is_empty(cells: list[Any]) -> bool:
    return all(_text(cell) == "" for cell in cells)


def _header(records: Iterator[Record]) -> tuple[int, list[str]]:
    for row, cells in records:
        if not _is_empty(cells):
            return row, [_text(cell).lower() for cell in cells]
    raise UnreadableFile(_("The file is empty: it has no header row."))


def _columns(header: list[str], header_row: int) -> dict[str, int]:
    """The position of each known column; other columns (notes, say) are ignored."""
    columns: dict[str, int] = {}
    for position, name in enumerate(header):
        if name in columns:
            raise UnreadableFile(
                _("The column %(column)s is in the header row twice.") % {"column": name},
                row=header_row,
            )
        if name in COLUMNS:
            columns[name] = position
    missing = [name for name in REQUIRED_COLUMNS if name not in columns]
    if missing:
        raise UnreadableFile(
            _("Columns missing from the header row: %(columns)s.")
            % {"columns": ", ".join(missing)},
            row=header_row,
        )
    return columns


def _validate(records: Iterable[Record], columns: dict[str, int]) -> ParsedFile:
    rows: list[LegacyMemberRow] = []
    errors: list[RowError] = []
    # The first row of each organisation, and its valid organisation values, to compare with.
    organisations: dict[str, tuple[int, dict[str, Any]]] = {}
    contacts: dict[tuple[str, str, str], int] = {}

    for row, cells in records:
        if len(errors) >= settings.IMPORT_MAX_ERRORS:
            errors.insert(0, _stopped(row, len(errors)))
            break
        if _is_empty(cells):
            continue
        values: dict[str, Any] = {}
        row_errors: list[RowError] = []
        for column in COLUMNS:
            position = columns.get(column)
            raw = cells[position] if position is not None and position < len(cells) else None
            if isinstance(raw, str) and TYPED_TEXT_CONTROL.search(raw):
                row_errors.append(RowError(row, column, _control_character_message()))
                continue
            try:
                values[column] = CLEANERS[column](raw)
            except ValidationError as error:
                row_errors.append(RowError(row, column, " ".join(error.messages)))
        signed_on, ends_on = values.get("signed_on"), values.get("ends_on")
        if signed_on and ends_on and ends_on < signed_on:
            row_errors.append(
                RowError(row, "ends_on", _("The contract cannot end before it was signed."))
            )

        oid = values.get("oid")
        if oid is not None:
            row_errors += _disagreements(row, values, organisations.setdefault(oid, (row, values)))
            email, role = values.get("contact_email"), values.get("contact_role")
            if email is not None and role is not None:
                earlier = contacts.setdefault((oid, email, role), row)
                if earlier != row:
                    row_errors.append(
                        RowError(
                            row,
                            "contact_email",
                            _("This contact is already on row %(row)s in the same role.")
                            % {"row": earlier},
                        )
                    )
        if row_errors:
            errors += sorted(row_errors, key=lambda error: COLUMNS.index(error.column))
        else:
            rows.append(LegacyMemberRow(row=row, **values))
    if not rows and not errors:
        errors.append(RowError(None, None, _("The file has no rows below the header row.")))
    return ParsedFile(rows=tuple(rows), errors=tuple(errors))


def _control_character_message() -> str:
    return _(
        "The value contains a control character (such as NUL) that cannot be stored: remove it."
    )


def _stopped(row: int, count: int) -> RowError:
    return RowError(
        None,
        None,
        _(
            "Checking stopped at row %(row)s after %(count)s errors: correct these and upload "
            "the file again."
        )
        % {"row": row, "count": count},
    )


def _disagreements(
    row: int, values: dict[str, Any], first: tuple[int, dict[str, Any]]
) -> list[RowError]:
    """An organisation's columns must say the same on each of its rows."""
    first_row, first_values = first
    if first_row == row:
        return []
    errors = []
    for column in ORGANISATION_COLUMNS + LATER_ORGANISATION_COLUMNS:
        if column not in values or column not in first_values:
            continue  # an invalid value has its own error already
        if values[column] != first_values[column]:
            errors.append(
                RowError(
                    row,
                    column,
                    _(
                        "Row %(row)s of the same organisation says “%(value)s”: an "
                        "organisation's columns must be the same on each of its rows."
                    )
                    % {"row": first_row, "value": _display(first_values[column])},
                )
            )
    return errors


def _display(value: Any) -> str:
    if value is None or value == "":
        return _("(empty)")
    if isinstance(value, date):
        return value.isoformat()
    if isinstance(value, tuple):
        return ", ".join(value) or _("(empty)")
    return str(value)


# Cleaning one cell: each returns the normalised value or raises ValidationError.


def _text(value: Any) -> str:
    """A cell as text: numbers as a spreadsheet shows them, whitespace around removed."""
    if value is None:
        return ""
    if isinstance(value, bool):
        return str(value).upper()
    if isinstance(value, float) and value.is_integer():
        return str(int(value))
    if isinstance(value, datetime):
        return value.date().isoformat() if value.time() == datetime.min.time() else str(value)
    if isinstance(value, date):
        return value.isoformat()
    return str(value).strip()


def _max_length(model: type[Model], field: str) -> int:
    return model._meta.get_field(field).max_length


def _required_text(model: type[Model], field: str) -> Callable[[Any], str]:
    return _text_cleaner(model, field, required=True)


def _optional_text(model: type[Model], field: str) -> Callable[[Any], str]:
    return _text_cleaner(model, field, required=False)


def _text_cleaner(model: type[Model], field: str, *, required: bool) -> Callable[[Any], str]:
    limit = _max_length(model, field)

    def clean(value: Any) -> str:
        text = _text(value)
        if required and not text:
            raise ValidationError(_("This value is required."), code="required")
        if len(text) > limit:
            raise ValidationError(
                _("At most %(limit)s characters; this one has %(count)s.")
                % {"limit": limit, "count": len(text)},
                code="max_length",
            )
        return text

    return clean


def _clean_oid(value: Any) -> str:
    text = _text(value)
    if not text:
        raise ValidationError(_("This value is required."), code="required")
    return validate_organisation_oid(text, allow_test=settings.ALLOW_TEST_ORGANISATIONS)


def _clean_business_id(value: Any) -> str:
    text = _text(value)
    return validate_business_id(text) if text else ""


def _choice_cleaner(
    choices: type[TextChoices],
    *,
    default: str | None = None,
    aliases: dict[str, str] | None = None,
    unknown: str | None = None,
) -> Callable[[Any], str]:
    """A cell that names one of `choices` (any case), or one of its `aliases`; `unknown` is
    the message for anything else."""
    values = {value.lower(): value for value in choices.values}
    values |= {alias: str(value) for alias, value in (aliases or {}).items()}
    message = unknown or gettext_lazy("Unknown value “%(value)s”: write one of %(choices)s.")

    def clean(value: Any) -> str:
        text = _text(value)
        if not text and default is not None:
            return default
        if not text:
            raise ValidationError(_("This value is required."), code="required")
        try:
            return values[text.lower()]
        except KeyError:
            raise ValidationError(
                message % {"value": text, "choices": ", ".join(choices.values)},
                code="invalid_choice",
            ) from None

    return clean


def _clean_sectors(value: Any) -> tuple[str, ...]:
    """Sectors as codes or OPH's Finnish names, any case, separated by , ; or line breaks."""
    _sector = _choice_cleaner(
        Sector,
        aliases=FINNISH_SECTORS,
        unknown=gettext_lazy("Unknown sector “%(value)s”: write one of %(choices)s."),
    )
    names = (part.strip() for part in _SECTOR_SEPARATORS.split(_text(value)))
    return tuple(sectors_in_order(_sector(name) for name in names if name))


_clean_email_text = _required_text(ContactPerson, "email")


def _clean_email(value: Any) -> str:
    email = _text(value).lower()
    if email:
        validate_email(email)
    return _clean_email_text(email)  # required, and within the field's length


def parse_date(value: Any) -> date | None:
    """A date cell, 2024-08-01, 1.8.2024 or 01.08.2024; None for an empty cell."""
    if isinstance(value, datetime):
        return value.date()
    if isinstance(value, date):
        return value
    text = _text(value)
    if not text:
        return None
    match = _ISO_DATE.match(text) or _FINNISH_DATE.match(text)
    if match is None:
        raise ValidationError(
            _("Write the date as 2024-08-01 or 1.8.2024; “%(value)s” is neither.")
            % {"value": text},
            code="invalid_date",
        )
    try:
        return date(int(match["year"]), int(match["month"]), int(match["day"]))
    except ValueError:
        raise ValidationError(
            _("There is no such date: %(value)s.") % {"value": text}, code="invalid_date"
        ) from None


def _clean_ends_on(value: Any) -> date:
    return parse_date(value) or default_contract_end()


CLEANERS: dict[str, Callable[[Any], Any]] = {
    "oid": _clean_oid,
    "name_fi": _required_text(Organisation, "name_fi"),
    "name_sv": _optional_text(Organisation, "name_sv"),
    "business_id": _clean_business_id,
    "kind": _choice_cleaner(
        OrganisationKind,
        aliases=FINNISH_KINDS,
        unknown=gettext_lazy(
            "Unknown kind “%(value)s”: write education_provider, service_provider or both "
            "(in Finnish koulutustoimija, palveluntarjoaja or molemmat)."
        ),
    ),
    "sectors": _clean_sectors,
    "contract_reference": _required_text(LegacyContract, "contract_reference"),
    "signed_on": parse_date,
    "ends_on": _clean_ends_on,
    "contact_name": _required_text(ContactPerson, "name"),
    "contact_email": _clean_email,
    "contact_role": _choice_cleaner(ContactRole),
    "contact_language": _choice_cleaner(Language, default=Language.FI.value),
}

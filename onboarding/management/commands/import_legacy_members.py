"""Import legacy members (old contract members) from a CSV or XLSX file.

    python manage.py import_legacy_members members.xlsx --dry-run
    python manage.py import_legacy_members members.xlsx
    python manage.py import_legacy_members members.xlsx --campaign 3

Every row is checked first; if any is wrong, nothing is written and every error is listed.
With --campaign, the file's organisations that the running campaign would ask join it and are
invited at once.
"""

from __future__ import annotations

import sys
from collections.abc import Iterable, Iterator
from pathlib import Path

from django.conf import settings
from django.core.exceptions import ValidationError
from django.core.management.base import BaseCommand, CommandError
from django.template.defaultfilters import filesizeformat
from django.utils.translation import gettext as _
from django.utils.translation import ngettext
from tqdm import tqdm

from onboarding.legacy_import import Record, parse_legacy_members
from onboarding.services.legacy_members import legacy_members_import


class Command(BaseCommand):
    @property
    def help(self) -> str:  # translated when asked for: argparse cannot take a lazy string
        return _(
            "Import legacy members (organisations with an old joining agreement and their "
            "contact persons) from a CSV or XLSX file."
        )

    def add_arguments(self, parser):
        parser.add_argument("file", type=Path, help=_("The CSV or XLSX file."))
        parser.add_argument(
            "--dry-run",
            action="store_true",
            help=_("Check the file and report what the import would do, writing nothing."),
        )
        parser.add_argument(
            "--campaign",
            type=int,
            action="append",
            default=[],
            metavar="ID",
            help=_(
                "A running campaign (its number) that the file's new legacy members join: they "
                "are invited at once and then get the reminders still ahead."
            ),
        )
        parser.add_argument(
            "--no-progress",
            action="store_true",
            help=_("Show no progress bar on standard error."),
        )

    def handle(
        self,
        *args,
        file: Path,
        dry_run: bool,
        no_progress: bool,
        campaign: list[int],
        **options,
    ):
        try:
            if file.stat().st_size > settings.IMPORT_MAX_FILE_SIZE:  # refused before reading
                raise CommandError(
                    _("%(file)s: the file is too large: at most %(size)s. Nothing was imported.")
                    % {"file": file, "size": filesizeformat(settings.IMPORT_MAX_FILE_SIZE)}
                )
            data = file.read_bytes()
        except OSError as error:
            raise CommandError(
                _("Cannot read %(file)s: %(error)s") % {"file": file, "error": error.strerror}
            ) from error

        def progress(records: Iterator[Record], total: int | None) -> Iterable[Record]:
            # disable=None: tqdm shows the bar only when standard error is a terminal.
            return tqdm(
                records,
                total=total,
                desc=_("Checking rows"),
                unit=" rows",
                file=sys.stderr,
                disable=True if no_progress else None,
                leave=False,
            )

        parsed = parse_legacy_members(data, progress=progress)
        if len(parsed.errors) == 1 and parsed.errors[0].row is None:
            # The file as a whole (not a workbook, too large, too many rows): one line.
            raise CommandError(
                _("%(file)s: %(error)s Nothing was imported.")
                % {"file": file, "error": parsed.errors[0]}
            )
        if not parsed.is_valid:
            lines = [str(error) for error in parsed.errors]
            raise CommandError(
                ngettext(
                    "%(count)d error in %(file)s; nothing was imported.",
                    "%(count)d errors in %(file)s; nothing was imported.",
                    len(lines),
                )
                % {"count": len(lines), "file": file}
                + "\n"
                + "\n".join(lines)
            )

        try:
            result = legacy_members_import(rows=parsed.rows, dry_run=dry_run, campaign_ids=campaign)
        except ValidationError as error:
            raise CommandError(" ".join(error.messages)) from error
        if dry_run:
            self.stdout.write(
                _("Dry run: nothing was written. The import would make these changes:")
            )
        for line in result.summary_lines():
            self.stdout.write(line)
        if not dry_run:
            self.stdout.write(self.style.SUCCESS(_("Import done.")))

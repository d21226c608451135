from __future__ import annotations

from datetime import date

from django.core.management.base import BaseCommand, CommandError
from django.utils import timezone

from onboarding.services.campaigns import CampaignsFailed, reminders_send_due


class Command(BaseCommand):
    help = "Send the campaign reminders (and lapses) due on a date, as the daily task does."

    def add_arguments(self, parser):
        parser.add_argument("--date", help="YYYY-MM-DD (default: today in Helsinki)")
        parser.add_argument("--dry-run", action="store_true", help="list, send nothing")

    def handle(self, *args, **options):
        try:
            today = date.fromisoformat(options["date"]) if options["date"] else None
        except ValueError as error:
            raise CommandError(f"--date must be YYYY-MM-DD: {error}") from error
        if today and today > timezone.localdate() and not options["dry_run"]:
            # A step sent early is recorded as sent, and lapsing is final: never ahead of the
            # real calendar.
            raise CommandError(f"{today} is in the future: use --dry-run to see what would happen.")
        failed = None
        try:
            planned = reminders_send_due(today=today, dry_run=options["dry_run"])
        except CampaignsFailed as error:
            planned, failed = error.planned, error
        verb = "would send" if options["dry_run"] else "sent"
        for message in planned:
            self.stdout.write(
                f"{verb}: campaign {message.campaign_id}, {message.organisation}, "
                f"step {message.step} → {message.recipient}"
            )
        self.stdout.write(f"{len(planned)} message(s) {verb}.")
        if failed is not None:
            raise CommandError(f"Some campaigns failed (the others went through): {failed}")

from __future__ import annotations

from datetime import date

from django.core.exceptions import ValidationError
from django.core.management.base import BaseCommand, CommandError

from onboarding.models import AcceptanceCampaign, TermsVersion
from onboarding.models.campaigns import DEFAULT_REMINDER_OFFSETS
from onboarding.services.campaigns import campaign_start


class Command(BaseCommand):
    help = "Create and launch an acceptance campaign: invitations go out at once."

    def add_arguments(self, parser):
        parser.add_argument("version", help="the terms version label, e.g. 2024-1")
        parser.add_argument("--deadline", required=True, help="YYYY-MM-DD")
        parser.add_argument(
            "--audience",
            "--targets",  # its name before 2026-11
            dest="audience",
            required=True,
            choices=AcceptanceCampaign.Audience.values,
        )
        parser.add_argument(
            "--offsets",
            default=",".join(str(days) for days in DEFAULT_REMINDER_OFFSETS),
            help="reminder days before the deadline, comma-separated",
        )

    def handle(self, *args, **options):
        try:
            terms = TermsVersion.objects.published().get(version=options["version"])
        except TermsVersion.DoesNotExist as error:
            raise CommandError(f"No published terms version {options['version']!r}.") from error
        try:
            deadline = date.fromisoformat(options["deadline"])
            offsets = [int(part) for part in options["offsets"].split(",") if part.strip()]
        except ValueError as error:
            raise CommandError(f"Bad --deadline or --offsets: {error}") from error
        try:
            campaign, count = campaign_start(
                terms_version=terms,
                deadline=deadline,
                audience=options["audience"],
                offsets=offsets,
            )
        except ValidationError as error:
            raise CommandError(" ".join(error.messages)) from error
        self.stdout.write(
            self.style.SUCCESS(
                f"Campaign {campaign.pk} launched: {count} organisation(s) invited, deadline "
                f"{deadline.isoformat()}, reminders {campaign.reminder_offsets} days before."
            )
        )

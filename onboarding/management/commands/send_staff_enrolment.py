from __future__ import annotations

from django.contrib.auth import get_user_model
from django.core.management.base import BaseCommand, CommandError

from onboarding.services.accounts import staff_enrolment_send


class Command(BaseCommand):
    help = (
        "Email a staff member a one-time enrolment link (password, then second factor); their "
        "old password stops working. The way in for the first superuser (createsuperuser), "
        "whom no other superuser can send a link from the admin."
    )

    def add_arguments(self, parser):
        parser.add_argument("email", help="the staff member's email address")
        parser.add_argument(
            "--remove-second-factor",
            action="store_true",
            help="also remove their authenticator (a lost phone)",
        )

    def handle(self, *args, **options):
        user = get_user_model().objects.filter(email__iexact=options["email"].strip()).first()
        refused = CommandError(f"No active staff member {options['email']!r}.")
        if user is None:
            raise refused
        try:  # the service decides who gets one: active staff only
            link = staff_enrolment_send(
                user=user, remove_second_factor=options["remove_second_factor"]
            )
        except ValueError:
            raise refused from None
        self.stdout.write(f"An enrolment link was emailed to {user.email}: {link}")

"""allauth's adapter, where the portal's accounts differ from allauth's defaults."""

from __future__ import annotations

from allauth.account.adapter import DefaultAccountAdapter
from allauth.account.authentication import get_authentication_records
from allauth.account.internal.stagekit import clear_login
from allauth.account.utils import passthrough_next_redirect_url
from allauth.core.exceptions import ImmediateHttpResponse
from allauth.utils import build_absolute_uri
from django.contrib import messages
from django.contrib.auth import REDIRECT_FIELD_NAME
from django.shortcuts import redirect
from django.urls import reverse
from django.utils.translation import gettext as _

STAFF_SIGN_IN_ANCHOR = "#password-sign-in"


class AccountAdapter(DefaultAccountAdapter):
    def is_open_for_signup(self, request) -> bool:
        """There is no separate sign-up: the sign-in code creates a first-time visitor's
        account (onboarding.accounts.forms.EmailCodeForm). An old sign-up link leads to the
        sign-in page and keeps where the person was going."""
        url = passthrough_next_redirect_url(request, reverse("account_login"), REDIRECT_FIELD_NAME)
        raise ImmediateHttpResponse(redirect(url))

    def pre_login(self, request, user, **kwargs):
        """Staff sign in with their password (and then their second factor), never by an
        emailed code: a code issued before they became staff, or a login after a password
        reset or an email confirmation, is refused here, where every sign-in passes."""
        response = super().pre_login(request, user, **kwargs)
        if response is None and user.is_staff and not _by_password(request, user):
            clear_login(request)
            self.add_message(
                request,
                messages.ERROR,
                message=_("Staff sign in with their password and second factor."),
            )
            return redirect(reverse("account_login") + STAFF_SIGN_IN_ANCHOR)
        return response

    def send_password_reset_mail(self, user, email, context) -> None:
        """A staff password is not reset from the mailbox: the page answers as for anyone,
        and the email says how staff sign in and that a superuser sends a new enrolment link."""
        if user.is_staff:
            self.send_staff_sign_in_mail(email)
            return
        super().send_password_reset_mail(user, email, context)

    def send_staff_sign_in_mail(self, email: str) -> None:
        """Instead of a sign-in code or a reset link: how staff sign in."""
        login_url = build_absolute_uri(self.request, reverse("account_login"))
        context = {"login_url": login_url + STAFF_SIGN_IN_ANCHOR}
        self.send_mail("account/email/staff_sign_in", email, context)


def _by_password(request, user) -> bool:
    records = get_authentication_records(request, user)
    return bool(records) and records[-1].get("method") == "password"

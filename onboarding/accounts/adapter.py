"""allauth's adapter, where the portal's accounts differ from allauth's defaults."""

from __future__ import annotations

from datetime import datetime, timedelta

from allauth.account import app_settings as allauth_account
from allauth.account.adapter import DefaultAccountAdapter
from allauth.account.authentication import get_authentication_records
from allauth.account.internal.stagekit import clear_login
from allauth.account.utils import passthrough_next_redirect_url
from allauth.core import context as allauth_context
from allauth.core.exceptions import ImmediateHttpResponse
from allauth.utils import build_absolute_uri
from django.conf import settings
from django.contrib import messages
from django.contrib.auth import REDIRECT_FIELD_NAME
from django.contrib.sites.shortcuts import get_current_site
from django.shortcuts import redirect
from django.urls import reverse
from django.utils import timezone
from django.utils.translation import gettext as _

from onboarding import emails
from onboarding.localised import active_language
from onboarding.models import OutgoingEmail

Kind = OutgoingEmail.Kind
STAFF_SIGN_IN_ANCHOR = "#password-sign-in"


def _email_verification_lifetime() -> timedelta:
    if allauth_account.EMAIL_VERIFICATION_BY_CODE_ENABLED:
        return timedelta(seconds=allauth_account.EMAIL_VERIFICATION_BY_CODE_TIMEOUT)
    return timedelta(days=allauth_account.EMAIL_CONFIRMATION_EXPIRE_DAYS)


#: allauth's emails that carry a code or link, by template: their kind and the lifetime of
#: what they carry (read when sent, so that a changed setting counts). Any other allauth email
#: (a notice that the password or address changed, ...) is an account message with no lifetime.
ACCOUNT_EMAILS = {
    "account/email/login_code": (
        Kind.SIGN_IN_CODE,
        lambda: timedelta(seconds=allauth_account.LOGIN_BY_CODE_TIMEOUT),
    ),
    "account/email/email_confirmation": (Kind.ACCOUNT, _email_verification_lifetime),
    "account/email/email_confirmation_signup": (Kind.ACCOUNT, _email_verification_lifetime),
    "account/email/password_reset_key": (
        Kind.PASSWORD_RESET,
        lambda: timedelta(seconds=settings.PASSWORD_RESET_TIMEOUT),  # Django's token generator
    ),
    "account/email/password_reset_code": (
        Kind.PASSWORD_RESET,
        lambda: timedelta(seconds=allauth_account.PASSWORD_RESET_BY_CODE_TIMEOUT),
    ),
}


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

    def send_mail(self, template_prefix: str, email: str, context: dict) -> None:
        """allauth's emails go through the outbox like the portal's own: rendered here, in
        the request's language, and sent by the worker, so that the request answers at once
        whatever the SMTP server does. A code or link is never sent after its lifetime."""
        request = allauth_context.request
        message = self.render_mail(
            template_prefix,
            email,
            {"request": request, "email": email, "current_site": get_current_site(request)}
            | context,
        )
        kind, lifetime = ACCOUNT_EMAILS.get(template_prefix, (Kind.ACCOUNT, None))
        expires_at: datetime | None = timezone.now() + lifetime() if lifetime else None
        alternatives = getattr(message, "alternatives", [])  # allauth's are text and HTML
        html = [content for content, mimetype in alternatives if mimetype == "text/html"]
        emails.account_message(
            kind=kind,
            to=email,
            language=active_language(),
            subject=message.subject,
            text=message.body,
            html=html[0] if html else "",
            expires_at=expires_at,
        )


def _by_password(request, user) -> bool:
    records = get_authentication_records(request, user)
    return bool(records) and records[-1].get("method") == "password"

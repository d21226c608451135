"""One-time links for accounts: allauth's password reset, and the staff enrolment link."""

from __future__ import annotations

from allauth.account.forms import EmailAwarePasswordResetTokenGenerator
from django.conf import settings
from django.contrib.auth.tokens import PasswordResetTokenGenerator
from django.urls import reverse
from django.utils import translation
from django.utils.crypto import constant_time_compare
from django.utils.encoding import force_bytes
from django.utils.http import base36_to_int, urlsafe_base64_encode


class PasswordResetTokens(EmailAwarePasswordResetTokenGenerator):
    """allauth's reset link, void once its account becomes staff: a staff password is never
    reset from the mailbox (see `AccountAdapter.send_password_reset_mail`)."""

    def _make_hash_value(self, user, timestamp) -> str:
        return f"{super()._make_hash_value(user, timestamp)}|staff={user.is_staff}"


class StaffEnrolmentTokens(PasswordResetTokenGenerator):
    """The link that lets a staff member set their password and second factor.

    It works once: the password is in what it signs, so setting one (and sending a newer link,
    which makes the old password unusable) voids it; so do a sign-in (last login) and losing
    the staff flag. It expires STAFF_ENROLMENT_HOURS after it was made.
    """

    key_salt = "onboarding.accounts.tokens.StaffEnrolmentTokens"

    def _make_hash_value(self, user, timestamp) -> str:
        return f"{super()._make_hash_value(user, timestamp)}|staff={user.is_staff}"

    def check_token(self, user, token) -> bool:
        if not (user and token):
            return False
        try:
            timestamp = base36_to_int(token.split("-")[0])
        except ValueError:
            return False
        if self._num_seconds(self._now()) - timestamp > settings.STAFF_ENROLMENT_HOURS * 3600:
            return False
        return any(
            constant_time_compare(self._make_token_with_timestamp(user, timestamp, secret), token)
            for secret in [self.secret, *self.secret_fallbacks]
        )


staff_enrolment_tokens = StaffEnrolmentTokens()


def staff_enrolment_link(user) -> str:
    """A new enrolment link for `user` (the site's default language: staff read Finnish)."""
    uidb64 = urlsafe_base64_encode(force_bytes(user.pk))
    token = staff_enrolment_tokens.make_token(user)
    with translation.override(settings.LANGUAGE_CODE):
        path = reverse("onboarding:staff_enrolment", kwargs={"uidb64": uidb64, "token": token})
    return f"{settings.SITE_URL}{path}"

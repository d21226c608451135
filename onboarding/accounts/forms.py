"""allauth's forms, where the portal's sign-in differs from allauth's own."""

from __future__ import annotations

from allauth.account.forms import RequestLoginCodeForm
from django.utils.translation import gettext_lazy as _

from onboarding.services.accounts import account_for_sign_in


class EmailCodeForm(RequestLoginCodeForm):
    """The one way in: an email address, then the code sent to it.

    allauth answers an unknown address with an "unknown account" email and a sign-up link;
    here the same code signs in a member and creates the account of a first-time visitor.
    A staff member's address gets no code (`staff_user`: the view emails them how staff sign
    in), and the page answers exactly as for anyone else.
    """

    staff_user = None

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["email"].label = _("Your work email address")
        self.fields["email"].widget.attrs.update(autocomplete="email", placeholder="")

    def clean_email(self) -> str:
        email = super().clean_email()
        if email and self._user is None:
            user = account_for_sign_in(email=email)
            self._user = user if user.is_active else None  # a closed account stays closed
        if self._user is not None and self._user.is_staff:
            self.staff_user, self._user = self._user, None
        return email

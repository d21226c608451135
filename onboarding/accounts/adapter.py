"""allauth's adapter, where the portal's accounts differ from allauth's defaults."""

from __future__ import annotations

from allauth.account.adapter import DefaultAccountAdapter
from allauth.account.utils import passthrough_next_redirect_url
from allauth.core.exceptions import ImmediateHttpResponse
from django.contrib.auth import REDIRECT_FIELD_NAME
from django.shortcuts import redirect
from django.urls import reverse


class AccountAdapter(DefaultAccountAdapter):
    def is_open_for_signup(self, request) -> bool:
        """There is no separate sign-up: the sign-in code creates a first-time visitor's
        account (onboarding.accounts.forms.EmailCodeForm). An old sign-up link leads to the
        sign-in page and keeps where the person was going."""
        url = passthrough_next_redirect_url(request, reverse("account_login"), REDIRECT_FIELD_NAME)
        raise ImmediateHttpResponse(redirect(url))

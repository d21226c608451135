"""The admin, reached only through allauth's sign-in (and, in production, a second factor)."""

from __future__ import annotations

from allauth.account.decorators import secure_admin_login
from allauth.mfa.utils import is_mfa_enabled
from django.conf import settings
from django.contrib import admin, messages
from django.shortcuts import redirect
from django.utils.translation import gettext as _


def staff_has_second_factor(user) -> bool:
    return not settings.ADMIN_REQUIRE_MFA or is_mfa_enabled(user)


class PortalAdminSite(admin.AdminSite):
    def has_permission(self, request):
        return super().has_permission(request) and staff_has_second_factor(request.user)

    def login(self, request, extra_context=None):
        """Never Django's own password form: allauth's sign-in, then the second factor."""
        user = request.user
        if user.is_authenticated and user.is_staff and not staff_has_second_factor(user):
            messages.warning(request, _("Set up two-factor authentication to use the admin."))
            return redirect("mfa_activate_totp")
        return secure_admin_login(super().login)(request, extra_context)

"""The admin, reached only through allauth's sign-in (and, in production, a second factor)."""

from __future__ import annotations

from allauth.account.decorators import secure_admin_login
from allauth.mfa.utils import is_mfa_enabled
from django.conf import settings
from django.contrib import admin
from django.shortcuts import redirect

from onboarding.accounts.views import in_staff_enrolment, second_factor_missing


def staff_has_second_factor(user) -> bool:
    return not settings.ADMIN_REQUIRE_MFA or is_mfa_enabled(user)


class PortalAdminSite(admin.AdminSite):
    def has_permission(self, request):
        return super().has_permission(request) and staff_has_second_factor(request.user)

    def login(self, request, extra_context=None):
        """Never Django's own password form: allauth's sign-in, then the second factor. Staff
        without one set it up only on the way from their enrolment link; anyone else signed in
        as them is told to ask a superuser for a link."""
        user = request.user
        if user.is_authenticated and user.is_staff and not staff_has_second_factor(user):
            if in_staff_enrolment(request):
                return redirect("mfa_activate_totp")
            return second_factor_missing(request)
        return secure_admin_login(super().login)(request, extra_context)

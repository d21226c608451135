"""allauth's views, where staff accounts need more than allauth's own."""

from __future__ import annotations

from allauth.account.adapter import get_adapter
from allauth.account.views import RequestLoginCodeView
from allauth.mfa.totp.views import activate_totp as allauth_activate_totp
from allauth.mfa.utils import is_mfa_enabled
from django.shortcuts import render

STAFF_ENROLMENT_SESSION_KEY = "staff_enrolment_user"


class StaffAwareRequestLoginCodeView(RequestLoginCodeView):
    """allauth's "email me a code", except that a staff address gets, instead of a code, an
    email saying how staff sign in. The page and its redirect are the same as for anyone."""

    def form_valid(self, form):
        if form.staff_user is not None:
            get_adapter(self.request).send_staff_sign_in_mail(form.cleaned_data["email"])
        return super().form_valid(form)


request_login_code = StaffAwareRequestLoginCodeView.as_view()


def in_staff_enrolment(request) -> bool:
    """Whether this browser came through the user's enrolment link and set the password there."""
    user = request.user
    return user.is_authenticated and request.session.get(STAFF_ENROLMENT_SESSION_KEY) == user.pk


def may_set_up_second_factor(request) -> bool:
    """A staff member without a second factor sets one up only through their enrolment link:
    otherwise whoever signed in as them (a password learnt, a session left open) could."""
    user = request.user
    if not (user.is_authenticated and user.is_staff) or is_mfa_enabled(user):
        return True
    return in_staff_enrolment(request)


def second_factor_missing(request):
    return render(request, "account/staff_second_factor_missing.html", status=403)


def activate_totp(request, *args, **kwargs):
    """allauth's TOTP set-up, behind `may_set_up_second_factor`."""
    if not may_set_up_second_factor(request):
        return second_factor_missing(request)
    return allauth_activate_totp(request, *args, **kwargs)

"""A staff member's enrolment: the emailed one-time link, a password, then the second factor."""

from __future__ import annotations

from allauth.account.internal.flows.login import perform_password_login
from allauth.account.internal.flows.reauthentication import reauthenticate_by_password
from allauth.account.models import Login
from allauth.mfa.utils import is_mfa_enabled
from django.contrib.auth import get_user_model
from django.contrib.auth.forms import SetPasswordForm
from django.shortcuts import redirect, render
from django.urls import reverse
from django.utils.encoding import force_str
from django.utils.http import urlsafe_base64_decode
from django.views.decorators.cache import never_cache
from django.views.decorators.debug import sensitive_post_parameters

from onboarding.accounts.tokens import staff_enrolment_tokens
from onboarding.accounts.views import STAFF_ENROLMENT_SESSION_KEY
from onboarding.services.accounts import staff_enrolment_password_set

TOKEN_SESSION_KEY = "staff_enrolment_token"


@never_cache
def enrolment(request, uidb64: str, token: str):
    """The link from the email. The token moves into the session and out of the address, so
    that the next page's address (and any Referer) does not carry it."""
    user = _enrolling(uidb64)
    if user is None or not staff_enrolment_tokens.check_token(user, token):
        return _link_does_not_work(request)
    request.session[TOKEN_SESSION_KEY] = token
    return redirect("onboarding:staff_enrolment_password", uidb64=uidb64)


@never_cache
@sensitive_post_parameters()
def enrolment_password(request, uidb64: str):
    """Step 1: the password. Setting it uses the link up and signs the staff member in, by
    password, straight on to step 2, the second factor (allauth's TOTP set-up), which this
    browser alone may now open; one they kept is asked for instead."""
    user = _enrolling(uidb64)
    token = request.session.get(TOKEN_SESSION_KEY, "")
    if user is None or not staff_enrolment_tokens.check_token(user, token):
        return _link_does_not_work(request)
    form = SetPasswordForm(user, request.POST or None)
    if request.method == "POST" and form.is_valid():
        staff_enrolment_password_set(user=user, password=form.cleaned_data["new_password1"])
        request.session.pop(TOKEN_SESSION_KEY, None)
        return _sign_in(request, user)
    return render(request, "account/staff_enrolment.html", {"form": form, "enrolling": user})


def _sign_in(request, user):
    then = reverse("admin:index" if is_mfa_enabled(user) else "mfa_activate_totp")
    login = Login(user=user, email=user.email, redirect_url=then)
    response = perform_password_login(request, {"email": user.email}, login)
    if request.user.is_authenticated and request.user.pk == user.pk:
        # The password was typed a moment ago: allauth's set-up need not ask for it again.
        reauthenticate_by_password(request)
        request.session[STAFF_ENROLMENT_SESSION_KEY] = user.pk
    return response


def _enrolling(uidb64: str):
    try:
        pk = int(force_str(urlsafe_base64_decode(uidb64)))
    except (TypeError, ValueError, OverflowError):
        return None
    return get_user_model().objects.filter(pk=pk, is_staff=True, is_active=True).first()


def _link_does_not_work(request):
    return render(request, "account/staff_enrolment_invalid.html", status=400)

"""Accounts: a person is known by a verified email address, and nothing else."""

from __future__ import annotations

from allauth.account.models import EmailAddress
from allauth.mfa.models import Authenticator
from django.contrib.auth import get_user_model
from django.db import IntegrityError, transaction

from onboarding import emails
from onboarding.accounts.tokens import staff_enrolment_link


def account_for_sign_in(*, email: str):
    """The account a sign-in code for `email` signs in to, created when the address is new.

    A first-time visitor and a member take the same step (their address, then the emailed
    code), so the page never tells who has an account. The address is verified only when
    the code from its inbox is entered; an account nobody completes stays unverified and
    cannot reach anything behind `verified_email_required`.
    """
    users = get_user_model().objects
    email = email.strip().lower()
    existing = users.filter(email__iexact=email).first()
    if existing is not None:
        return existing
    try:
        with transaction.atomic():
            user = users.create_user(email=email)
            EmailAddress.objects.create(user=user, email=email, primary=True, verified=False)
            return user
    except IntegrityError:  # the same address asked for twice at once: one account
        return users.get(email__iexact=email)


def staff_enrolment_send(*, user, remove_second_factor: bool = False) -> str:
    """Send a staff member their way in: a one-time link, valid for STAFF_ENROLMENT_HOURS,
    to a page where they set a password and then their second factor.

    Staff never sign in by an emailed code and their password is not reset by email, so this is
    how a new staff member starts and how one who lost their password (or, with
    `remove_second_factor`, their authenticator) starts again. The old password stops working
    at once, which also voids any earlier enrolment or reset link. Only staff get one.
    Returns the link.
    """
    with transaction.atomic():
        user = get_user_model().objects.select_for_update().get(pk=user.pk)
        if not (user.is_staff and user.is_active):
            raise ValueError("Only an active staff member gets an enrolment link.")
        user.set_unusable_password()
        user.save(update_fields=["password"])
        if remove_second_factor:
            Authenticator.objects.filter(user=user).delete()
        link = staff_enrolment_link(user)
        emails.staff_enrolment(user=user, link=link)
        return link


def staff_enrolment_password_set(*, user, password: str) -> None:
    """The password a staff member chose on their enrolment page. Setting it uses the link up;
    the link came to the address, so the address is verified (and is the account's primary)."""
    with transaction.atomic():
        user.set_password(password)
        user.save(update_fields=["password"])
        address, _created = EmailAddress.objects.get_or_create(
            user=user, email__iexact=user.email, defaults={"email": user.email}
        )
        EmailAddress.objects.filter(user=user).exclude(pk=address.pk).update(primary=False)
        address.verified = address.primary = True
        address.save(update_fields=["verified", "primary"])

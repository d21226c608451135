"""Accounts: a person is known by a verified email address, and nothing else."""

from __future__ import annotations

from allauth.account.models import EmailAddress
from django.contrib.auth import get_user_model
from django.db import IntegrityError, transaction


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

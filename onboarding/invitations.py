"""Personal links in campaign emails: signed, expiring, bound to one organisation and to the
contact person they were sent to."""

from __future__ import annotations

from dataclasses import dataclass

from django.conf import settings
from django.core import signing
from django.urls import reverse
from django.utils import translation

SALT = "onboarding.invitation"


@dataclass(frozen=True)
class Invitation:
    organisation_id: int
    campaign_id: int
    email: str


def invitation_token(*, organisation_id: int, campaign_id: int, email: str) -> str:
    return signing.dumps(
        {"o": organisation_id, "c": campaign_id, "e": email.lower()}, salt=SALT, compress=True
    )


def invitation_url(*, organisation_id: int, campaign_id: int, email: str, language: str) -> str:
    token = invitation_token(organisation_id=organisation_id, campaign_id=campaign_id, email=email)
    with translation.override(language):
        path = reverse("onboarding:invitation", args=[token])
    return f"{settings.SITE_URL}{path}"


def read_invitation(token: str) -> Invitation | None:
    """The invitation, or None for a forged or expired link."""
    try:
        value = signing.loads(
            token, salt=SALT, max_age=settings.INVITATION_MAX_AGE_DAYS * 24 * 60 * 60
        )
        return Invitation(organisation_id=value["o"], campaign_id=value["c"], email=value["e"])
    except (signing.BadSignature, KeyError, TypeError):
        return None

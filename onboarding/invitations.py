"""Personal links in campaign invitations: signed, expiring, bound to one organisation."""

from __future__ import annotations

from django.conf import settings
from django.core import signing
from django.urls import reverse

SALT = "onboarding.invitation"


def invitation_token(*, organisation_id: int, campaign_id: int) -> str:
    return signing.dumps({"o": organisation_id, "c": campaign_id}, salt=SALT, compress=True)


def invitation_url(*, organisation_id: int, campaign_id: int, language: str) -> str:
    from django.utils import translation

    token = invitation_token(organisation_id=organisation_id, campaign_id=campaign_id)
    with translation.override(language):
        path = reverse("onboarding:invitation", args=[token])
    return f"{settings.SITE_URL}{path}"


def read_invitation(token: str) -> tuple[int, int] | None:
    """(organisation id, campaign id), or None for a forged or expired link."""
    try:
        value = signing.loads(
            token, salt=SALT, max_age=settings.INVITATION_MAX_AGE_DAYS * 24 * 60 * 60
        )
    except signing.BadSignature:
        return None
    return value["o"], value["c"]

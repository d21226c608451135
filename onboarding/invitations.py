"""Personal links in emails: signed, expiring, bound to one organisation and to the contact
person they were sent to. Campaign invitations are here; the yearly confirmation of contacts
signs its links with the same helpers and a salt of its own, so neither opens the other."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from django.conf import settings
from django.core import signing
from django.urls import reverse
from django.utils import translation

SALT = "onboarding.invitation"


def sign_link(payload: dict[str, Any], *, salt: str) -> str:
    return signing.dumps(payload, salt=salt, compress=True)


def link_url(viewname: str, token: str, *, language: str) -> str:
    """The absolute address of the page `viewname` for `token`, in `language`."""
    with translation.override(language):
        path = reverse(viewname, args=[token])
    return f"{settings.SITE_URL}{path}"


def read_link(token: str, *, salt: str) -> dict[str, Any] | None:
    """What a link signed with `salt` names, or None for a forged or expired one."""
    try:
        value = signing.loads(
            token, salt=salt, max_age=settings.INVITATION_MAX_AGE_DAYS * 24 * 60 * 60
        )
    except signing.BadSignature:
        return None
    return value if isinstance(value, dict) else None


@dataclass(frozen=True)
class Invitation:
    organisation_id: int
    campaign_id: int
    email: str


def invitation_token(*, organisation_id: int, campaign_id: int, email: str) -> str:
    return sign_link({"o": organisation_id, "c": campaign_id, "e": email.lower()}, salt=SALT)


def invitation_url(*, organisation_id: int, campaign_id: int, email: str, language: str) -> str:
    token = invitation_token(organisation_id=organisation_id, campaign_id=campaign_id, email=email)
    return link_url("onboarding:invitation", token, language=language)


def read_invitation(token: str) -> Invitation | None:
    """The invitation, or None for a forged or expired link."""
    value = read_link(token, salt=SALT)
    try:
        return Invitation(organisation_id=value["o"], campaign_id=value["c"], email=value["e"])
    except (KeyError, TypeError):
        return None

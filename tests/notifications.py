"""Notifications as the form stores them, and their submission as the view makes it: shared by
the tests of submitting, reviewing, waiting and delivering."""

from __future__ import annotations

import uuid
from dataclasses import replace
from typing import Any

from onboarding import services
from onboarding.models import Registration, TermsVersion, User
from onboarding.notification_data import (
    AcceptanceDetails,
    ContactDetails,
    Declarations,
    NotificationData,
    OrganisationDetails,
)
from tests.factories import UserFactory

OID = "1.2.246.562.10.74484103937"
BROWSER = "Mozilla/5.0 (X11; Linux x86_64; rv:128.0) Gecko/20100101 Firefox/128.0"


def contact(
    email: str,
    role: str = "administrative",
    *,
    name: str = "Riikka Rehtori",
    phone: str = "+358401234567",
    language: str = "fi",
) -> ContactDetails:
    return ContactDetails(name=name, email=email, phone=phone, role=role, language=language)


def notification_data(
    terms: TermsVersion | None,
    *,
    oid: str = OID,
    contacts: list[ContactDetails] | None = None,
    declarations: dict[str, Any] | None = None,
    language: str = "fi",
    **organisation: str,
) -> NotificationData:
    """A valid notification as the form makes it; `terms` None accepts nothing, `language` is
    that of the terms' text read."""
    details = OrganisationDetails(
        oid=oid,
        name_fi="Lempäälän kunta",
        name_sv="Lembois kommun",
        name_en="Municipality of Lempäälä",
        business_id="0150783-1",
        kind="education_provider",
    )
    return NotificationData(
        organisation=replace(details, **organisation),
        contacts=tuple(
            contacts
            if contacts is not None
            else [
                contact("riikka.rehtori@lempaala.fi", "administrative"),
                contact("it@lempaala.fi", "technical", name="Teemu Tekninen", language="sv"),
            ]
        ),
        declarations=Declarations(learner_numbers_confirmed=True, **(declarations or {})),
        acceptance=None
        if terms is None
        else AcceptanceDetails(
            terms_version=terms.version,
            content_sha256=terms.content_sha256,
            accepter_name="Riikka Rehtori",
            accepter_title="Sivistysjohtaja",
            authority_confirmed=True,
            language=language,
        ),
    )


def submit(
    terms: TermsVersion | None,
    *,
    user: User | None = None,
    data: NotificationData | None = None,
    token: uuid.UUID | None = None,
    content_sha256: str | None = None,
    language: str = "fi",
    ip_address: str | None = "192.0.2.7",
    user_agent: str = BROWSER,
) -> tuple[Registration, bool]:
    """Submit a notification as the view does: (registration, created)."""
    return services.registration_submit(
        user=user or UserFactory(),
        token=token or uuid.uuid4(),
        data=data if data is not None else notification_data(terms),
        terms_version=terms,
        content_sha256=content_sha256
        if content_sha256 is not None
        else (terms.content_sha256 if terms else ""),
        meta=services.RequestMeta(ip_address=ip_address, user_agent=user_agent, language=language),
    )

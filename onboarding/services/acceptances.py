from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime

from django.contrib.auth.models import AbstractBaseUser
from django.core.exceptions import ValidationError
from django.db import transaction
from django.utils.translation import gettext as _

from onboarding.models import Organisation, Registration, TermsAcceptance, TermsVersion
from onboarding.services.membership import in_force_from_for


@dataclass(frozen=True)
class AcceptanceEvidence:
    """What the accepting person saw, said and sent, as recorded at submission."""

    accepter_name: str
    accepter_title: str
    authority_confirmed: bool
    accepted_at: datetime
    language: str
    content_sha256: str
    ip_address: str | None = None
    user_agent: str = ""
    registration: Registration | None = None


@transaction.atomic
def acceptance_record(
    *,
    organisation: Organisation,
    terms_version: TermsVersion,
    user: AbstractBaseUser,
    evidence: AcceptanceEvidence,
    approved_on: date | None = None,
) -> TermsAcceptance:
    """Record that `organisation` accepted `terms_version`; the organisation becomes a member.

    Only a published version can be accepted, and only with the hash of the text that was
    shown matching the published one and the accepting person's authority confirmed. The
    acceptance stores the day the terms come in force for the organisation
    (`membership.in_force_from_for`; `approved_on` defaults to today in Helsinki).
    """
    if not terms_version.is_published:
        raise ValidationError(_("Only a published terms version can be accepted."))
    if evidence.content_sha256 != terms_version.content_sha256:
        raise ValidationError(
            _("The text that was shown is not the published text of version %(version)s.")
            % {"version": terms_version.version}
        )
    if not evidence.authority_confirmed:
        raise ValidationError(
            _("The accepting person must confirm they may bind the organisation.")
        )
    acceptance = TermsAcceptance(
        organisation=organisation,
        terms_version=terms_version,
        accepted_by=user,
        accepter_name=evidence.accepter_name,
        accepter_title=evidence.accepter_title,
        authority_confirmed=evidence.authority_confirmed,
        accepted_at=evidence.accepted_at,
        ip_address=evidence.ip_address,
        user_agent=evidence.user_agent,
        language=evidence.language,
        content_sha256=evidence.content_sha256,
        registration=evidence.registration,
        in_force_from=in_force_from_for(
            organisation=organisation, accepted_at=evidence.accepted_at, approved_on=approved_on
        ),
    )
    acceptance.full_clean()
    acceptance.save()
    organisation.membership = Organisation.Membership.TERMS_ACCEPTED
    organisation.save(update_fields=["membership", "updated_at"])
    return acceptance

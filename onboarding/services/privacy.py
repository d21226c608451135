"""A person's data on request: everything the portal holds about an email address, and its
erasure (pseudonymisation) by staff.

The evidence of acceptances stays as it was: an acceptance of the terms (`TermsAcceptance`:
the accepting person's name, title, address and browser) and a notification as it was sent
(`Registration.data`, its submitter and history) are kept on legal grounds (the
establishment, exercise or defence of legal claims), and the database keeps them read-only.
The export and the erasure's result both say so.

One plan (`person_erasure_plan`) says what the erasure will change and what it keeps; the
confirmation page shows it and `person_erase` applies exactly it.
"""

from __future__ import annotations

import re
import secrets
from dataclasses import dataclass, field, replace
from datetime import datetime
from typing import Any

from allauth.account.models import EmailAddress
from allauth.mfa.models import Authenticator
from django.conf import settings
from django.core.exceptions import ValidationError
from django.db import transaction
from django.db.models import Q, QuerySet
from django.utils import timezone, translation
from django.utils.translation import gettext
from django.utils.translation import gettext_lazy as _

from onboarding.models import (
    CampaignMessage,
    ContactPerson,
    ContactsConfirmationMessage,
    ContactsConfirmationTarget,
    OutgoingEmail,
    PersonErasure,
    Registration,
    TermsAcceptance,
    User,
)

ERASED_DOMAIN = "erased.invalid"  # .invalid never resolves (RFC 2606): nothing is delivered
ERASED_NAME = _("Erased person")
NOTHING_TO_ERASE = _("Nothing under this address can be erased.")
NOT_SENT = "Not sent: the recipient's data was erased."
# Emails whose text carries a sign-in code or a link into an account: never exported.
SECRET_KINDS = {
    OutgoingEmail.Kind.SIGN_IN_CODE,
    OutgoingEmail.Kind.PASSWORD_RESET,
    OutgoingEmail.Kind.STAFF_ENROLMENT,
    OutgoingEmail.Kind.ACCOUNT,
}
EVIDENCE_KEPT = _(
    "Kept on legal grounds: acceptances of the terms of use (the accepting person's name, title, "
    "IP address and browser) and notifications as they were sent (the contacts they name and "
    "who sent them) are evidence that may be needed to establish, exercise or defend legal "
    "claims. They are not erased, and the database keeps them read-only."
)


def _normalised(email: str) -> str:
    return email.strip().lower()


# Reads ------------------------------------------------------------------------------------------


def _contacts(email: str) -> QuerySet[ContactPerson]:
    return ContactPerson.objects.filter(email__iexact=email).select_related("organisation")


def _contact_history(email: str) -> QuerySet:
    return ContactPerson.history.filter(email__iexact=email).order_by("id", "history_date")


def _emails(email: str) -> QuerySet[OutgoingEmail]:
    return OutgoingEmail.objects.filter(to__iexact=email).order_by("created_at")


def _confirmations(email: str) -> QuerySet[ContactsConfirmationTarget]:
    return ContactsConfirmationTarget.objects.filter(
        confirmed_by_email__iexact=email
    ).select_related("round", "organisation")


def _account(email: str) -> User | None:
    return User.objects.filter(email__iexact=email).first()


def _acceptances(user: User | None) -> QuerySet[TermsAcceptance]:
    if user is None:
        return TermsAcceptance.objects.none()
    return TermsAcceptance.objects.filter(accepted_by=user).select_related(
        "organisation", "terms_version"
    )


def _registrations(email: str, user: User | None) -> list[Registration]:
    """Notifications this person sent, or whose contacts name them. The JSON's text narrows
    the search; the typed data (`Registration.submitted`) decides."""
    sent = Q(submitted_by=user) if user is not None else Q(pk__in=[])
    candidates = Registration.objects.filter(sent | Q(data__icontains=email)).order_by(
        "submitted_at"
    )
    return [
        registration
        for registration in candidates.select_related("submitted_by")
        if registration.submitted_by_id == getattr(user, "pk", None)
        or _named_contacts(registration, email)
    ]


def _named_contacts(registration: Registration, email: str) -> list:
    return [c for c in registration.submitted.contacts if _normalised(c.email) == email]


def _has_evidence(user: User | None) -> bool:
    """The account accepted terms, or sent a notification that accepts them: evidence names
    it, so it is kept."""
    if user is None:
        return False
    return (
        TermsAcceptance.objects.filter(accepted_by=user).exists()
        or Registration.objects.filter(submitted_by=user, terms_version__isnull=False).exists()
    )


def _iso(value: datetime | None) -> str | None:
    return value.isoformat() if value else None


def person_data_export(*, email: str) -> dict[str, Any]:
    """Everything the portal holds about the person at `email`, history included, as a JSON
    document: contact rows (every organisation) and their history, notifications that name
    them or that they sent, acceptances they made, their sign-in account (no secrets), emails
    sent to them (no text of those that carry a sign-in code or link) and their confirmations
    of contacts. The member register and the organisation registry hold nothing about persons.
    """
    email = _normalised(email)
    user = _account(email)
    return {
        "email": email,
        "exported_at": timezone.now().isoformat(),
        "controller": gettext("Finnish National Agency for Education (OPH)"),
        "evidence_kept": str(EVIDENCE_KEPT),
        "contacts": [_contact_json(contact) for contact in _contacts(email)],
        "contact_history": [_history_json(row) for row in _contact_history(email)],
        "notifications": [_registration_json(r, email, user) for r in _registrations(email, user)],
        "acceptances": [_acceptance_json(acceptance) for acceptance in _acceptances(user)],
        "account": _account_json(user),
        "emails": [_email_json(message) for message in _emails(email)],
        "contact_confirmations": [_confirmation_json(target) for target in _confirmations(email)],
        "registry": gettext(
            "OPH's organisation registry, as the portal keeps it, names organisations only."
        ),
    }


def _organisation_json(organisation) -> dict[str, str]:
    return {"oid": organisation.oid, "name": organisation.name_fi}


def _contact_json(contact: ContactPerson) -> dict[str, Any]:
    return {
        "organisation": _organisation_json(contact.organisation),
        "name": contact.name,
        "email": contact.email,
        "phone": str(contact.phone or ""),
        "role": contact.role,
        "language": contact.language,
        "active": contact.is_active,
        "created_at": _iso(contact.created_at),
        "updated_at": _iso(contact.updated_at),
    }


def _history_json(row) -> dict[str, Any]:
    return {
        "contact_id": row.id,
        "changed_at": _iso(row.history_date),
        "change": {"+": "created", "~": "changed", "-": "deleted"}[row.history_type],
        "name": row.name,
        "email": row.email,
        "phone": str(row.phone or ""),
        "role": row.role,
        "language": row.language,
        "active": row.is_active,
    }


def _registration_json(registration: Registration, email: str, user: User | None) -> dict:
    sent_by_them = user is not None and registration.submitted_by_id == user.pk
    submitted = registration.submitted
    document: dict[str, Any] = {
        "id": registration.pk,
        "organisation": {"oid": registration.oid, "name": submitted.organisation.name_fi},
        "status": registration.status,
        "submitted_at": _iso(registration.submitted_at),
        "sent_by_you": sent_by_them,
        "named_as_contact": [
            {"name": c.name, "email": c.email, "phone": c.phone, "role": c.role}
            for c in _named_contacts(registration, email)
        ],
        "reviewed_at": _iso(registration.reviewed_at),
        "withdrawn_at": _iso(registration.withdrawn_at),
    }
    if sent_by_them:
        document["ip_address"] = registration.ip_address
        document["user_agent"] = registration.user_agent
        if submitted.acceptance is not None:
            document["acceptance"] = {
                "terms_version": submitted.acceptance.terms_version,
                "accepter_name": submitted.acceptance.accepter_name,
                "accepter_title": submitted.acceptance.accepter_title,
            }
    return document


def _acceptance_json(acceptance: TermsAcceptance) -> dict[str, Any]:
    return {
        "organisation": _organisation_json(acceptance.organisation),
        "terms_version": acceptance.terms_version.version,
        "accepter_name": acceptance.accepter_name,
        "accepter_title": acceptance.accepter_title,
        "accepted_at": _iso(acceptance.accepted_at),
        "in_force_from": acceptance.in_force_from.isoformat(),
        "ip_address": acceptance.ip_address,
        "user_agent": acceptance.user_agent,
        "language": acceptance.language,
        "content_sha256": acceptance.content_sha256,
    }


def _account_json(user: User | None) -> dict[str, Any] | None:
    if user is None:
        return None
    return {
        "email": user.email,
        "name": " ".join(part for part in (user.first_name, user.last_name) if part),
        "active": user.is_active,
        "staff": user.is_staff,
        "created_at": _iso(user.date_joined),
        "last_sign_in": _iso(user.last_login),
        "addresses": [
            {"email": address.email, "verified": address.verified}
            for address in EmailAddress.objects.filter(user=user)
        ],
        "second_factors": Authenticator.objects.filter(user=user).count(),
    }


def _email_json(message: OutgoingEmail) -> dict[str, Any]:
    secret = message.kind in SECRET_KINDS
    return {
        "kind": message.kind,
        "subject": message.subject,
        "language": message.language,
        "status": message.status,
        "created_at": _iso(message.created_at),
        "sent_at": _iso(message.sent_at),
        "text": None if secret else message.body_text,
    }


def _confirmation_json(target: ContactsConfirmationTarget) -> dict[str, Any]:
    return {
        "organisation": _organisation_json(target.organisation),
        "year": target.round.year,
        "confirmed_at": _iso(target.confirmed_at),
        "confirmed_by_name": target.confirmed_by_name,
    }


# The erasure ------------------------------------------------------------------------------------


@dataclass(frozen=True)
class ErasurePlan:
    """What erasing the person at `email` changes, and what it keeps (evidence)."""

    email: str
    contacts: list[ContactPerson]
    history_rows: int
    emails: int
    campaign_messages: int
    confirmation_messages: int
    confirmations: int
    account: User | None
    account_kept: bool  # named by acceptance evidence: kept as it is
    notifications_kept: int
    acceptances_kept: int
    changed: dict[str, int] = field(default_factory=dict)

    @property
    def active_contacts(self) -> list[ContactPerson]:
        """Contacts the organisation loses: it needs someone new in the role."""
        return [contact for contact in self.contacts if contact.is_active]

    @property
    def is_empty(self) -> bool:
        return not (
            self.contacts
            or self.history_rows
            or self.emails
            or self.confirmations
            or (self.account and not self.account_kept)
        )


def person_erasure_plan(*, email: str) -> ErasurePlan:
    """What `person_erase` will do for `email`; ValidationError for an address that is not a
    person's the portal may erase (empty, or a staff account: those leave through the user
    admin)."""
    email = _normalised(email)
    if not email:
        raise ValidationError(_("Give the person's email address."))
    if email.endswith(f"@{ERASED_DOMAIN}"):
        raise ValidationError(_("This address is the pseudonym of data already erased."))
    user = _account(email)
    if user is not None and (user.is_staff or user.is_superuser):
        raise ValidationError(
            _("This is the account of OPH staff: deactivate it in the user admin instead.")
        )
    return ErasurePlan(
        email=email,
        contacts=list(_contacts(email)),
        history_rows=_contact_history(email).count(),
        emails=_emails(email).count(),
        campaign_messages=CampaignMessage.objects.filter(recipient__iexact=email).count(),
        confirmation_messages=ContactsConfirmationMessage.objects.filter(
            recipient__iexact=email
        ).count(),
        confirmations=_confirmations(email).count(),
        account=user,
        account_kept=_has_evidence(user),
        notifications_kept=len(_registrations(email, user)),
        acceptances_kept=_acceptances(user).count(),
    )


@dataclass(frozen=True)
class ErasureResult:
    erasure: PersonErasure
    plan: ErasurePlan
    # Read when the result is made, in the language then active (not once, at import).
    evidence_kept: str = field(default_factory=lambda: str(EVIDENCE_KEPT))


@transaction.atomic
def person_erase(*, email: str, by: User) -> ErasureResult:
    """Pseudonymise the person at `email`: their contact rows (in every organisation) and the
    history rows with their address get the "erased person" label for a name, a pseudonym that
    cannot be delivered for an address and no phone, and are inactive; emails to them lose their
    text and recipient (a queued one is not sent); their confirmations of contacts and campaign
    messages name the pseudonym; their account is deactivated and pseudonymised unless evidence
    names it. Acceptance evidence and notifications as sent are kept (`EVIDENCE_KEPT`).

    Recorded as a `PersonErasure` (who, when, how many rows) that holds none of the erased
    data."""
    plan = person_erasure_plan(email=email)
    if plan.is_empty:
        raise ValidationError(NOTHING_TO_ERASE)
    email = plan.email
    pseudonym = f"erased-{secrets.token_hex(8)}@{ERASED_DOMAIN}"
    with translation.override(settings.LANGUAGE_CODE):
        label = str(ERASED_NAME)
    erased = {"name": label, "email": pseudonym, "phone": ""}

    changed = {
        "contact_history": _contact_history(email).update(**erased),
        "contacts": _erase_contacts(plan.contacts, erased, by),
        "emails": _erase_emails(email, pseudonym),
        "campaign_messages": CampaignMessage.objects.filter(recipient__iexact=email).update(
            recipient=pseudonym
        ),
        "confirmation_messages": ContactsConfirmationMessage.objects.filter(
            recipient__iexact=email
        ).update(recipient=pseudonym),
        "contact_confirmations": _confirmations(email).update(
            confirmed_by_email=pseudonym, confirmed_by_name=label
        ),
        "account": _erase_account(plan, pseudonym),
    }
    erasure = PersonErasure.objects.create(erased_by=by, pseudonym=pseudonym, changed=changed)
    return ErasureResult(erasure=erasure, plan=replace(plan, changed=changed))


def _erase_contacts(contacts: list[ContactPerson], erased: dict[str, str], by: User) -> int:
    # Saved one by one: each contact's history gets a row that says who erased it, holding only
    # the pseudonymised values.
    for contact in contacts:
        for name, value in erased.items():
            setattr(contact, name, value)
        contact.is_active = False
        contact._history_user = by
        contact.save()
    return len(contacts)


def _erase_emails(email: str, pseudonym: str) -> int:
    address = re.compile(re.escape(email), re.IGNORECASE)
    messages = list(_emails(email))
    for message in messages:
        message.key = f"erased:{message.pk}"
        message.to = pseudonym
        message.body_text = message.body_html = ""
        message.last_error = address.sub(pseudonym, message.last_error)
        if message.status == OutgoingEmail.Status.QUEUED:
            message.status = OutgoingEmail.Status.FAILED
            message.last_error = NOT_SENT
    OutgoingEmail.objects.bulk_update(
        messages, ["key", "to", "body_text", "body_html", "last_error", "status"]
    )
    return len(messages)


def _erase_account(plan: ErasurePlan, pseudonym: str) -> int:
    user = plan.account
    if user is None or plan.account_kept:
        return 0
    EmailAddress.objects.filter(user=user).delete()
    Authenticator.objects.filter(user=user).delete()
    user.email = pseudonym
    user.first_name = user.last_name = ""
    user.is_active = False
    user.set_unusable_password()
    user.save()
    return 1

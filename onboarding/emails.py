"""Emails of the portal, one function per kind. Each renders its message in the recipient's
language and writes it to the outbox with its kind and what caused it, in the transaction of
that event; a Celery task sends it after the transaction commits."""

from __future__ import annotations

import hashlib
import logging
import uuid
from collections.abc import Callable
from dataclasses import dataclass
from datetime import date, datetime
from functools import cache

from django.conf import settings
from django.db import transaction
from django.template.loader import render_to_string
from django.utils import translation

from onboarding import selectors
from onboarding.localised import LANGUAGE_CODES
from onboarding.models import (
    AcceptanceCampaign,
    CampaignMessage,
    ContactPerson,
    ContactsConfirmationMessage,
    ContactsConfirmationRound,
    EvidenceCheck,
    Organisation,
    OutgoingEmail,
    Registration,
    RegistryCheck,
    TermsAcceptance,
    TermsVersion,
)

logger = logging.getLogger(__name__)
Kind = OutgoingEmail.Kind
STAFF_LANGUAGE = "fi"


def registration_receipt(registration: Registration) -> OutgoingEmail:
    """The submitter's receipt, in the language they used."""
    return _write(
        Kind.RECEIPT,
        to=registration.submitted_by.email,
        language=registration.language,
        message=_registration_message("registration_receipt", registration),
        registration=registration,
    )


def registration_to_review(registration: Registration) -> list[OutgoingEmail]:
    """A notice to every staff member who is told of the portal's work."""
    message = _registration_message("registration_to_review", registration)
    return _to_staff(Kind.TO_REVIEW, message, registration=registration)


def registration_decision(registration: Registration, template: str) -> list[OutgoingEmail]:
    """The decision (`template` says which) to the submitter in the language they used, and to
    each administrative contact of the organisation in theirs."""
    recipients = {registration.submitted_by.email.lower(): registration.language}
    # By OID: the organisation may have joined after this notification was sent.
    administrative = selectors.administrative_contacts_all().filter(
        organisation__oid=registration.oid
    )
    for contact in administrative:
        recipients.setdefault(contact.email.lower(), contact.language)
    message = _registration_message(template, registration)
    return [
        _write(
            Kind.DECISION,
            to=email,
            language=language,
            message=message,
            registration=registration,
        )
        for email, language in recipients.items()
    ]


def _registration_message(template: str, registration: Registration) -> Message:
    return _message(template, {"registration": registration})


@dataclass(frozen=True)
class CampaignRecipient:
    """One contact of a target, with the contact's personal `link`, and for an invitation the
    organisation's latest acceptance of an earlier version (it then asks to accept a new one)."""

    organisation: Organisation
    contact: ContactPerson
    link: str
    earlier_acceptance: TermsAcceptance | None = None


def campaign_messages(
    *,
    campaign: AcceptanceCampaign,
    step: str,
    today: date,
    recipients: list[CampaignRecipient],
) -> list[OutgoingEmail]:
    """One step of a campaign (its invitation, a reminder, the lapse notice) to each of
    `recipients`, written together (see `_write_many`): the caller holds the targets' locks."""
    kind = _CAMPAIGN_KINDS.get(step, Kind.CAMPAIGN_REMINDER)
    days_left = (campaign.deadline - today).days
    return _write_many(
        [
            _to_contact(
                kind,
                recipient.contact,
                template=kind.value,
                context={
                    "campaign": campaign,
                    "organisation": recipient.organisation,
                    "days_left": days_left,
                    "earlier_acceptance": recipient.earlier_acceptance,
                    "link": recipient.link,
                },
                campaign=campaign,
                organisation=recipient.organisation,
                step=step if kind == Kind.CAMPAIGN_REMINDER else "",
            )
            for recipient in recipients
        ]
    )


_CAMPAIGN_KINDS = {
    CampaignMessage.INVITATION: Kind.CAMPAIGN_INVITATION,
    CampaignMessage.LAPSED: Kind.CAMPAIGN_LAPSED,
}


def campaign_summary(campaign: AcceptanceCampaign, lapsed_names: list[str]) -> list[OutgoingEmail]:
    """After the lapse: how the campaign ended, to every staff member who is told."""
    message = _message(
        "campaign_summary",
        {
            "campaign": campaign,
            "lapsed": sorted(lapsed_names),
            "report": selectors.campaign_report(campaign),
        },
    )
    return _to_staff(Kind.CAMPAIGN_SUMMARY, message, campaign=campaign)


def registry_summary(
    registry_check: RegistryCheck, news: selectors.RegistryNews
) -> list[OutgoingEmail]:
    """After a weekly registry check: the members the registry closed, no longer knows or
    renamed, to every staff member who is told."""
    message = _message("registry_summary", {"check": registry_check, "news": news})
    return _to_staff(Kind.REGISTRY_SUMMARY, message, registry_check=registry_check)


def evidence_alert(evidence_check: EvidenceCheck) -> list[OutgoingEmail]:
    """A failed evidence check (`services.evidence`): what it found, to every staff member who
    is told, once per check."""
    message = _message("evidence_alert", {"check": evidence_check})
    return _to_staff(Kind.EVIDENCE_ALERT, message, evidence_check=evidence_check)


@dataclass(frozen=True)
class ConfirmationRecipient:
    """One administrative contact of an organisation asked to confirm its `contacts`, with the
    contact's personal `link`."""

    organisation: Organisation
    contact: ContactPerson
    contacts: list[ContactPerson]
    link: str


def contacts_confirmations(
    *,
    confirmation_round: ContactsConfirmationRound,
    step: str,
    recipients: list[ConfirmationRecipient],
) -> list[OutgoingEmail]:
    """The yearly request to confirm the organisation's contacts (step "request"), or a
    reminder of it (a step in days before the deadline), to each of `recipients`, written
    together (see `_write_many`): the caller holds the targets' locks."""
    is_request = step == ContactsConfirmationMessage.REQUEST
    kind = Kind.CONTACTS_CONFIRMATION if is_request else Kind.CONTACTS_CONFIRMATION_REMINDER
    return _write_many(
        [
            _to_contact(
                kind,
                recipient.contact,
                template="contacts_confirmation",
                context={
                    "confirmation_round": confirmation_round,
                    "organisation": recipient.organisation,
                    "contacts": recipient.contacts,
                    "is_reminder": not is_request,
                    "link": recipient.link,
                },
                organisation=recipient.organisation,
                contacts_confirmation_round=confirmation_round,
                step="" if is_request else step,
            )
            for recipient in recipients
        ]
    )


def terms_changed(terms_version: TermsVersion) -> list[OutgoingEmail]:
    """What changed in a version that needs no new acceptance, to every administrative contact
    of every member (one email per contact person: the organisation is its link)."""
    message = _message("terms_changed", {"terms": terms_version})
    return [
        _write(
            Kind.TERMS_CHANGED,
            to=contact.email,
            language=contact.language,
            message=message,
            terms_version=terms_version,
            organisation=contact.organisation,
        )
        for contact in selectors.members_administrative_contacts()
    ]


def staff_enrolment(*, user, link: str) -> OutgoingEmail:
    """A staff member's one-time `link` to set their password and second factor, in Finnish
    like every staff email; each link is a new email (the link tells them apart)."""
    context = {"user": user, "link": link, "hours": settings.STAFF_ENROLMENT_HOURS}
    return _write(
        Kind.STAFF_ENROLMENT,
        to=user.email,
        language=STAFF_LANGUAGE,
        message=_message("staff_enrolment", context),
        step=hashlib.sha256(link.encode()).hexdigest()[:16],
    )


def account_message(
    *,
    kind: str,
    to: str,
    language: str,
    subject: str,
    text: str,
    html: str,
    expires_at: datetime | None,
) -> OutgoingEmail:
    """A message allauth rendered in the request (`AccountAdapter.send_mail`): a sign-in
    code, an address to verify, a password reset, a notice about the account. No stored
    event causes it, so each has a key of its own. Sent at once after commit, on the account
    queue, and never after `expires_at` (the lifetime of its code or link)."""
    return _write(
        kind,
        to=to,
        language=language,
        message=lambda _language: (subject, text, html),  # rendered already, in `language`
        step=uuid.uuid4().hex,
        expires_at=expires_at,
    )


Message = Callable[[str], tuple[str, str, str]]


def _to_staff(kind: str, message: Message, **cause) -> list[OutgoingEmail]:
    """`message` to every staff member who is told of the portal's work, in Finnish."""
    return [
        _write(kind, to=user.email, language=STAFF_LANGUAGE, message=message, **cause)
        for user in selectors.staff_to_notify()
    ]


def _message(template: str, context: dict) -> Message:
    """The message in a given language, rendered once per language however many receive it."""
    return cache(lambda language: render_email(template, context, language))


def render_email(template: str, context: dict, language: str) -> tuple[str, str, str]:
    """(subject, text, html) of templates/emails/<template>.{subject.txt,txt,html}."""
    context = {
        "site_url": settings.SITE_URL,
        "customer_service_email": settings.CUSTOMER_SERVICE_EMAIL,
        **context,
    }
    with translation.override(language):
        subject = render_to_string(f"emails/{template}.subject.txt", context)
        text = render_to_string(f"emails/{template}.txt", context)
        html = render_to_string(f"emails/{template}.html", context)
    return " ".join(subject.split()), text, html


def _write(kind: str, **email) -> OutgoingEmail:
    """Write the email (the arguments of `_outbox_email`) to the outbox unless it was written
    before; returns the outbox row.

    The caller's transaction is the event's: the email exists if and only if the event does.
    """
    unsaved = _outbox_email(kind, **email)
    values = {f.attname: getattr(unsaved, f.attname) for f in OutgoingEmail._meta.concrete_fields}
    del values["id"], values["key"]
    email, created = OutgoingEmail.objects.get_or_create(key=unsaved.key, defaults=values)
    if created:
        transaction.on_commit(lambda: _enqueue([email]))
    return email


def _write_many(unsaved: list[OutgoingEmail]) -> list[OutgoingEmail]:
    """`_write` for many emails in two queries: returns the outbox rows, in order.

    Only for a caller that holds locks under which nobody else writes the same keys (a campaign
    step under its targets' locks): an email written before is found by its key and kept,
    the others are inserted together."""
    by_key = {email.key: email for email in unsaved}
    written = OutgoingEmail.objects.in_bulk(list(by_key), field_name="key")
    new = OutgoingEmail.objects.bulk_create(
        [email for key, email in by_key.items() if key not in written]
    )
    written.update((email.key, email) for email in new)
    if new:
        transaction.on_commit(lambda: _enqueue(new))
    return [written[email.key] for email in unsaved]


def _to_contact(
    kind: str, contact: ContactPerson, *, template: str, context: dict, **email
) -> OutgoingEmail:
    """`template` to a contact person, at their address (lower case) and in their language,
    with them in the context as `contact`; not yet saved (see `_outbox_email`)."""
    return _outbox_email(
        kind,
        to=contact.email.lower(),
        language=contact.language,
        message=_message(template, {**context, "contact": contact}),
        **email,
    )


def _outbox_email(
    kind: str,
    *,
    to: str,
    language: str,
    message: Message,
    step: str = "",
    expires_at: datetime | None = None,
    **cause,
) -> OutgoingEmail:
    """The outbox row of an email, rendered in `language` (the default for an unknown one),
    not yet saved. `cause` names the rows that caused it (`OutgoingEmail.CAUSES`);
    `expires_at` ends the life of a code or link it carries (it is never sent after)."""
    language = language if language in LANGUAGE_CODES else settings.LANGUAGE_CODE
    subject, text, html = message(language)
    return OutgoingEmail(
        key=email_key(kind, cause, step, to),
        kind=kind,
        to=to,
        language=language,
        subject=subject,
        body_text=text,
        body_html=html,
        expires_at=expires_at,
        **cause,
    )


def email_key(kind: str, cause: dict, step: str, to: str) -> str:
    """The never-twice guard, the one place keys are made: the kind, the ids of what caused it
    (in `OutgoingEmail.CAUSES` order), a reminder's step (an account message's own token) and
    the recipient, e.g. "decision:42:alice@example.fi" or
    "campaign_reminder:3:17:30:bob@example.fi"."""
    ids = [str(cause[name].pk) for name in OutgoingEmail.CAUSES if cause.get(name) is not None]
    key = ":".join([kind, *ids, *([step] if step else []), to.lower()])
    if len(key) <= 200:
        return key
    # A long one keeps its start and a hash of the whole, so two keys never collapse into one.
    return f"{key[:135]}#{hashlib.sha256(key.encode()).hexdigest()}"


def _enqueue(emails: list[OutgoingEmail]) -> None:
    """After commit the emails are safe in the outbox; a failure to enqueue (broker down, or an
    in-process retry in development) must not turn the committed request into an error: the
    sweep enqueues them again."""
    # The one import made late, and the only one: the tasks import the services, and the
    # services write emails; importing the task at the top would close that circle.
    from onboarding.tasks import enqueue_email

    for email in emails:
        try:
            enqueue_email(email.pk, email.kind)
        except Exception:
            logger.warning("Email %s stays queued: enqueueing failed", email.pk, exc_info=True)

from __future__ import annotations

import uuid
from dataclasses import dataclass

from django.contrib.auth import get_user_model
from django.core.exceptions import PermissionDenied, ValidationError
from django.db import IntegrityError, transaction
from django.utils import timezone
from django.utils.translation import gettext as _

from onboarding import selectors
from onboarding.emails import queue_email
from onboarding.models import ContactPerson, Organisation, Registration, TermsVersion
from onboarding.models.registrations import ALREADY_WAITING
from onboarding.services.acceptances import AcceptanceEvidence, acceptance_record

ORGANISATION_FIELDS = ("name_fi", "name_sv", "name_en", "business_id", "kind")


@dataclass(frozen=True)
class RequestMeta:
    """Where a submission came from, as the server saw it."""

    ip_address: str | None
    user_agent: str
    language: str


WAITING_CONSTRAINT = "one_waiting_notification_per_oid"


class RegistrationAlreadyDecided(ValidationError):
    pass


class NotificationAlreadyWaiting(ValidationError):
    """Another notification of the organisation waits for review or correction; `waiting` is
    that notification (for who may see it), or None when it is not known yet."""

    def __init__(self, waiting: Registration | None):
        super().__init__(ALREADY_WAITING, code="already_waiting")
        self.waiting = waiting


@transaction.atomic
def registration_submit(
    *,
    user,
    token: uuid.UUID,
    data: dict,
    terms_version: TermsVersion | None,
    content_sha256: str,
    meta: RequestMeta,
) -> tuple[Registration, bool]:
    """Keep a notification exactly as submitted; (registration, created).

    The same submission token always gives the same registration: a double click, the back
    button or a replay creates nothing new and sends nothing again.

    An organisation has one notification waiting at a time: while one waits for review, another
    is refused (NotificationAlreadyWaiting). One sent back for changes is replaced by the
    correction that its sender or an active contact of the organisation sends.
    """
    existing = Registration.objects.filter(submission_token=token).first()
    if existing is not None:
        if existing.submitted_by_id != user.pk:
            raise PermissionDenied
        return existing, False
    if terms_version is not None and (
        content_sha256 != terms_version.content_sha256 or terms_version != selectors.current_terms()
    ):
        raise ValidationError(
            _(
                "The terms of use changed while you filled in the form. Read the current version "
                "and accept it again."
            )
        )
    oid = data["organisation"]["oid"]
    corrected = _replace_for_correction(oid, user)
    try:
        # A savepoint: a notification of the same OID committed meanwhile meets ours on the
        # constraint, and the person is told, not shown a server error.
        with transaction.atomic():
            registration, created = Registration.objects.get_or_create(
                submission_token=token,
                defaults={
                    "organisation": Organisation.objects.filter(oid=oid).first(),
                    "oid": oid,
                    "data": data,
                    "terms_version": terms_version,
                    "content_sha256": content_sha256 if terms_version else "",
                    "submitted_by": user,
                    "ip_address": meta.ip_address,
                    "user_agent": meta.user_agent[:1000],
                    "language": meta.language,
                    "corrects": corrected,
                },
            )
    except IntegrityError as error:
        if _constraint_of(error) != WAITING_CONSTRAINT:
            raise
        raise NotificationAlreadyWaiting(selectors.waiting_registration(oid)) from error
    if not created and registration.submitted_by_id != user.pk:
        raise PermissionDenied
    if created:
        _queue_submission_emails(registration)
    return registration, created


def _replace_for_correction(oid: str, user) -> Registration | None:
    """The waiting notification of `oid`, locked and marked replaced, when the new one is its
    correction; NotificationAlreadyWaiting when another waits; None when none does."""
    waiting = (
        Registration.objects.select_for_update()
        .filter(oid=oid, status__in=Registration.WAITING)
        .first()
    )
    if waiting is None:
        return None
    if not selectors.may_correct(user, waiting):
        raise NotificationAlreadyWaiting(waiting)
    waiting.status = Registration.Status.REPLACED
    waiting._history_user = user
    waiting.save(update_fields=["status"])
    return waiting


def _constraint_of(error: IntegrityError) -> str | None:
    diagnostics = getattr(error.__cause__, "diag", None)
    return getattr(diagnostics, "constraint_name", None)


def _queue_submission_emails(registration: Registration) -> None:
    context = {"registration": registration, "data": registration.data}
    queue_email(
        key=f"receipt:{registration.pk}",
        to=registration.submitted_by.email,
        language=registration.language,
        template="registration_receipt",
        context=context,
    )
    reviewers = get_user_model().objects.filter(is_staff=True, is_active=True)
    for reviewer in reviewers.exclude(email=""):
        queue_email(
            key=f"review:{registration.pk}:{reviewer.email}",
            to=reviewer.email,
            language="fi",
            template="registration_to_review",
            context=context,
        )


def _lock_pending(registration_id: int) -> Registration:
    registration = Registration.objects.select_for_update().get(pk=registration_id)
    if registration.is_pending:
        return registration
    if registration.status in (Registration.Status.WITHDRAWN, Registration.Status.REPLACED):
        message = _("This notification no longer waits for review: %(status)s.")
    else:
        message = _("This notification was already decided: %(status)s.")
    raise RegistrationAlreadyDecided(message % {"status": registration.get_status_display()})


def _decide(registration: Registration, *, status: str, reviewer, reason: str = "") -> None:
    registration.status = status
    registration.reviewed_by = reviewer
    registration.reviewed_at = timezone.now()
    registration.decision_reason = reason
    registration._history_user = reviewer
    registration.save()


@transaction.atomic
def registration_approve(*, registration_id: int, reviewer) -> Registration:
    """Approve a notification: the organisation and its contacts become what was submitted,
    and the acceptance of the terms is recorded as of the submission, with its evidence.

    The registration row is locked: of two reviewers approving at once, one approves and the
    other is told it was already decided, so one acceptance and one email result.
    """
    registration = _lock_pending(registration_id)
    submitted = registration.data["organisation"]
    # get_or_create first, then lock: an organisation created meanwhile (an import) is met on
    # the unique OID instead of inserted twice. No newer notification of the OID can have been
    # approved: one notification of an organisation waits at a time.
    created_organisation, _created = Organisation.objects.get_or_create(
        oid=registration.oid,
        defaults={field: submitted.get(field, "") or "" for field in ORGANISATION_FIELDS},
    )
    organisation = Organisation.objects.select_for_update().get(pk=created_organisation.pk)
    for field in ORGANISATION_FIELDS:
        setattr(organisation, field, submitted.get(field, "") or "")
    declarations = registration.data.get("declarations", {})
    if declarations.get("uses_test_learner_numbers"):
        organisation.test_learner_number_use = declarations.get("test_learner_number_use", "")
        organisation.test_learner_numbers_notified_at = registration.submitted_at
    else:
        organisation.test_learner_number_use = ""
        organisation.test_learner_numbers_notified_at = None
    organisation._history_user = reviewer
    organisation.full_clean(validate_unique=False)
    organisation.save()
    _sync_contacts(organisation, registration.data.get("contacts", []), reviewer)

    if registration.accepts_terms and selectors.acceptance_due(
        organisation, registration.terms_version
    ):
        acceptance = registration.data["acceptance"]
        acceptance_record(
            organisation=organisation,
            terms_version=registration.terms_version,
            user=registration.submitted_by,
            evidence=AcceptanceEvidence(
                accepter_name=acceptance["accepter_name"],
                accepter_title=acceptance["accepter_title"],
                authority_confirmed=acceptance["authority_confirmed"],
                accepted_at=registration.submitted_at,
                language=acceptance.get("language", registration.language),
                content_sha256=registration.content_sha256,
                ip_address=registration.ip_address,
                user_agent=registration.user_agent,
                registration=registration,
            ),
        )
    registration.organisation = organisation
    _decide(registration, status=Registration.Status.APPROVED, reviewer=reviewer)
    _queue_decision_emails(registration, template="registration_approved")
    return registration


def _sync_contacts(organisation: Organisation, submitted: list[dict], reviewer) -> None:
    """Make the active contacts those submitted: update matches, add new, retire the rest."""
    current = {
        (contact.email.lower(), contact.role): contact
        for contact in organisation.contacts.filter(is_active=True)
    }
    for values in submitted:
        key = (values["email"].lower(), values["role"])
        contact = current.pop(key, None) or ContactPerson(
            organisation=organisation, email=values["email"], role=values["role"]
        )
        changed = [
            f
            for f in ("name", "phone", "language")
            if str(getattr(contact, f) or "") != (values.get(f) or "")
        ]
        if contact.pk is None or changed:
            contact.name = values["name"]
            contact.phone = values.get("phone") or ""
            contact.language = values["language"]
            contact._history_user = reviewer
            contact.full_clean(validate_constraints=False)
            contact.save()
    for contact in current.values():
        contact.is_active = False
        contact._history_user = reviewer
        contact.save(update_fields=["is_active", "updated_at"])


@transaction.atomic
def registration_reject(*, registration_id: int, reviewer, reason: str) -> Registration:
    """Reject a notification; the reason goes to the submitter and administrative contacts."""
    return _decide_with_reason(
        registration_id, reviewer, reason, Registration.Status.REJECTED, "registration_rejected"
    )


@transaction.atomic
def registration_request_changes(*, registration_id: int, reviewer, reason: str) -> Registration:
    """Ask the submitter to correct a notification and send it again; the reason says what."""
    return _decide_with_reason(
        registration_id,
        reviewer,
        reason,
        Registration.Status.CHANGES_REQUESTED,
        "registration_changes_requested",
    )


def _decide_with_reason(registration_id, reviewer, reason, status, template) -> Registration:
    reason = (reason or "").strip()
    if not reason:
        raise ValidationError(_("Write the reason: it is sent to the submitter."))
    registration = _lock_pending(registration_id)
    _decide(registration, status=status, reviewer=reviewer, reason=reason)
    _queue_decision_emails(registration, template=template)
    return registration


def _queue_decision_emails(registration: Registration, *, template: str) -> None:
    """The submitter in the language they used; each administrative contact in theirs."""
    recipients = {registration.submitted_by.email.lower(): registration.language}
    # By OID: the organisation may have joined after this notification was sent.
    administrative = selectors.administrative_contacts_all().filter(
        organisation__oid=registration.oid
    )
    for contact in administrative:
        recipients.setdefault(contact.email.lower(), contact.language)
    for email, language in recipients.items():
        queue_email(
            key=f"decision:{registration.pk}:{email}",
            to=email,
            language=language,
            template=template,
            context={"registration": registration, "data": registration.data},
        )


@transaction.atomic
def registration_withdraw(*, registration_id: int, user) -> Registration:
    """Withdraw a notification that waits for review or correction, as its sender or an active
    contact of the organisation: staff no longer review it, and a new one may be sent. One that
    was decided stays as decided."""
    registration = Registration.objects.select_for_update().get(pk=registration_id)
    if not selectors.may_see_registration(user, registration):
        raise PermissionDenied
    if not registration.is_waiting:
        raise RegistrationAlreadyDecided(
            _("This notification can no longer be withdrawn: %(status)s.")
            % {"status": registration.get_status_display()}
        )
    registration.status = Registration.Status.WITHDRAWN
    registration.withdrawn_by = user
    registration.withdrawn_at = timezone.now()
    registration._history_user = user
    registration.save(update_fields=["status", "withdrawn_by", "withdrawn_at"])
    return registration

from __future__ import annotations

import uuid
from dataclasses import dataclass
from datetime import datetime, timedelta

from django.conf import settings
from django.core.exceptions import PermissionDenied, ValidationError
from django.db import IntegrityError, transaction
from django.utils import timezone
from django.utils.formats import date_format
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy, ngettext

from onboarding import emails, selectors
from onboarding.comparison import CONTACT_FIELDS, ContactChange, ContactState, contact_changes
from onboarding.models import ContactPerson, Organisation, Registration, TermsVersion, User
from onboarding.models.registrations import ALREADY_WAITING, WAITING_CONSTRAINT
from onboarding.notification_data import NotificationData
from onboarding.services.acceptances import AcceptanceEvidence, acceptance_record

RATE_WINDOW = timedelta(hours=1)
TERMS_CHANGED = gettext_lazy(
    "The terms of use changed while you filled in the form. Read the current version and "
    "accept it again."
)


@dataclass(frozen=True)
class RequestMeta:
    """Where a submission came from, as the server saw it."""

    ip_address: str | None
    user_agent: str
    language: str


class RegistrationAlreadyDecided(ValidationError):
    pass


class TermsChanged(ValidationError):
    """The terms the person read are no longer the ones in force: never accept unseen."""

    def __init__(self):
        super().__init__(TERMS_CHANGED, code="terms_changed")


class TooManyNotifications(ValidationError):
    """The person has sent as many notifications in the last hour as one may
    (`settings.NOTIFICATIONS_PER_PERSON_PER_HOUR`); `retry_at` is when the next may be sent."""

    def __init__(self, retry_at: datetime):
        super().__init__(
            ngettext(
                "You have sent %(count)d notification in the last hour, the most one person may "
                "send. Nothing was sent now and your answers are kept: send the notification "
                "again after %(time)s, or write to customer service at %(email)s.",
                "You have sent %(count)d notifications in the last hour, the most one person may "
                "send. Nothing was sent now and your answers are kept: send the notification "
                "again after %(time)s, or write to customer service at %(email)s.",
                settings.NOTIFICATIONS_PER_PERSON_PER_HOUR,
            )
            % {
                "count": settings.NOTIFICATIONS_PER_PERSON_PER_HOUR,
                "time": date_format(timezone.localtime(retry_at), "TIME_FORMAT"),
                "email": settings.CUSTOMER_SERVICE_EMAIL,
            },
            code="too_many_notifications",
        )
        self.retry_at = retry_at


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
    data: NotificationData,
    terms_version: TermsVersion | None,
    content_sha256: str,
    meta: RequestMeta,
) -> tuple[Registration, bool]:
    """Keep a notification exactly as submitted; (registration, created).

    The notification keeps the rules of `NotificationData.validate` and accepts either no terms
    or the version in force, with its published text (TermsChanged otherwise).

    The same submission token always gives the same registration: a double click, the back
    button or a replay creates nothing new and sends nothing again.

    One person sends at most `settings.NOTIFICATIONS_PER_PERSON_PER_HOUR` notifications in an
    hour (TooManyNotifications), counted in the database with their user row locked, so that
    submissions at the same moment cannot all slip under the limit.

    An organisation has one notification waiting at a time: while one waits for review, another
    is refused (NotificationAlreadyWaiting). One sent back for changes is replaced by the
    correction that its sender or an active contact of the organisation sends.
    """
    # The person's row, locked: their submissions are counted and inserted one at a time.
    User.objects.select_for_update().filter(pk=user.pk).first()
    existing = Registration.objects.filter(submission_token=token).first()
    if existing is not None:
        if existing.submitted_by_id != user.pk:
            raise PermissionDenied
        return existing, False
    _check_rate(user)
    _check_terms_current(terms_version, content_sha256)
    if (terms_version is None) != (data.acceptance is None):
        raise ValueError("A notification accepts terms exactly when it names their version.")
    data.validate()
    oid = data.organisation.oid
    registration, created = _insert_once(
        token,
        {
            "organisation": Organisation.objects.filter(oid=oid).first(),
            "oid": oid,
            "data": data.to_json(),
            "terms_version": terms_version,
            "content_sha256": content_sha256 if terms_version else "",
            "submitted_by": user,
            "ip_address": meta.ip_address,
            "user_agent": meta.user_agent[:1000],
            "language": meta.language,
            "corrects": _replace_for_correction(oid, user),
        },
    )
    if not created and registration.submitted_by_id != user.pk:
        raise PermissionDenied
    if created:
        _queue_submission_emails(registration)
    return registration, created


def _check_rate(user) -> None:
    """TooManyNotifications when `user` has sent the most allowed in the last hour, whatever
    became of them (a withdrawn one emailed the reviewers too)."""
    limit = settings.NOTIFICATIONS_PER_PERSON_PER_HOUR
    since = timezone.now() - RATE_WINDOW
    recent = list(
        Registration.objects.filter(submitted_by=user, submitted_at__gt=since)
        .order_by("-submitted_at")
        .values_list("submitted_at", flat=True)[:limit]
    )
    if len(recent) >= limit:
        raise TooManyNotifications(retry_at=recent[-1] + RATE_WINDOW)


def _insert_once(token: uuid.UUID, values: dict) -> tuple[Registration, bool]:
    """The registration of `token`, inserted with `values` unless it exists; another waiting
    notification of the OID is NotificationAlreadyWaiting."""
    try:
        # A savepoint: a notification of the same OID committed meanwhile meets ours on the
        # constraint, and the person is told, not shown a server error.
        with transaction.atomic():
            return Registration.objects.get_or_create(submission_token=token, defaults=values)
    except IntegrityError as error:
        if _constraint_of(error) != WAITING_CONSTRAINT:
            raise
        waiting = selectors.waiting_registration(values["oid"])
        raise NotificationAlreadyWaiting(waiting) from error


def _check_terms_current(terms_version: TermsVersion | None, content_sha256: str) -> None:
    """TermsChanged unless the terms accepted, if any, are the version in force with the text
    that was shown."""
    if terms_version is not None and (
        content_sha256 != terms_version.content_sha256 or terms_version != selectors.current_terms()
    ):
        raise TermsChanged()


def _replace_for_correction(oid: str, user) -> Registration | None:
    """The waiting notification of `oid`, locked and marked replaced, when the new one is its
    correction; NotificationAlreadyWaiting when another waits; None when none does."""
    waiting = selectors.waiting_registrations(oid).select_for_update().first()
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
    emails.registration_receipt(registration)
    emails.registration_to_review(registration)


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

    The contacts change exactly as the review page showed (`comparison.contact_changes`).
    The registration row is locked: of two reviewers approving at once, one approves and the
    other is told it was already decided, so one acceptance and one email result.
    """
    registration = _lock_pending(registration_id)
    organisation = _organisation_as_submitted(registration, reviewer)
    changes = contact_changes(organisation, registration.submitted.contacts)
    _apply_contact_changes(organisation, changes, reviewer)
    if registration.accepts_terms and selectors.acceptance_due(
        organisation, registration.terms_version
    ):
        _record_acceptance(registration, organisation)
    registration.organisation = organisation
    _decide(registration, status=Registration.Status.APPROVED, reviewer=reviewer)
    _queue_decision_emails(registration, template="registration_approved")
    return registration


def _organisation_as_submitted(registration: Registration, reviewer) -> Organisation:
    """The organisation of the OID, created or locked and updated, with the details and the
    use of test learner numbers submitted."""
    submitted = registration.submitted
    # get_or_create first, then lock: an organisation created meanwhile (an import) is met on
    # the unique OID instead of inserted twice. No newer notification of the OID can have been
    # approved: one notification of an organisation waits at a time.
    created, _created = Organisation.objects.get_or_create(
        oid=registration.oid, defaults=submitted.organisation.values()
    )
    organisation = Organisation.objects.select_for_update().get(pk=created.pk)
    for field, value in submitted.organisation.values().items():
        setattr(organisation, field, value)
    declarations = submitted.declarations
    organisation.test_learner_number_use = declarations.notified_use
    organisation.test_learner_numbers_notified_at = (
        registration.submitted_at if declarations.uses_test_learner_numbers else None
    )
    organisation._history_user = reviewer
    organisation.full_clean(validate_unique=False)
    organisation.save()
    return organisation


def _apply_contact_changes(
    organisation: Organisation, changes: list[ContactChange], reviewer
) -> None:
    """Add, change and retire contacts as `changes` say; those the same stay untouched."""
    for change in changes:
        if change.state == ContactState.SAME:
            continue
        submitted = change.contact
        contact = change.current or ContactPerson(
            organisation=organisation, email=submitted.email, role=submitted.role
        )
        contact._history_user = reviewer
        if change.state == ContactState.REMOVED:
            contact.is_active = False
            contact.save(update_fields=["is_active", "updated_at"])
            continue
        fields = CONTACT_FIELDS if change.state == ContactState.ADDED else change.fields
        for field in fields:
            setattr(contact, field, getattr(submitted, field))
        contact.full_clean(validate_constraints=False)
        contact.save()


def _record_acceptance(registration: Registration, organisation: Organisation) -> None:
    """The acceptance as of the submission, with what the person saw, said and sent."""
    acceptance = registration.submitted.acceptance
    acceptance_record(
        organisation=organisation,
        terms_version=registration.terms_version,
        user=registration.submitted_by,
        evidence=AcceptanceEvidence(
            accepter_name=acceptance.accepter_name,
            accepter_title=acceptance.accepter_title,
            authority_confirmed=acceptance.authority_confirmed,
            accepted_at=registration.submitted_at,
            language=acceptance.language,
            content_sha256=registration.content_sha256,
            ip_address=registration.ip_address,
            user_agent=registration.user_agent,
            registration=registration,
        ),
    )


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
    emails.registration_decision(registration, template)


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

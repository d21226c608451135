from __future__ import annotations

from functools import cached_property

from django.conf import settings
from django.core.serializers.json import DjangoJSONEncoder
from django.db import models
from django.utils import timezone
from django.utils.translation import gettext_lazy as _
from simple_history.models import HistoricalRecords

from onboarding.identifiers import MAX_OID_LENGTH
from onboarding.models.organisations import Language, Organisation
from onboarding.models.terms import TermsVersion
from onboarding.notification_data import NotificationData


class RegistrationStatus(models.TextChoices):
    SUBMITTED = "submitted", _("Submitted")
    APPROVED = "approved", _("Approved")
    REJECTED = "rejected", _("Rejected")
    CHANGES_REQUESTED = "changes_requested", _("Changes requested")
    WITHDRAWN = "withdrawn", _("Withdrawn")
    REPLACED = "replaced", _("Replaced by a newer notification")


# Waiting for OPH's review, or for the sender's correction: an organisation has one at a time.
WAITING_STATUSES = (RegistrationStatus.SUBMITTED, RegistrationStatus.CHANGES_REQUESTED)
ALREADY_WAITING = _("A notification for this organisation is already waiting for review.")
WAITING_CONSTRAINT = "one_waiting_notification_per_oid"


# What was submitted is evidence: only the status, the review and the withdrawal may change
# afterwards (the database's trigger, migration 0014, refuses an UPDATE of these columns).
SUBMISSION_FIELDS = (
    "oid",
    "data",
    "terms_version",
    "content_sha256",
    "submitted_by",
    "submitted_at",
    "ip_address",
    "user_agent",
    "language",
    "submission_token",
    "corrects",
)
# A notification may be deleted (after the retention period) only in these statuses.
DELETABLE_STATUSES = (RegistrationStatus.REJECTED, RegistrationStatus.WITHDRAWN)


class Registration(models.Model):
    """A notification as it was submitted: the exact data, who sent it, when and from where.

    It names the organisation and its contact persons and, when `terms_version` is set, accepts
    that version of the terms. Staff approve, reject or ask for changes.
    """

    Status = RegistrationStatus
    WAITING = WAITING_STATUSES

    organisation = models.ForeignKey(
        Organisation,
        on_delete=models.PROTECT,
        related_name="registrations",
        null=True,
        blank=True,
        verbose_name=_("organisation"),
    )
    oid = models.CharField(_("organisation OID"), max_length=MAX_OID_LENGTH, db_index=True)
    data = models.JSONField(_("submitted data"), encoder=DjangoJSONEncoder)
    terms_version = models.ForeignKey(
        TermsVersion,
        on_delete=models.PROTECT,
        related_name="registrations",
        null=True,
        blank=True,
        verbose_name=_("terms version accepted"),
    )
    content_sha256 = models.CharField(_("SHA-256 of the terms shown"), max_length=64, blank=True)
    status = models.CharField(
        _("status"),
        max_length=32,
        choices=RegistrationStatus.choices,
        default=RegistrationStatus.SUBMITTED,
    )
    submitted_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.PROTECT,
        related_name="registrations",
        verbose_name=_("submitted by"),
    )
    submitted_at = models.DateTimeField(_("submitted at"), default=timezone.now)
    ip_address = models.GenericIPAddressField(_("IP address"), null=True, blank=True)
    user_agent = models.TextField(_("user agent"), blank=True)
    language = models.CharField(_("language"), max_length=2, choices=Language.choices)
    submission_token = models.UUIDField(_("submission token"), unique=True, editable=False)
    reviewed_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.PROTECT,
        related_name="reviewed_registrations",
        null=True,
        blank=True,
        verbose_name=_("reviewed by"),
    )
    reviewed_at = models.DateTimeField(_("reviewed at"), null=True, blank=True)
    decision_reason = models.TextField(_("reason"), blank=True)
    corrects = models.OneToOneField(
        "self",
        on_delete=models.PROTECT,
        related_name="correction",
        null=True,
        blank=True,
        verbose_name=_("corrects"),
        help_text=_("The notification sent back for changes that this one corrects."),
    )
    withdrawn_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.PROTECT,
        related_name="withdrawn_registrations",
        null=True,
        blank=True,
        verbose_name=_("withdrawn by"),
    )
    withdrawn_at = models.DateTimeField(_("withdrawn at"), null=True, blank=True)

    history = HistoricalRecords()

    class Meta:
        verbose_name = _("notification")
        verbose_name_plural = _("notifications")
        ordering = ["submitted_at"]
        constraints = [
            models.CheckConstraint(
                condition=models.Q(status__in=RegistrationStatus.values),
                name="registration_status_valid",
            ),
            models.CheckConstraint(
                condition=models.Q(terms_version__isnull=True, content_sha256="")
                | (models.Q(terms_version__isnull=False) & ~models.Q(content_sha256="")),
                name="registration_acceptance_has_sha256",
            ),
            # A new organisation has no Organisation row yet: the OID is what is unique.
            models.UniqueConstraint(
                fields=["oid"],
                condition=models.Q(status__in=WAITING_STATUSES),
                name=WAITING_CONSTRAINT,
                violation_error_message=ALREADY_WAITING,
            ),
            models.CheckConstraint(
                condition=models.Q(status=RegistrationStatus.WITHDRAWN, withdrawn_at__isnull=False)
                | (~models.Q(status=RegistrationStatus.WITHDRAWN) & models.Q(withdrawn_at=None)),
                name="registration_withdrawn_has_time",
            ),
        ]

    def __str__(self) -> str:
        submitted_on = timezone.localdate(self.submitted_at)  # the day in Helsinki, not UTC
        return f"{self.organisation_name} ({self.oid}), {submitted_on:%Y-%m-%d}"

    @cached_property
    def submitted(self) -> NotificationData:
        """What was submitted, typed; `data` is kept as it was and never changes."""
        return NotificationData.from_json(self.data, language=self.language)

    @property
    def organisation_name(self) -> str:
        return self.submitted.organisation.name_fi

    @property
    def is_pending(self) -> bool:
        return self.status == RegistrationStatus.SUBMITTED

    @property
    def is_waiting(self) -> bool:
        """Waiting for OPH's review or for its sender's correction: it may still be withdrawn."""
        return self.status in WAITING_STATUSES

    @property
    def accepts_terms(self) -> bool:
        return self.terms_version_id is not None


class PendingRegistration(Registration):
    """The review queue: submitted notifications, oldest first."""

    class Meta:
        proxy = True
        verbose_name = _("notification to review")
        verbose_name_plural = _("notifications to review")

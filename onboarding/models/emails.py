from __future__ import annotations

from django.db import models
from django.db.models import Q
from django.utils import timezone
from django.utils.translation import gettext_lazy as _


class EmailKind(models.TextChoices):
    """What an email tells; `onboarding.emails` has one function per kind."""

    RECEIPT = "receipt", _("Receipt of a notification")
    TO_REVIEW = "to_review", _("Notification to review")
    DECISION = "decision", _("Decision on a notification")
    CAMPAIGN_INVITATION = "campaign_invitation", _("Campaign invitation")
    CAMPAIGN_REMINDER = "campaign_reminder", _("Campaign reminder")
    CAMPAIGN_LAPSED = "campaign_lapsed", _("Campaign lapse notice")
    CAMPAIGN_SUMMARY = "campaign_summary", _("Campaign summary")
    TERMS_CHANGED = "terms_changed", _("Terms of use changed")
    REGISTRY_SUMMARY = "registry_summary", _("Registry check summary")
    CONTACTS_CONFIRMATION = "contacts_confirmation", _("Request to confirm contacts")
    CONTACTS_CONFIRMATION_REMINDER = (
        "contacts_confirmation_reminder",
        _("Reminder to confirm contacts"),
    )
    SIGN_IN_CODE = "sign_in_code", _("Sign-in code")
    ACCOUNT = "account", _("Account message")
    PASSWORD_RESET = "password_reset", _("Password reset")
    STAFF_ENROLMENT = "staff_enrolment", _("Staff enrolment link")
    EVIDENCE_ALERT = "evidence_alert", _("Evidence check failed")


#: Emails a person waits for while signing in or managing their account: they have their own
#: Celery queue, so that a campaign's backlog never delays a sign-in code.
ACCOUNT_KINDS = frozenset(
    {EmailKind.SIGN_IN_CODE, EmailKind.ACCOUNT, EmailKind.PASSWORD_RESET, EmailKind.STAFF_ENROLMENT}
)


def _cause(model: str, verbose_name: str) -> models.ForeignKey:
    return models.ForeignKey(
        f"onboarding.{model}",
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="emails",
        verbose_name=verbose_name,
    )


class OutgoingEmail(models.Model):
    """An email written in the same transaction as the event it tells of, then sent once.

    `kind` says what it tells and the links (`registration`, `campaign`, `terms_version`,
    `organisation`, `registry_check`) what caused it. `key` is built from those and the recipient
    (`onboarding.emails`): the same event never queues the same message twice, and the sending
    task skips a message already sent. An account message (a sign-in code, a password reset)
    is caused by no stored event: its key is unique to it.

    A queued email is due at `next_attempt_at`; a sending task that comes earlier, or for an
    email no longer queued, does nothing (`services.outgoing_emails`). An email with a lifetime
    (`expires_at`: a code or a link that stops working) is never sent after it, and its body is
    blanked once it is sent, failed or expired: the code does not stay in the database.
    """

    Kind = EmailKind

    class Status(models.TextChoices):
        QUEUED = "queued", _("Queued")
        SENT = "sent", _("Sent")
        FAILED = "failed", _("Failed")
        EXPIRED = "expired", _("Expired")

    key = models.CharField(_("key"), max_length=200, unique=True)
    kind = models.CharField(_("kind"), max_length=32, choices=EmailKind.choices)
    registration = _cause("Registration", _("notification"))
    campaign = _cause("AcceptanceCampaign", _("acceptance campaign"))
    terms_version = _cause("TermsVersion", _("terms of use version"))
    organisation = _cause("Organisation", _("organisation"))
    registry_check = _cause("RegistryCheck", _("registry check"))
    contacts_confirmation_round = _cause(
        "ContactsConfirmationRound", _("contacts confirmation round")
    )
    evidence_check = _cause("EvidenceCheck", _("evidence check"))
    to = models.EmailField(_("recipient"))
    language = models.CharField(_("language"), max_length=2)
    subject = models.CharField(_("subject"), max_length=300)
    body_text = models.TextField(_("text"))
    body_html = models.TextField(_("HTML"), blank=True)
    status = models.CharField(
        _("status"), max_length=16, choices=Status.choices, default=Status.QUEUED
    )
    attempts = models.PositiveSmallIntegerField(_("attempts"), default=0)
    last_error = models.TextField(_("last error"), blank=True)
    created_at = models.DateTimeField(_("created"), auto_now_add=True)
    sent_at = models.DateTimeField(_("sent"), null=True, blank=True)
    last_attempt_at = models.DateTimeField(_("last attempt"), null=True, blank=True)
    # Empty once the email is no longer queued.
    next_attempt_at = models.DateTimeField(
        _("next attempt"), null=True, blank=True, default=timezone.now
    )
    expires_at = models.DateTimeField(_("expires"), null=True, blank=True)

    # What caused an email, in the order its key names them.
    CAUSES = (
        "registration",
        "campaign",
        "terms_version",
        "organisation",
        "registry_check",
        "contacts_confirmation_round",
        "evidence_check",
    )

    class Meta:
        verbose_name = _("email")
        verbose_name_plural = _("emails")
        ordering = ["-created_at"]
        indexes = [
            models.Index(fields=["status", "created_at"]),
            # The sweep's question: which queued emails are overdue?
            models.Index(
                fields=["next_attempt_at"],
                condition=Q(status="queued"),
                name="onboarding_email_due",
            ),
        ]
        constraints = [
            models.CheckConstraint(
                condition=~Q(status="queued") | Q(next_attempt_at__isnull=False),
                name="onboarding_queued_email_is_due",
            )
        ]

    def __str__(self) -> str:
        return f"{self.subject} → {self.to}"

    @property
    def carries_a_secret(self) -> bool:
        """A code or link that acts for its recipient while it lives: seen by nobody else."""
        return self.expires_at is not None

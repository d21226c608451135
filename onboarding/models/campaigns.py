from __future__ import annotations

from django.conf import settings
from django.db import models
from django.utils.formats import date_format
from django.utils.text import format_lazy
from django.utils.translation import gettext_lazy as _
from django.utils.translation import ngettext

from onboarding.models.emails import OutgoingEmail
from onboarding.models.organisations import Organisation
from onboarding.models.terms import TermsVersion

DEFAULT_REMINDER_OFFSETS = [60, 30, 14, 7, 1]


def default_offsets() -> list[int]:
    return list(DEFAULT_REMINDER_OFFSETS)


def offsets_text(offsets: list[int]) -> str:
    """Reminder days as staff read and type them: "60, 30, 14, 7, 1"."""
    return ", ".join(str(days) for days in offsets)


class CampaignAudience(models.TextChoices):
    LEGACY = "legacy", _("Members with a joining agreement (migration)")
    MEMBERS = "members", _("Every member (re-acceptance)")


class AcceptanceCampaign(models.Model):
    """These organisations must accept this terms version by this deadline."""

    Audience = CampaignAudience

    terms_version = models.ForeignKey(
        TermsVersion,
        on_delete=models.PROTECT,
        related_name="campaigns",
        verbose_name=_("terms of use version"),
    )
    deadline = models.DateField(_("deadline"))
    reminder_offsets = models.JSONField(
        _("reminders, days before the deadline"),
        default=default_offsets,
        help_text=format_lazy(
            _("For example {days}."), days=offsets_text(DEFAULT_REMINDER_OFFSETS)
        ),
    )
    audience = models.CharField(_("audience"), max_length=16, choices=CampaignAudience.choices)
    created_at = models.DateTimeField(_("created"), auto_now_add=True)
    launched_at = models.DateTimeField(_("launched"), null=True, blank=True, editable=False)
    launched_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        editable=False,
        related_name="+",
        verbose_name=_("launched by"),
    )
    lapsed_at = models.DateTimeField(
        _("lapses processed"),
        null=True,
        blank=True,
        editable=False,
        help_text=_("When the targets without an acceptance were marked lapsed."),
    )

    class Meta:
        verbose_name = _("acceptance campaign")
        verbose_name_plural = _("acceptance campaigns")
        ordering = ["-deadline"]
        constraints = [
            models.UniqueConstraint(
                fields=["terms_version", "audience"],
                name="campaign_once_per_version_and_audience",
                violation_error_message=_("This version already has a campaign for this audience."),
            ),
        ]

    def __str__(self) -> str:
        return (
            f"{self.terms_version.version} – {self.get_audience_display()} – "
            f"{date_format(self.deadline)}"
        )

    @property
    def is_launched(self) -> bool:
        return self.launched_at is not None


class CampaignTarget(models.Model):
    """An organisation a launched campaign asks to accept; fixed when the campaign starts."""

    campaign = models.ForeignKey(
        AcceptanceCampaign,
        on_delete=models.CASCADE,
        related_name="targets",
        verbose_name=_("campaign"),
    )
    organisation = models.ForeignKey(
        Organisation,
        on_delete=models.PROTECT,
        related_name="campaign_targets",
        verbose_name=_("organisation"),
    )
    lapsed_at = models.DateTimeField(_("lapsed"), null=True, blank=True)

    class Meta:
        verbose_name = _("campaign target")
        verbose_name_plural = _("campaign targets")
        constraints = [
            models.UniqueConstraint(
                fields=["campaign", "organisation"], name="campaign_target_once"
            ),
        ]

    def __str__(self) -> str:
        return str(self.organisation)


class CampaignMessage(models.Model):
    """One message of a campaign to one recipient: its invitation, a reminder step (days before
    the deadline) or the lapse notice. Unique, and written in the same transaction that claims
    it, so nothing is sent twice and nothing claimed is lost."""

    INVITATION = "invitation"
    LAPSED = "lapsed"

    campaign = models.ForeignKey(
        AcceptanceCampaign,
        on_delete=models.CASCADE,
        related_name="messages",
        verbose_name=_("campaign"),
    )
    organisation = models.ForeignKey(
        Organisation,
        on_delete=models.PROTECT,
        related_name="campaign_messages",
        verbose_name=_("organisation"),
    )
    step = models.CharField(_("step"), max_length=16)
    recipient = models.EmailField(_("recipient"))
    email = models.OneToOneField(
        OutgoingEmail,
        on_delete=models.PROTECT,
        related_name="campaign_message",
        verbose_name=_("email"),
    )
    created_at = models.DateTimeField(_("created"), auto_now_add=True)

    class Meta:
        verbose_name = _("campaign message")
        verbose_name_plural = _("campaign messages")
        ordering = ["campaign", "organisation", "created_at"]
        constraints = [
            models.UniqueConstraint(
                fields=["campaign", "organisation", "step", "recipient"],
                name="campaign_message_once_per_step_and_recipient",
            ),
        ]

    def __str__(self) -> str:
        return f"{self.campaign_id}/{self.organisation_id}/{self.step} → {self.recipient}"

    @property
    def step_label(self) -> str:
        return step_label(self.step)


def step_label(step: str) -> str:
    """A campaign step as staff read it: invitation, N days before, lapse notice."""
    if step == CampaignMessage.INVITATION:
        return str(_("invitation"))
    if step == CampaignMessage.LAPSED:
        return str(_("lapse notice"))
    days = int(step)
    return ngettext("%(days)d day before", "%(days)d days before", days) % {"days": days}

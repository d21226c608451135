"""The yearly confirmation of contacts: each member in force is asked, once a year, whether
its contact persons are still correct."""

from __future__ import annotations

from django.db import models
from django.utils.translation import gettext_lazy as _

from onboarding.models.emails import OutgoingEmail
from onboarding.models.organisations import Organisation

# Reminders, days before a round's deadline; the deadline is ANSWER_DAYS after the start.
CONFIRMATION_REMINDER_OFFSETS = [21, 7]
ANSWER_DAYS = 30


def default_confirmation_offsets() -> list[int]:
    return list(CONFIRMATION_REMINDER_OFFSETS)


class ContactsConfirmationRound(models.Model):
    """One year's request to every member in force: are your contacts still correct?

    One per year (the unique year): the daily task that starts it can run any number of times.
    `launched_at`, `deadline` and `reminder_offsets` mean what they mean on a campaign, so the
    campaigns' reminder schedule (`services.campaigns.due_step`) applies unchanged."""

    year = models.PositiveSmallIntegerField(_("year"), unique=True)
    launched_at = models.DateTimeField(_("started"), auto_now_add=True)
    deadline = models.DateField(_("answer by"))
    reminder_offsets = models.JSONField(
        _("reminders, days before the deadline"), default=default_confirmation_offsets
    )

    class Meta:
        verbose_name = _("contacts confirmation round")
        verbose_name_plural = _("contacts confirmation rounds")
        ordering = ["-year"]

    def __str__(self) -> str:
        return str(self.year)


class ContactsConfirmationTarget(models.Model):
    """A member asked in a round; answered once someone it asked says "still correct" (who
    and when are kept), or once the organisation sends a notification after the round began."""

    round = models.ForeignKey(
        ContactsConfirmationRound,
        on_delete=models.CASCADE,
        related_name="targets",
        verbose_name=_("round"),
    )
    organisation = models.ForeignKey(
        Organisation,
        on_delete=models.PROTECT,
        related_name="contacts_confirmations",
        verbose_name=_("organisation"),
    )
    confirmed_at = models.DateTimeField(_("confirmed"), null=True, blank=True)
    confirmed_by_email = models.EmailField(_("confirmed by (email)"), blank=True)
    confirmed_by_name = models.CharField(_("confirmed by"), max_length=200, blank=True)

    class Meta:
        verbose_name = _("contacts confirmation")
        verbose_name_plural = _("contacts confirmations")
        ordering = ["-round__year", "organisation__name_fi"]
        constraints = [
            models.UniqueConstraint(
                fields=["round", "organisation"], name="contacts_confirmation_target_once"
            ),
            models.CheckConstraint(
                condition=models.Q(confirmed_at__isnull=True) | ~models.Q(confirmed_by_email=""),
                name="contacts_confirmation_says_who",
            ),
        ]

    def __str__(self) -> str:
        return f"{self.round} – {self.organisation}"


class ContactsConfirmationMessage(models.Model):
    """One request or reminder of a round to one recipient: unique, and written in the same
    transaction that claims it, so nothing is sent twice (as `CampaignMessage`)."""

    REQUEST = "request"

    round = models.ForeignKey(
        ContactsConfirmationRound,
        on_delete=models.CASCADE,
        related_name="messages",
        verbose_name=_("round"),
    )
    organisation = models.ForeignKey(
        Organisation,
        on_delete=models.PROTECT,
        related_name="contacts_confirmation_messages",
        verbose_name=_("organisation"),
    )
    step = models.CharField(_("step"), max_length=16)
    recipient = models.EmailField(_("recipient"))
    email = models.OneToOneField(
        OutgoingEmail,
        on_delete=models.PROTECT,
        related_name="contacts_confirmation_message",
        verbose_name=_("email"),
    )
    created_at = models.DateTimeField(_("created"), auto_now_add=True)

    class Meta:
        verbose_name = _("contacts confirmation message")
        verbose_name_plural = _("contacts confirmation messages")
        ordering = ["round", "organisation", "created_at"]
        constraints = [
            models.UniqueConstraint(
                fields=["round", "organisation", "step", "recipient"],
                name="contacts_confirmation_message_once",
            ),
        ]

    def __str__(self) -> str:
        return f"{self.round_id}/{self.organisation_id}/{self.step} → {self.recipient}"

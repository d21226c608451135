"""The yearly confirmation of contacts in the admin: who has not confirmed and since when,
and which members have a contact that needs a replacement because its email bounced."""

from __future__ import annotations

from django.contrib import admin
from django.db.models import Count, Q
from django.utils import timezone
from django.utils.formats import date_format
from django.utils.translation import gettext_lazy as _

from onboarding.admin.core import ReadOnlyAdminMixin
from onboarding.models import (
    ContactsConfirmationMessage,
    ContactsConfirmationRound,
    ContactsConfirmationTarget,
)
from onboarding.services.confirmations import confirmation_targets, with_contact_bounced


@admin.register(ContactsConfirmationRound)
class ContactsConfirmationRoundAdmin(ReadOnlyAdminMixin, admin.ModelAdmin):
    """One round a year, started by the daily task in CONTACTS_CONFIRMATION_MONTH."""

    list_display = ["year", "launched_at", "deadline", "target_count", "confirmed_count"]

    def get_queryset(self, request):
        return (
            super()
            .get_queryset(request)
            .annotate(
                target_count=Count("targets"),
                confirmed_count=Count("targets", filter=Q(targets__confirmed_at__isnull=False)),
            )
        )

    @admin.display(description=_("organisations asked"), ordering="target_count")
    def target_count(self, obj):
        return obj.target_count

    @admin.display(description=_("confirmed “still correct”"), ordering="confirmed_count")
    def confirmed_count(self, obj):
        return obj.confirmed_count


class AnsweredFilter(admin.SimpleListFilter):
    title = _("answered")
    parameter_name = "answered"

    def lookups(self, request, model_admin):
        return [("yes", _("Answered")), ("no", _("Not answered"))]

    def queryset(self, request, queryset):
        if self.value() in ("yes", "no"):
            return queryset.filter(answered=self.value() == "yes")
        return queryset


class BouncedContactFilter(admin.SimpleListFilter):
    title = _("email bounced")
    parameter_name = "bounced"

    def lookups(self, request, model_admin):
        return [("yes", _("A contact needs a replacement (email bounced)"))]

    def queryset(self, request, queryset):
        if self.value() == "yes":
            return queryset.filter(contact_bounced=True)
        return queryset


@admin.register(ContactsConfirmationTarget)
class ContactsConfirmationTargetAdmin(ReadOnlyAdminMixin, admin.ModelAdmin):
    """Each member a round asked: whether it answered ("still correct", or a notification
    sent since the round began), and when it last confirmed in any round."""

    list_display = [
        "organisation",
        "round",
        "answer",
        "confirmed_at",
        "confirmed_by_name",
        "confirmed_by_email",
        "last_confirmed",
        "contact_bounced",
    ]
    list_filter = [AnsweredFilter, BouncedContactFilter, "round"]
    list_select_related = ["organisation", "round"]
    search_fields = ["organisation__name_fi", "organisation__oid", "confirmed_by_email"]

    def get_queryset(self, request):
        return with_contact_bounced(confirmation_targets())

    @admin.display(description=_("answer"), ordering="answered")
    def answer(self, obj):
        if obj.confirmed_at:
            return _("Still correct")
        if obj.notified_at:
            return _("Notification sent on %(date)s") % {
                "date": date_format(timezone.localdate(obj.notified_at))
            }
        return _("Not answered since %(date)s") % {
            "date": date_format(timezone.localdate(obj.round.launched_at))
        }

    @admin.display(description=_("last confirmed"), ordering="last_confirmed_at")
    def last_confirmed(self, obj):
        return (
            date_format(timezone.localdate(obj.last_confirmed_at)) if obj.last_confirmed_at else "–"
        )

    @admin.display(
        description=_("a contact needs a replacement (email bounced)"),
        boolean=True,
        ordering="contact_bounced",
    )
    def contact_bounced(self, obj):
        return obj.contact_bounced


@admin.register(ContactsConfirmationMessage)
class ContactsConfirmationMessageAdmin(ReadOnlyAdminMixin, admin.ModelAdmin):
    """Every request and reminder claimed, with its email's fate."""

    list_display = ["recipient", "organisation", "step", "round", "email_status", "created_at"]
    list_filter = ["step", "email__status", "round"]
    list_select_related = ["organisation", "round", "email"]
    search_fields = ["recipient", "organisation__name_fi", "organisation__oid"]

    @admin.display(description=_("email"), ordering="email__status")
    def email_status(self, obj):
        return obj.email.get_status_display()

"""Campaigns in the admin: create, launch, and follow who has accepted, who is pending."""

from __future__ import annotations

import csv

from django import forms
from django.contrib import admin, messages
from django.core.exceptions import PermissionDenied, ValidationError
from django.http import HttpResponse
from django.shortcuts import get_object_or_404
from django.template.response import TemplateResponse
from django.urls import path, reverse
from django.utils import timezone
from django.utils.html import format_html
from django.utils.translation import gettext_lazy as _
from django.utils.translation import ngettext

from onboarding import selectors
from onboarding.admin.core import ReadOnlyAdminMixin
from onboarding.admin.exports import CampaignTargetResource, ExportAdminMixin
from onboarding.charts import cumulative_chart
from onboarding.models import (
    AcceptanceCampaign,
    CampaignMessage,
    CampaignTarget,
    TermsVersion,
)
from onboarding.models.campaigns import default_offsets, offsets_text
from onboarding.services.campaigns import (
    campaign_check_deadline,
    campaign_create,
    campaign_launch,
    campaign_targets_add,
    campaign_validate,
)
from onboarding.spreadsheets import spreadsheet_safe

LISTED = 200  # organisations named on the report page; the CSV has them all


class OffsetsField(forms.CharField):
    """Reminder days as staff type them (`offsets_text`): whole days, comma-separated."""

    def prepare_value(self, value):
        return offsets_text(value) if isinstance(value, list) else value

    def to_python(self, value):
        try:
            days = sorted(
                {int(part) for part in str(value).split(",") if part.strip()}, reverse=True
            )
        except ValueError as error:
            raise ValidationError(_("Write whole numbers of days separated by commas.")) from error
        if not days or days[-1] <= 0:
            raise ValidationError(_("Write at least one positive number of days."))
        return days


class CampaignForm(forms.ModelForm):
    reminder_offsets = OffsetsField(
        label=_("Reminders, days before the deadline"), initial=default_offsets
    )

    class Meta:
        model = AcceptanceCampaign
        fields = ["terms_version", "audience", "deadline", "reminder_offsets"]

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        if "terms_version" in self.fields:  # a launched campaign is shown read-only
            self.fields["terms_version"].queryset = TermsVersion.objects.published()

    def clean_deadline(self):
        deadline = self.cleaned_data["deadline"]
        campaign_check_deadline(deadline)
        return deadline

    def _post_clean(self):
        """The service's rules, on the campaign as it would be saved, shown on the form."""
        super()._post_clean()
        if self.errors:
            return
        try:
            campaign_validate(self.instance)
        except ValidationError as error:
            self.add_error(None, error.messages)


@admin.register(AcceptanceCampaign)
class AcceptanceCampaignAdmin(admin.ModelAdmin):
    form = CampaignForm
    list_display = ["__str__", "deadline", "launched_at", "lapsed_at", "report_link"]
    list_filter = ["audience", ("launched_at", admin.EmptyFieldListFilter)]
    list_select_related = ["terms_version"]
    search_fields = ["terms_version__version"]
    actions = ["launch", "add_late_targets"]

    @admin.display(description=_("report"))
    def report_link(self, obj):
        url = reverse("admin:onboarding_acceptancecampaign_report", args=[obj.pk])
        return format_html('<a href="{}">{}</a>', url, _("Follow the campaign"))

    def has_change_permission(self, request, obj=None):
        if obj is not None and obj.is_launched:
            return False
        return super().has_change_permission(request, obj)

    def has_delete_permission(self, request, obj=None):
        if obj is not None and obj.is_launched:
            return False
        return super().has_delete_permission(request, obj)

    def get_actions(self, request):
        actions = super().get_actions(request)
        actions.pop("delete_selected", None)
        return actions

    def save_model(self, request, obj, form, change):
        if change:
            return super().save_model(request, obj, form, change)
        created = campaign_create(
            terms_version=obj.terms_version,
            deadline=obj.deadline,
            audience=obj.audience,
            offsets=obj.reminder_offsets,
        )
        obj.pk = created.pk

    @admin.action(description=_("Launch: invite the targets now"), permissions=["change"])
    def launch(self, request, queryset):
        for campaign in queryset.filter(launched_at__isnull=True):
            try:
                count = campaign_launch(campaign_id=campaign.pk, by=request.user)
            except ValidationError as error:
                self.message_user(
                    request, f"{campaign}: {' '.join(error.messages)}", messages.ERROR
                )
            else:
                self.message_user(
                    request,
                    ngettext(
                        "%(campaign)s: %(count)d organisation invited.",
                        "%(campaign)s: %(count)d organisations invited.",
                        count,
                    )
                    % {"campaign": campaign, "count": count},
                    messages.SUCCESS,
                )

    @admin.action(
        description=_("Add the organisations that became members since the launch and invite them"),
        permissions=["change"],
    )
    def add_late_targets(self, request, queryset):
        for campaign in queryset.select_related("terms_version"):
            try:
                added = campaign_targets_add(campaign_id=campaign.pk)
            except ValidationError as error:
                self.message_user(
                    request, f"{campaign}: {' '.join(error.messages)}", messages.ERROR
                )
                continue
            count = len(added.names)
            if not count:
                self.message_user(
                    request,
                    _("%(campaign)s: it already asks every organisation it would ask today.")
                    % {"campaign": campaign},
                    messages.INFO,
                )
                continue
            self.message_user(
                request,
                ngettext(
                    "%(campaign)s: %(count)d organisation added and invited: %(names)s.",
                    "%(campaign)s: %(count)d organisations added and invited: %(names)s.",
                    count,
                )
                % {"campaign": campaign, "count": count, "names": added.first_names},
                messages.SUCCESS,
            )

    def get_urls(self):
        view = self.admin_site.admin_view
        return [
            path(
                "<int:pk>/report/",
                view(self.report_view),
                name="onboarding_acceptancecampaign_report",
            ),
            path(
                "<int:pk>/pending.csv",
                view(self.pending_csv),
                name="onboarding_acceptancecampaign_pending_csv",
            ),
            *super().get_urls(),
        ]

    def report_view(self, request, pk: int):
        campaign = get_object_or_404(
            AcceptanceCampaign.objects.select_related("terms_version"), pk=pk
        )
        if not self.has_view_permission(request, campaign):
            raise PermissionDenied
        report = selectors.campaign_report(campaign)
        start = timezone.localdate(campaign.launched_at) if campaign.launched_at else None
        chart = None
        if start:
            end = max(
                campaign.deadline, timezone.localdate(), *(d for d, _n in report.acceptances_by_day)
            )
            chart = cumulative_chart(
                report.acceptances_by_day, start=start, end=end, deadline=campaign.deadline
            )
        unanswered = selectors.campaign_unanswered_targets(campaign)
        return TemplateResponse(
            request,
            "admin/onboarding/acceptancecampaign/report.html",
            {
                **self.admin_site.each_context(request),
                "title": str(campaign),
                "opts": self.model._meta,
                "campaign": campaign,
                "report": report,
                "chart": chart,
                "unanswered": unanswered[:LISTED],
                "unanswered_count": report.pending + report.lapsed,
                "listed": LISTED,
            },
        )

    def pending_csv(self, request, pk: int):
        """Who has not accepted (pending, or lapsed and free to accept late), with their
        contacts: one row per contact person."""
        campaign = get_object_or_404(
            AcceptanceCampaign.objects.select_related("terms_version"), pk=pk
        )
        if not (
            self.has_view_permission(request, campaign)
            and request.user.has_perm("onboarding.view_contactperson")
        ):
            raise PermissionDenied
        response = HttpResponse(content_type="text/csv; charset=utf-8")
        response["Content-Disposition"] = (
            f'attachment; filename="campaign-{campaign.pk}-pending.csv"'
        )
        response.write("\ufeff")  # so that Excel reads UTF-8
        writer = csv.writer(response, delimiter=";")
        writer.writerow(selectors.PENDING_COLUMNS)
        rows = selectors.campaign_pending_rows(campaign)
        writer.writerows(spreadsheet_safe(row) for row in rows)
        return response


class CampaignFilter(admin.SimpleListFilter):
    """By campaign; the campaigns are named by their terms version, read in one query."""

    title = _("acceptance campaign")
    parameter_name = "campaign"

    def lookups(self, request, model_admin):
        campaigns = AcceptanceCampaign.objects.select_related("terms_version")
        return [(campaign.pk, str(campaign)) for campaign in campaigns]

    def queryset(self, request, queryset):
        if self.value() and self.value().isdecimal():
            return queryset.filter(campaign_id=int(self.value()))
        return queryset


@admin.register(CampaignTarget)
class CampaignTargetAdmin(ExportAdminMixin, ReadOnlyAdminMixin, admin.ModelAdmin):
    """Who each campaign asks; written by the launch, read here."""

    export_resource = CampaignTargetResource
    export_select_related = ("organisation", "campaign__terms_version")

    list_display = ["organisation", "campaign", "lapsed_at"]
    list_filter = [CampaignFilter, ("lapsed_at", admin.EmptyFieldListFilter)]
    list_select_related = ["organisation", "campaign__terms_version"]
    search_fields = ["organisation__name_fi", "organisation__oid"]


@admin.register(CampaignMessage)
class CampaignMessageAdmin(ReadOnlyAdminMixin, admin.ModelAdmin):
    """Every campaign message claimed, with its email's fate: the record that nothing is
    sent twice or lost."""

    list_display = [
        "recipient",
        "organisation",
        "step_label",
        "campaign",
        "email_status",
        "created_at",
    ]
    list_filter = ["step", "email__status", CampaignFilter]
    list_select_related = ["organisation", "campaign__terms_version", "email"]
    search_fields = ["recipient", "organisation__name_fi", "organisation__oid"]

    @admin.display(description=_("email"), ordering="email__status")
    def email_status(self, obj):
        return obj.email.get_status_display()

from __future__ import annotations

from django.contrib import admin
from django.utils.html import format_html_join
from django.utils.translation import gettext_lazy as _

from onboarding.admin.core import ReadOnlyAdminMixin
from onboarding.models import EvidenceCheck


@admin.register(EvidenceCheck)
class EvidenceCheckAdmin(ReadOnlyAdminMixin, admin.ModelAdmin):
    """The nightly evidence checks (`services.evidence`), as staff read an alert's details."""

    list_display = ["checked_at", "ok", "records", "head_sequence"]
    list_filter = ["ok"]
    date_hierarchy = "checked_at"
    fields = ["checked_at", "ok", "records", "head_sequence", "head_sha256", "problems_found"]
    readonly_fields = fields

    @admin.display(description=_("problems"))
    def problems_found(self, check: EvidenceCheck):
        return format_html_join("", "<p>{}</p>", ((line,) for line in check.problem_lines))

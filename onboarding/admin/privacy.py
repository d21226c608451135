"""A person's data in the admin: staff download everything held about an email address (JSON),
and erase it after a confirmation page that shows what changes and what is kept as evidence.

Reached from the contact persons' list (its "A person's data" link and two actions). Exporting
needs the right to view contact persons; erasing, which cannot be undone, the right to delete
them (superusers: the Reviewers group may export but not erase)."""

from __future__ import annotations

import json

from django import forms
from django.contrib import admin, messages
from django.core.exceptions import PermissionDenied, ValidationError
from django.core.serializers.json import DjangoJSONEncoder
from django.http import HttpResponse
from django.shortcuts import redirect
from django.template.response import TemplateResponse
from django.urls import path, reverse
from django.utils import timezone
from django.utils.translation import gettext_lazy as _
from django.utils.translation import ngettext

from onboarding.models import PersonErasure
from onboarding.services.privacy import (
    EVIDENCE_KEPT,
    NOTHING_TO_ERASE,
    person_data_export,
    person_erase,
    person_erasure_plan,
)


class PersonForm(forms.Form):
    email = forms.EmailField(
        label=_("The person's email address"),
        help_text=_("Every contact row, email and account with this address, in any letter case."),
    )


class PersonDataAdminMixin:
    """For the ContactPerson admin: the personal data page, its export and its erasure."""

    def get_urls(self):
        name = f"{self.opts.app_label}_{self.opts.model_name}_person_data"
        return [
            path("person-data/", self.admin_site.admin_view(self.person_data_view), name=name),
            *super().get_urls(),
        ]

    def person_data_view(self, request):
        """GET: the form. POST with "export": the JSON file; with "review": the confirmation
        page; with "erase": the erasure, then back to the list of erasures."""
        if not self.has_view_permission(request):
            raise PermissionDenied
        form = PersonForm(request.POST or None)
        if request.method == "POST" and form.is_valid():
            email = form.cleaned_data["email"]
            if "export" in request.POST:
                return person_data_download(email)
            if not self.has_delete_permission(request):
                raise PermissionDenied
            try:
                if "erase" in request.POST:
                    return self._erase(request, email)
                plan = person_erasure_plan(email=email)
            except ValidationError as error:
                form.add_error("email", error)
            else:
                return self._confirmation(request, form, plan)
        return self._page(request, form)

    def _page(self, request, form, **context):
        return TemplateResponse(
            request,
            "admin/onboarding/contactperson/person_data.html",
            {
                **self.admin_site.each_context(request),
                "opts": self.opts,
                "title": _("A person's data"),
                "form": form,
                "may_erase": self.has_delete_permission(request),
                "evidence_kept": EVIDENCE_KEPT,
                "nothing_to_erase": NOTHING_TO_ERASE,
                **context,
            },
        )

    def _confirmation(self, request, form, plan):
        return self._page(request, form, plan=plan, title=_("Erase a person's data?"))

    def _erase(self, request, email):
        result = person_erase(email=email, by=request.user)
        changed = sum(result.plan.changed.values())
        self.message_user(
            request,
            ngettext(
                "The person's data was erased: %(count)d record pseudonymised.",
                "The person's data was erased: %(count)d records pseudonymised.",
                changed,
            )
            % {"count": changed},
            messages.SUCCESS,
        )
        if result.plan.notifications_kept or result.plan.acceptances_kept:
            self.message_user(request, EVIDENCE_KEPT, messages.INFO)
        return redirect(reverse("admin:onboarding_personerasure_changelist"))

    @admin.action(description=_("Export the selected person's data (JSON)"), permissions=["view"])
    def export_person_data(self, request, queryset):
        email = self._one_person(request, queryset)
        return person_data_download(email) if email else None

    @admin.action(description=_("Erase the selected person's data"), permissions=["delete"])
    def erase_person_data(self, request, queryset):
        email = self._one_person(request, queryset)
        if not email:
            return None
        form = PersonForm({"email": email})
        form.is_valid()
        try:
            plan = person_erasure_plan(email=email)
        except ValidationError as error:
            self.message_user(request, " ".join(error.messages), messages.ERROR)
            return None
        return self._confirmation(request, form, plan)

    def _one_person(self, request, queryset) -> str | None:
        emails = {email.lower() for email in queryset.values_list("email", flat=True)}
        if len(emails) == 1:
            return emails.pop()
        self.message_user(
            request, _("Choose the rows of one person (one email address)."), messages.ERROR
        )
        return None


def person_data_download(email: str) -> HttpResponse:
    document = person_data_export(email=email)
    response = HttpResponse(
        json.dumps(document, cls=DjangoJSONEncoder, ensure_ascii=False, indent=2),
        content_type="application/json; charset=utf-8",
    )
    filename = f"mpassid-person-data-{timezone.localdate():%Y-%m-%d}.json"
    response["Content-Disposition"] = f'attachment; filename="{filename}"'
    return response


@admin.register(PersonErasure)
class PersonErasureAdmin(admin.ModelAdmin):
    """Who erased a person's data and when; the erased data itself is nowhere. Written only
    by the erasure: never added, changed or deleted here."""

    list_display = ["erased_at", "erased_by", "pseudonym", "rows_changed"]
    list_select_related = ["erased_by"]
    date_hierarchy = "erased_at"

    def has_add_permission(self, request):
        return False

    def has_change_permission(self, request, obj=None):
        return False

    def has_delete_permission(self, request, obj=None):
        return False

    @admin.display(description=_("rows changed"))
    def rows_changed(self, obj):
        return sum(obj.changed.values())

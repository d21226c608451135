"""Import of legacy members in the admin: upload → preview (a dry run) → confirm.

The uploaded file waits in the media storage (its name in the session) between the preview
and the confirmation, under a random token that the confirmation form carries; the
confirmation checks the file again and imports it in one transaction. A file nobody confirms
is deleted after a day (services.import_uploads). Staff need the permission to add
organisations.
"""

from __future__ import annotations

import secrets
from pathlib import PurePath

from django import forms
from django.conf import settings
from django.contrib import messages
from django.core.exceptions import PermissionDenied, ValidationError
from django.db import IntegrityError
from django.http import HttpRequest, HttpResponse
from django.shortcuts import redirect
from django.template.defaultfilters import filesizeformat
from django.template.response import TemplateResponse
from django.urls import path, reverse
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy
from django.views.decorators.http import require_POST

from onboarding import selectors
from onboarding.legacy_import import (
    COLUMNS,
    OPTIONAL_COLUMNS,
    ParsedFile,
    parse_legacy_members,
)
from onboarding.services.import_uploads import import_upload_save, import_upload_take
from onboarding.services.legacy_members import ImportResult, legacy_members_import

ALLOWED_SUFFIXES = (".csv", ".xlsx")
SESSION_KEY = "onboarding_legacy_import"


def _max_size() -> str:
    return filesizeformat(settings.IMPORT_MAX_FILE_SIZE)


class LegacyImportForm(forms.Form):
    file = forms.FileField(label=gettext_lazy("File"))

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["file"].help_text = _(
            "CSV (UTF-8, separated by commas or semicolons) or an Excel workbook (.xlsx), "
            "at most %(size)s."
        ) % {"size": _max_size()}

    def clean_file(self):
        upload = self.cleaned_data["file"]
        if PurePath(upload.name).suffix.lower() not in ALLOWED_SUFFIXES:
            raise forms.ValidationError(
                _("Upload a CSV file (.csv) or an Excel workbook (.xlsx)."), code="suffix"
            )
        if upload.size > settings.IMPORT_MAX_FILE_SIZE:  # before a byte of it is read
            raise forms.ValidationError(
                _("The file is too large: at most %(size)s.") % {"size": _max_size()},
                code="too_large",
            )
        return upload


class LegacyImportAdminMixin:
    """Adds the import pages to OrganisationAdmin: put it before SimpleHistoryAdmin."""

    legacy_import_template = "admin/onboarding/organisation/import.html"
    legacy_import_preview_template = "admin/onboarding/organisation/import_preview.html"

    def get_urls(self):
        opts = self.model._meta
        name = f"{opts.app_label}_{opts.model_name}_import"
        own = [
            path(
                "import/",
                self.admin_site.admin_view(self.legacy_import_view),
                name=name,
            ),
            path(
                "import/confirm/",
                self.admin_site.admin_view(require_POST(self.legacy_import_confirm_view)),
                name=f"{name}_confirm",
            ),
        ]
        return own + super().get_urls()  # before "<path:object_id>/", which would take them

    def legacy_import_view(self, request: HttpRequest) -> HttpResponse:
        """The upload form; a valid upload is checked and shown as a dry run, writing nothing."""
        self._check_import_permission(request)
        form = LegacyImportForm(request.POST or None, request.FILES or None)
        if request.method == "POST" and form.is_valid():
            upload = form.cleaned_data["file"]
            data = b"".join(upload.chunks())
            parsed = parse_legacy_members(data)
            result = None
            token = None
            request.session.pop(SESSION_KEY, None)
            if parsed.is_valid:
                # The preview says, per running campaign, whom the file would add to it.
                running = list(
                    selectors.campaigns_taking_late_targets().values_list("pk", flat=True)
                )
                result = legacy_members_import(rows=parsed.rows, dry_run=True, campaign_ids=running)
                token, path = import_upload_save(data=data)
                request.session[SESSION_KEY] = {"token": token, "name": upload.name, "path": path}
            return self._preview(request, upload.name, parsed, result, token)
        context = {
            **self._import_context(request, _("Import legacy members")),
            "form": form,
            "columns": [(column, column not in OPTIONAL_COLUMNS) for column in COLUMNS],
        }
        return TemplateResponse(request, self.legacy_import_template, context)

    def legacy_import_confirm_view(self, request: HttpRequest) -> HttpResponse:
        """Imports the file shown in the preview, after checking it again."""
        self._check_import_permission(request)
        pending = request.session.get(SESSION_KEY)
        if not pending or not secrets.compare_digest(
            str(pending.get("token", "")), request.POST.get("token", "")
        ):
            messages.error(
                request,
                _("The uploaded file is no longer waiting to be imported: upload it again."),
            )
            return redirect(self._import_url())
        try:
            data = import_upload_take(name=pending["path"])
        except (KeyError, OSError):  # deleted as abandoned after a day, or storage trouble
            request.session.pop(SESSION_KEY, None)
            messages.error(request, _("The uploaded file was lost: upload it again."))
            return redirect(self._import_url())
        parsed = parse_legacy_members(data)
        if not parsed.is_valid:
            request.session.pop(SESSION_KEY, None)
            return self._preview(request, pending.get("name", ""), parsed, None, None)
        campaign_ids = [int(pk) for pk in request.POST.getlist("campaign") if pk.isdecimal()]
        try:
            result = legacy_members_import(rows=parsed.rows, campaign_ids=campaign_ids)
        except ValidationError as error:  # a campaign chosen takes no more organisations
            messages.error(request, " ".join(error.messages))
            request.session.pop(SESSION_KEY, None)
            return redirect(self._import_url())
        except IntegrityError:
            # Another import created the same organisations meanwhile; nothing was written.
            messages.error(
                request,
                _(
                    "Another import changed the same organisations at the "
                    "same time. Nothing was imported: upload the file again."
                ),
            )
            request.session.pop(SESSION_KEY, None)
            return redirect(self._import_url())
        request.session.pop(SESSION_KEY, None)
        messages.success(
            request,
            " ".join([_("The legacy members were imported."), *result.summary_lines()]),
        )
        opts = self.model._meta
        return redirect(f"admin:{opts.app_label}_{opts.model_name}_changelist")

    def _preview(
        self,
        request: HttpRequest,
        name: str,
        parsed: ParsedFile,
        result: ImportResult | None,
        token: str | None,
    ) -> TemplateResponse:
        context = {
            **self._import_context(request, _("Import legacy members: check")),
            "file_name": name,
            "parsed": parsed,
            "errors": parsed.first_errors,
            "error_count": len(parsed.errors),
            "result": result,
            "counts": result.by_kind() if result else [],
            "token": token,
            "confirm_url": self._import_url("confirm"),
        }
        return TemplateResponse(request, self.legacy_import_preview_template, context)

    def _import_context(self, request: HttpRequest, title: str) -> dict:
        return {
            **self.admin_site.each_context(request),
            "title": title,
            "opts": self.model._meta,
            "import_url": self._import_url(),
        }

    def _import_url(self, suffix: str = "") -> str:
        opts = self.model._meta
        name = f"admin:{opts.app_label}_{opts.model_name}_import"
        return reverse(f"{name}_{suffix}" if suffix else name, current_app=self.admin_site.name)

    def _check_import_permission(self, request: HttpRequest) -> None:
        if not self.has_add_permission(request):
            raise PermissionDenied

"""Staff exports: what an admin changelist shows, with its filters, search and ordering, as a
CSV or XLSX file.

The columns are django-import-export resources (one declaration per model, headers in the
admin's language); the files are written by its tablib formats. Every text cell goes through
`spreadsheet_cell`, so nothing typed by an organisation runs as a formula in either format."""

from __future__ import annotations

from django.contrib.admin.options import IncorrectLookupParameters
from django.core.exceptions import PermissionDenied
from django.db.models import Model
from django.http import Http404, HttpRequest, HttpResponse, HttpResponseBadRequest
from django.template.defaultfilters import yesno
from django.urls import path
from django.utils import timezone
from django.utils.translation import gettext_lazy as _
from import_export import resources, widgets
from import_export.fields import Field
from import_export.formats.base_formats import CSV, XLSX

from onboarding.models import CampaignTarget, ContactPerson, Organisation, TermsAcceptance
from onboarding.models.organisations import Sector
from onboarding.models.registry import RegistryState
from onboarding.spreadsheets import spreadsheet_cell

DATE = widgets.DateWidget(format="%Y-%m-%d")
DATETIME = widgets.DateTimeWidget(format="%Y-%m-%d %H:%M:%S")  # in the portal's time zone


class YesNoWidget(widgets.Widget):
    def render(self, value, obj=None, **kwargs):
        return yesno(value)  # "yes"/"no" in the admin's language


def label(model: type[Model], name: str):
    """A column's header: the model field's own (translated) name."""
    return model._meta.get_field(name).verbose_name


def column(model: type[Model], attribute: str, widget: widgets.Widget | None = None) -> Field:
    """A column for `attribute` of `model` (`organisation__oid` follows a relation), headed by
    the last field's name."""
    *relations, name = attribute.split("__")
    for relation in relations:
        model = model._meta.get_field(relation).related_model
    return Field(attribute=attribute, column_name=label(model, name), widget=widget)


class SpreadsheetResource(resources.Resource):
    """Export-only columns; every text cell made inert for spreadsheets."""

    def export_field(self, field, instance, **kwargs):
        value = super().export_field(field, instance, **kwargs)
        return spreadsheet_cell(value) if isinstance(value, str) else value


class OrganisationResource(SpreadsheetResource):
    """What the organisation changelist shows (its queryset's annotations included)."""

    name_fi = column(Organisation, "name_fi")
    name_sv = column(Organisation, "name_sv")
    name_en = column(Organisation, "name_en")
    oid = column(Organisation, "oid")
    business_id = column(Organisation, "business_id")
    kind = Field(attribute="get_kind_display", column_name=label(Organisation, "kind"))
    membership = Field(
        attribute="get_membership_display", column_name=label(Organisation, "membership")
    )
    sectors = Field(column_name=label(Organisation, "sectors"))
    active_contacts = Field(attribute="active_contact_count", column_name=_("active contacts"))
    latest_terms = Field(attribute="latest_terms_version", column_name=_("latest accepted terms"))
    registry = Field(column_name=_("organisation registry"))
    test = Field(attribute="is_test", column_name=_("test organisation"), widget=YesNoWidget())
    created_at = column(Organisation, "created_at", DATETIME)

    def dehydrate_sectors(self, organisation: Organisation) -> str:
        labels = dict(Sector.choices)
        return ", ".join(str(labels.get(code, code)) for code in organisation.sectors)

    def dehydrate_registry(self, organisation: Organisation) -> str:
        return str(RegistryState(organisation.registry_state).label)


class ContactPersonResource(SpreadsheetResource):
    organisation = column(ContactPerson, "organisation__name_fi")
    oid = column(ContactPerson, "organisation__oid")
    name = column(ContactPerson, "name")
    email = column(ContactPerson, "email")
    phone = column(ContactPerson, "phone")
    role = Field(attribute="get_role_display", column_name=label(ContactPerson, "role"))
    language = Field(attribute="get_language_display", column_name=label(ContactPerson, "language"))
    is_active = column(ContactPerson, "is_active", YesNoWidget())
    created_at = column(ContactPerson, "created_at", DATETIME)
    updated_at = column(ContactPerson, "updated_at", DATETIME)


class TermsAcceptanceResource(SpreadsheetResource):
    """The evidence of each acceptance: who accepted which text, when, from where."""

    organisation = Field(
        attribute="organisation__name_fi", column_name=label(TermsAcceptance, "organisation")
    )
    oid = column(TermsAcceptance, "organisation__oid")
    terms_version = Field(
        attribute="terms_version__version", column_name=label(TermsAcceptance, "terms_version")
    )
    accepted_at = column(TermsAcceptance, "accepted_at", DATETIME)
    accepter_name = column(TermsAcceptance, "accepter_name")
    accepter_title = column(TermsAcceptance, "accepter_title")
    authority_confirmed = column(TermsAcceptance, "authority_confirmed", YesNoWidget())
    language = Field(
        attribute="get_language_display", column_name=label(TermsAcceptance, "language")
    )
    content_sha256 = column(TermsAcceptance, "content_sha256")
    ip_address = column(TermsAcceptance, "ip_address")
    user_agent = column(TermsAcceptance, "user_agent")
    in_force_from = column(TermsAcceptance, "in_force_from", DATE)


class CampaignTargetResource(SpreadsheetResource):
    campaign = Field(attribute="campaign", column_name=label(CampaignTarget, "campaign"))
    organisation = Field(
        attribute="organisation__name_fi", column_name=label(CampaignTarget, "organisation")
    )
    oid = column(CampaignTarget, "organisation__oid")
    membership = Field(
        attribute="organisation__get_membership_display",
        column_name=label(Organisation, "membership"),
    )
    lapsed_at = column(CampaignTarget, "lapsed_at", DATETIME)


def csv_file(dataset) -> bytes:
    # The BOM makes Excel read UTF-8; the semicolon is what Excel expects in Finland (and
    # what the campaign's pending list uses).
    return ("\ufeff" + CSV().export_data(dataset, delimiter=";")).encode("utf-8")


def xlsx_file(dataset) -> bytes:
    return XLSX().export_data(dataset)


FORMATS = {
    "csv": (csv_file, "text/csv; charset=utf-8"),
    "xlsx": (xlsx_file, XLSX.CONTENT_TYPE),
}


class ExportAdminMixin:
    """Adds "Export CSV" and "Export XLSX" to a changelist: the rows the list would show with
    the same filters, search and ordering (all pages), for whoever may view the model."""

    export_resource: type[SpreadsheetResource]
    export_select_related: tuple[str, ...] = ()
    change_list_template = "admin/onboarding/exportable_change_list.html"

    def get_urls(self):
        name = f"{self.opts.app_label}_{self.opts.model_name}_export"
        return [
            path(
                "export.<str:file_format>",
                self.admin_site.admin_view(self.export_view),
                name=name,
            ),
            *super().get_urls(),
        ]

    def export_view(self, request: HttpRequest, file_format: str) -> HttpResponse:
        if not self.has_view_permission(request):
            raise PermissionDenied
        if file_format not in FORMATS:
            raise Http404
        try:
            changelist = self.get_changelist_instance(request)
        except IncorrectLookupParameters:
            return HttpResponseBadRequest(_("The filters of this list are not valid."))
        queryset = changelist.get_queryset(request)
        if self.export_select_related:
            queryset = queryset.select_related(*self.export_select_related)
        dataset = self.export_resource().export(queryset)
        dataset.title = str(self.opts.verbose_name_plural).capitalize()  # the XLSX sheet's name
        write, content_type = FORMATS[file_format]
        response = HttpResponse(write(dataset), content_type=content_type)
        filename = f"{self.opts.model_name}-{timezone.localdate():%Y-%m-%d}.{file_format}"
        response["Content-Disposition"] = f'attachment; filename="{filename}"'
        return response

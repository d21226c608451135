from __future__ import annotations

from django.contrib import admin
from django.contrib.admin.utils import unquote
from django.core.exceptions import PermissionDenied
from django.forms.models import BaseInlineFormSet
from django.utils.translation import gettext_lazy as _
from simple_history.admin import SimpleHistoryAdmin

from onboarding import selectors
from onboarding.admin.exports import (
    ContactPersonResource,
    ExportAdminMixin,
    OrganisationResource,
    TermsAcceptanceResource,
)
from onboarding.admin.legacy_import import LegacyImportAdminMixin
from onboarding.admin.privacy import PersonDataAdminMixin
from onboarding.models import (
    ContactPerson,
    LegacyContract,
    Organisation,
    RegistryCheck,
    RegistryEntry,
    TermsAcceptance,
)
from onboarding.models.registry import RegistryState
from onboarding.services.confirmations import with_bounce


class HistoryAdmin(SimpleHistoryAdmin):
    """Staff read the history (who, when, what); reverting would go around the services and
    rewrite evidence, so a historical version can be viewed but never saved back."""

    def history_view(self, request, object_id, extra_context=None):
        if self.get_object(request, unquote(object_id)) is None:  # gone, or not an id at all
            return self._get_obj_does_not_exist_redirect(request, self.opts, object_id)
        return super().history_view(request, object_id, extra_context)

    def history_form_view(self, request, object_id, version_id, extra_context=None):
        if request.method == "POST":
            raise PermissionDenied
        if self.get_object(request, unquote(object_id)) is None or not version_id.isdigit():
            return self._get_obj_does_not_exist_redirect(request, self.opts, object_id)
        return super().history_form_view(request, object_id, version_id, extra_context)


class ReadOnlyAdminMixin:
    """Records staff may read but never add, change or delete (evidence, sent emails)."""

    def has_add_permission(self, request, obj=None):
        return False

    def has_change_permission(self, request, obj=None):
        return False

    def has_delete_permission(self, request, obj=None):
        return False


class TestOrganisationFilter(admin.SimpleListFilter):
    title = _("test organisation")
    parameter_name = "test"

    def lookups(self, request, model_admin):
        return [("yes", _("Test organisations")), ("no", _("Real organisations"))]

    def queryset(self, request, queryset):
        if self.value() == "yes":
            return queryset.test()
        if self.value() == "no":
            return queryset.real()
        return queryset


class RegistryStateFilter(admin.SimpleListFilter):
    """By what OPH's organisation registry last said (`RegistryEntry.state`); "closed in the
    registry" is the staff list of members to act on."""

    title = _("organisation registry")
    parameter_name = "registry"

    def lookups(self, request, model_admin):
        return RegistryState.choices

    def queryset(self, request, queryset):
        if self.value() in RegistryState.values:
            return queryset.filter(registry_state=self.value())
        return queryset


class ReadOnlyInline(admin.TabularInline):
    extra = 0
    can_delete = False
    show_change_link = True

    def has_add_permission(self, request, obj=None):
        return False

    def has_change_permission(self, request, obj=None):
        return False


class ContactPersonFormSet(BaseInlineFormSet):
    """An email is active once per role (the database's rule), said at the row, not as a 500."""

    def clean(self):
        super().clean()
        seen = set()
        for form in self.forms:
            data = getattr(form, "cleaned_data", None)
            if not data or data.get("DELETE") or not data.get("is_active"):
                continue
            key = ((data.get("email") or "").lower(), data.get("role"))
            if key in seen:
                form.add_error(
                    "email", _("This person is already an active contact in the same role.")
                )
            seen.add(key)


class ContactPersonInline(admin.TabularInline):
    model = ContactPerson
    formset = ContactPersonFormSet
    extra = 0
    fields = ["name", "email", "phone", "role", "language", "is_active"]


class LegacyContractInline(admin.TabularInline):
    model = LegacyContract
    extra = 0


class TermsAcceptanceInline(ReadOnlyInline):
    model = TermsAcceptance
    fields = [
        "terms_version",
        "accepter_name",
        "accepter_title",
        "accepted_at",
        "in_force_from",
        "language",
    ]
    readonly_fields = fields

    def get_queryset(self, request):
        return super().get_queryset(request).select_related("organisation", "terms_version")


@admin.register(Organisation)
class OrganisationAdmin(ExportAdminMixin, LegacyImportAdminMixin, HistoryAdmin):
    export_resource = OrganisationResource
    change_list_template = "admin/onboarding/organisation/exportable_change_list.html"
    list_display = [
        "name_fi",
        "oid",
        "kind",
        "membership",
        "business_id",
        "active_contacts",
        "latest_terms",
        "registry",
        "is_test",
    ]
    list_filter = ["kind", "membership", RegistryStateFilter, TestOrganisationFilter]
    search_fields = ["oid", "name_fi", "name_sv", "name_en", "business_id", "contacts__email"]
    # Membership and notified test-learner use change only through notifications and campaigns.
    readonly_fields = [
        "membership",
        "test_learner_number_use",
        "test_learner_numbers_notified_at",
        "created_at",
        "updated_at",
    ]
    inlines = [ContactPersonInline, LegacyContractInline, TermsAcceptanceInline]
    list_per_page = 50

    def get_queryset(self, request):
        return selectors.organisations_with_registry_state(selectors.organisations_for_review())

    @admin.display(description=_("organisation registry"), ordering="registry_state")
    def registry(self, obj):
        return RegistryState(obj.registry_state).label

    @admin.display(description=_("active contacts"), ordering="active_contact_count")
    def active_contacts(self, obj):
        return obj.active_contact_count

    @admin.display(description=_("latest accepted terms"), ordering="latest_accepted_at")
    def latest_terms(self, obj):
        return obj.latest_terms_version or "–"

    @admin.display(description=_("test organisation"), boolean=True)
    def is_test(self, obj):
        return obj.is_test


@admin.register(RegistryEntry)
class RegistryEntryAdmin(ReadOnlyAdminMixin, HistoryAdmin):
    """What the registry last said about each OID; its history shows every change of the
    registry's data (names, business ID, status, closing date). Written only by the checks."""

    list_display = ["oid", "name_fi", "business_id", "status", "closed_on", "state", "checked_at"]
    list_filter = [("last_failure", admin.EmptyFieldListFilter), "status"]
    search_fields = ["oid", "name_fi", "name_sv", "name_en", "business_id"]
    date_hierarchy = "checked_at"

    @admin.display(description=_("organisation registry"))
    def state(self, obj):
        return obj.state.label


@admin.register(RegistryCheck)
class RegistryCheckAdmin(ReadOnlyAdminMixin, admin.ModelAdmin):
    list_display = ["started_at", "finished_at", "checked", "failed", "stopped"]


class ContactBouncedFilter(admin.SimpleListFilter):
    """Contacts whose address bounced permanently: each needs a replacement."""

    title = _("email bounced")
    parameter_name = "bounced"

    def lookups(self, request, model_admin):
        return [("yes", _("Needs a replacement (email bounced)"))]

    def queryset(self, request, queryset):
        return queryset.filter(bounced_at__isnull=False) if self.value() == "yes" else queryset


@admin.register(ContactPerson)
class ContactPersonAdmin(PersonDataAdminMixin, ExportAdminMixin, HistoryAdmin):
    export_resource = ContactPersonResource
    change_list_template = "admin/onboarding/contactperson/change_list.html"
    actions = ["export_person_data", "erase_person_data"]
    export_select_related = ("organisation",)
    list_display = [
        "name",
        "email",
        "role",
        "language",
        "organisation",
        "is_active",
        "email_bounced",
    ]
    list_filter = ["role", "language", "is_active", ContactBouncedFilter]
    list_select_related = ["organisation"]
    search_fields = ["name", "email", "organisation__name_fi", "organisation__oid"]
    autocomplete_fields = ["organisation"]

    def get_queryset(self, request):
        return with_bounce(super().get_queryset(request))

    @admin.display(description=_("email bounced"), boolean=True, ordering="bounced_at")
    def email_bounced(self, obj):
        return obj.bounced_at is not None


@admin.register(LegacyContract)
class LegacyContractAdmin(HistoryAdmin):
    list_display = ["contract_reference", "organisation", "signed_on", "ends_on"]
    list_filter = ["organisation__membership", "ends_on"]
    list_select_related = ["organisation"]
    search_fields = ["contract_reference", "organisation__name_fi", "organisation__oid"]
    autocomplete_fields = ["organisation"]
    date_hierarchy = "ends_on"


@admin.register(TermsAcceptance)
class TermsAcceptanceAdmin(ExportAdminMixin, ReadOnlyAdminMixin, admin.ModelAdmin):
    """Evidence: readable by staff, never added, changed or deleted here."""

    export_resource = TermsAcceptanceResource
    export_select_related = ("organisation", "terms_version")

    list_display = [
        "organisation",
        "terms_version",
        "accepter_name",
        "accepter_title",
        "accepted_at",
        "in_force_from",
        "language",
    ]
    list_filter = ["terms_version", "in_force_from", "language"]
    list_select_related = ["organisation", "terms_version"]
    search_fields = ["organisation__name_fi", "organisation__oid", "accepter_name"]
    date_hierarchy = "accepted_at"
    # The evidence chain (services.evidence checks it): shown, never editable.
    readonly_fields = ["sequence", "previous_sha256", "record_sha256"]

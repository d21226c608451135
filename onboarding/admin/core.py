from __future__ import annotations

from urllib.parse import urlencode

from django.conf import settings
from django.contrib import admin, messages
from django.contrib.admin.utils import unquote
from django.contrib.auth.admin import UserAdmin as DjangoUserAdmin
from django.contrib.auth.forms import AdminUserCreationForm, UserChangeForm
from django.core.exceptions import NON_FIELD_ERRORS, PermissionDenied, ValidationError
from django.db import DatabaseError, transaction
from django.forms.models import BaseInlineFormSet
from django.shortcuts import redirect
from django.template.response import TemplateResponse
from django.urls import path, reverse
from django.utils.html import format_html
from django.utils.text import capfirst
from django.utils.translation import gettext_lazy as _
from django.utils.translation import ngettext
from simple_history.admin import SimpleHistoryAdmin

from onboarding import selectors, services
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
    TermsVersion,
    User,
)
from onboarding.models.organisations import Language
from onboarding.models.registry import RegistryState
from onboarding.models.terms import ImmutableRecordError
from onboarding.services.accounts import staff_enrolment_send
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


@admin.register(TermsVersion)
class TermsVersionAdmin(admin.ModelAdmin):
    """Drafts are edited here; a draft is published from its confirmation page, which shows the
    text and its SHA-256 and publishes that text only (`services.terms_publish`)."""

    list_display = [
        "version",
        "title_fi",
        "effective_from",
        "published_at",
        "requires_reacceptance",
        "short_sha256",
    ]
    list_filter = ["requires_reacceptance", ("published_at", admin.EmptyFieldListFilter)]
    search_fields = ["version", "title_fi", "title_sv", "title_en"]
    readonly_fields = ["published_at", "content_sha256", "created_at"]
    actions = ["publish"]
    change_form_template = "admin/onboarding/termsversion/change_form.html"

    @admin.display(description=_("SHA-256"))
    def short_sha256(self, obj):
        return obj.content_sha256[:12] or "–"

    def has_change_permission(self, request, obj=None):
        if obj is not None and obj.is_published:
            return False
        return super().has_change_permission(request, obj)

    def has_delete_permission(self, request, obj=None):
        if obj is not None and obj.is_published:
            return False
        return super().has_delete_permission(request, obj)

    def get_actions(self, request):
        actions = super().get_actions(request)
        actions.pop("delete_selected", None)  # a bulk delete could include published versions
        return actions

    def get_urls(self):
        publish = path(
            "<path:object_id>/publish/",
            self.admin_site.admin_view(self.publish_view),
            name="onboarding_termsversion_publish",
        )
        return [publish, *super().get_urls()]

    def change_view(self, request, object_id, form_url="", extra_context=None):
        obj = self.get_object(request, object_id)
        if obj is not None and obj.is_published and request.method != "POST":
            self.message_user(
                request,
                _("This version is published: it can no longer be changed or deleted."),
                messages.INFO,
            )
        return super().change_view(request, object_id, form_url, extra_context)

    def changeform_view(self, request, object_id=None, form_url="", extra_context=None):
        """A save of a draft locks its row first: a publication at the same moment either waits
        for the save (and then refuses the changed text) or is waited for (and the save is
        refused with a message, keeping what was typed). Never a server error."""
        if request.method != "POST" or object_id is None:
            return super().changeform_view(request, object_id, form_url, extra_context)
        return self._locked_write(
            request,
            object_id,
            lambda: super(TermsVersionAdmin, self).changeform_view(
                request, object_id, form_url, extra_context
            ),
            allowed=self.has_change_permission(request),
        )

    def delete_view(self, request, object_id, extra_context=None):
        if request.method != "POST":
            return super().delete_view(request, object_id, extra_context)
        return self._locked_write(
            request,
            object_id,
            lambda: super(TermsVersionAdmin, self).delete_view(request, object_id, extra_context),
            allowed=self.has_delete_permission(request),
        )

    def _locked_write(self, request, object_id, write, *, allowed: bool):
        """`write` with the version's row locked, unless the version is published by then:
        those `allowed` to write drafts are told, and shown what they typed."""
        if not allowed:
            return write()  # the admin's own refusal
        try:
            with transaction.atomic():
                obj = self.get_object(request, unquote(object_id))
                if obj is not None:
                    obj = TermsVersion.objects.select_for_update().get(pk=obj.pk)
                if obj is None or not obj.is_published:
                    return write()
        except (ImmutableRecordError, DatabaseError):
            # Only without the lock (a database that ignores it): the model or the trigger
            # refused the write because the version was published meanwhile.
            obj = self.get_object(request, unquote(object_id))
            if obj is None or not obj.is_published:
                raise
        return self._not_saved(request, obj)

    def _not_saved(self, request, terms_version):
        """The version was published before this save or deletion: nothing is changed, and
        what the person typed is shown so that it can go into a new version."""
        typed = [
            (field.verbose_name, request.POST[field.name])
            for field in TermsVersion._meta.concrete_fields
            if field.editable and request.POST.get(field.name)
        ]
        self.message_user(
            request,
            _(
                "Version %(version)s was published before your change was saved: published "
                "versions cannot be changed, so nothing was saved. To change the terms, add a "
                "new version."
            )
            % {"version": terms_version.version},
            messages.ERROR,
        )
        context = {
            **self.admin_site.each_context(request),
            "opts": self.opts,
            "title": _("Your change was not saved"),
            "terms_version": terms_version,
            "typed": typed,
        }
        return TemplateResponse(
            request, "admin/onboarding/termsversion/not_saved.html", context, status=409
        )

    def publish_view(self, request, object_id):
        """The confirmation page: the text to publish and its SHA-256; publishing posts that
        hash back, and only that text is published."""
        if not self.has_change_permission(request):
            raise PermissionDenied
        terms_version = self.get_object(request, unquote(object_id))
        if terms_version is None:
            return self._get_obj_does_not_exist_redirect(request, self.opts, object_id)
        change_url = reverse("admin:onboarding_termsversion_change", args=[terms_version.pk])
        if terms_version.is_published:
            self.message_user(
                request,
                _("Version %(version)s is already published.") % {"version": terms_version.version},
                messages.INFO,
            )
            return redirect(change_url)
        status = 200
        if request.method == "POST":
            try:
                published = services.terms_publish(
                    terms_version=terms_version,
                    expected_sha256=request.POST.get("content_sha256", ""),
                    expected_announcement_sha256=request.POST.get("announcement_sha256", ""),
                )
            except ValidationError as error:
                self.message_user(request, _why_not_published(error), messages.ERROR)
                terms_version.refresh_from_db()
                status = 409 if isinstance(error, services.TermsTextChanged) else 400
            else:
                self.message_user(
                    request,
                    _("Version %(version)s was published.") % {"version": published.version},
                    messages.SUCCESS,
                )
                self._after_publishing(request, published)
                return redirect("admin:onboarding_termsversion_changelist")
        context = {
            **self.admin_site.each_context(request),
            "opts": self.opts,
            "title": _("Publish version %(version)s") % {"version": terms_version.version},
            "terms_version": terms_version,
            "content_sha256": terms_version.compute_content_sha256(),
            "announcement_sha256": services.terms_announcement_sha256(terms_version),
            "languages": [
                (
                    label,
                    getattr(terms_version, f"title_{code}"),
                    getattr(terms_version, f"text_{code}"),
                )
                for code, label in Language.choices
                if getattr(terms_version, f"text_{code}")
            ],
            "change_url": change_url,
        }
        return TemplateResponse(
            request, "admin/onboarding/termsversion/publish.html", context, status=status
        )

    def _after_publishing(self, request, terms_version):
        """What publishing did (`services.terms_publish` decides): members were told of the
        change, or a version that needs acceptance waits for a campaign, which is offered."""
        if services.terms_announced_when_published(terms_version):
            count = selectors.terms_announcements(terms_version).count()
            self.message_user(
                request,
                ngettext(
                    "The change was announced to %(count)d contact person.",
                    "The change was announced to %(count)d contact persons.",
                    count,
                )
                % {"count": count},
                messages.INFO,
            )
            return
        url = reverse("admin:onboarding_acceptancecampaign_add")
        query = urlencode({"terms_version": terms_version.pk, "audience": "members"})
        self.message_user(
            request,
            format_html(
                '{} <a href="{}?{}">{}</a>',
                _("Version %(version)s asks every member to accept it again.")
                % {"version": terms_version.version},
                url,
                query,
                _("Start an acceptance campaign"),
            ),
            messages.WARNING,
        )

    @admin.action(description=_("Publish the selected draft…"), permissions=["change"])
    def publish(self, request, queryset):
        """To the confirmation page of the one draft chosen: each version is published from
        the page that shows its text."""
        drafts = list(queryset.filter(published_at__isnull=True)[:2])
        if len(drafts) != 1:
            self.message_user(
                request,
                _("Choose one draft: each version is published after checking its text."),
                messages.WARNING,
            )
            return None
        return redirect("admin:onboarding_termsversion_publish", drafts[0].pk)


def _why_not_published(error: ValidationError) -> str:
    """The refusal of `terms_publish` in words, each field's problem after the field's name."""
    if not hasattr(error, "error_dict"):
        return " ".join(error.messages)
    return " ".join(
        f"{capfirst(TermsVersion._meta.get_field(field).verbose_name)}: {' '.join(texts)}"
        if field != NON_FIELD_ERRORS
        else " ".join(texts)
        for field, texts in error.message_dict.items()
    )


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


class UserCreationForm(AdminUserCreationForm):
    class Meta(AdminUserCreationForm.Meta):
        model = User
        fields = ["email"]


class UserEditForm(UserChangeForm):
    class Meta(UserChangeForm.Meta):
        model = User
        fields = "__all__"


@admin.register(User)
class UserAdmin(DjangoUserAdmin):
    add_form = UserCreationForm
    form = UserEditForm
    ordering = ["email"]
    list_display = ["email", "first_name", "last_name", "is_staff", "is_active", "last_login"]
    search_fields = ["email", "first_name", "last_name"]
    fieldsets = [
        (None, {"fields": ["email", "password"]}),
        (_("Personal info"), {"fields": ["first_name", "last_name"]}),
        (
            _("Permissions"),
            {"fields": ["is_active", "is_staff", "is_superuser", "groups", "user_permissions"]},
        ),
        (_("Important dates"), {"fields": ["last_login", "date_joined"]}),
    ]
    add_fieldsets = [(None, {"classes": ["wide"], "fields": ["email", "password1", "password2"]})]
    actions = ["send_enrolment_link", "send_enrolment_link_removing_second_factor"]

    def save_model(self, request, obj, form, change):
        """A person who becomes staff starts afresh from an enrolment link: the password and
        second factor they had as a member (which whoever read their mailbox could have set)
        stop working."""
        became_staff = obj.is_staff and (not change or "is_staff" in form.changed_data)
        super().save_model(request, obj, form, change)
        if became_staff and obj.is_active:
            self._send_enrolment_links(request, [obj], remove_second_factor=True)

    def has_enrol_permission(self, request) -> bool:
        return request.user.is_superuser

    @admin.action(
        description=_("Send a staff enrolment link (the password stops working)"),
        permissions=["enrol"],
    )
    def send_enrolment_link(self, request, queryset):
        self._send_enrolment_links(request, queryset, remove_second_factor=False)

    @admin.action(
        description=_("Send a staff enrolment link and remove the second factor"),
        permissions=["enrol"],
    )
    def send_enrolment_link_removing_second_factor(self, request, queryset):
        self._send_enrolment_links(request, queryset, remove_second_factor=True)

    def _send_enrolment_links(self, request, users, *, remove_second_factor: bool) -> None:
        sent, skipped = [], []
        for user in users:
            if not (user.is_staff and user.is_active):
                skipped.append(user.email)
                continue
            staff_enrolment_send(user=user, remove_second_factor=remove_second_factor)
            sent.append(user.email)
        if sent:
            messages.success(
                request,
                _(
                    "An enrolment link was emailed to %(emails)s. It works once and expires in "
                    "%(hours)s hours; until it is used, the account has no password."
                )
                % {"emails": ", ".join(sent), "hours": settings.STAFF_ENROLMENT_HOURS},
            )
        if skipped:
            messages.warning(
                request,
                _("Only active staff get an enrolment link: %(emails)s got none.")
                % {"emails": ", ".join(skipped)},
            )

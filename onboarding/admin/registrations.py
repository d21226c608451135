"""Staff review of notifications: a queue, a review page with the differences, a decision."""

from __future__ import annotations

from django.contrib import admin, messages
from django.contrib.admin.utils import unquote
from django.core.exceptions import PermissionDenied, ValidationError
from django.shortcuts import redirect
from django.template.response import TemplateResponse
from django.utils import timezone
from django.utils.html import format_html
from django.utils.timesince import timesince
from django.utils.translation import gettext_lazy as _

from onboarding import notification_registry, selectors, services
from onboarding.admin.core import HistoryAdmin, ReadOnlyAdminMixin
from onboarding.comparison import compare
from onboarding.forms import DecisionForm
from onboarding.models import OutgoingEmail, PendingRegistration, Registration

DECISIONS = {
    "approve": (services.registration_approve, _("The notification was approved.")),
    "reject": (services.registration_reject, _("The notification was rejected.")),
    "request_changes": (
        services.registration_request_changes,
        _("Changes were requested from the submitter."),
    ),
}

# The name of the review page's button that asks OPH's organisation registry again.
RECHECK = "recheck_registry"


@admin.register(Registration)
class RegistrationAdmin(HistoryAdmin):
    list_display = [
        "organisation_name",
        "oid",
        "status",
        "submitted_at",
        "age",
        "sender",
        "reviewed_by",
    ]
    list_filter = ["status", "submitted_at"]
    list_select_related = ["submitted_by", "reviewed_by"]
    search_fields = ["oid", "data__organisation__name_fi", "submitted_by__email"]
    ordering = ["submitted_at"]
    date_hierarchy = "submitted_at"

    @admin.display(description=_("organisation"))
    def organisation_name(self, obj):
        return obj.organisation_name

    @admin.display(description=_("submitted by"), ordering="submitted_by__email")
    def sender(self, obj):
        # An address has no break opportunity of its own: one before the @ keeps the column
        # narrow enough for the queue to fit a 1280-pixel screen.
        local, at, domain = obj.submitted_by.email.rpartition("@")
        if not at:
            return domain
        return format_html("{}<wbr>@{}", local, domain)

    @admin.display(description=_("waiting"), ordering="submitted_at")
    def age(self, obj):
        if not obj.is_pending:
            return "–"
        return timesince(obj.submitted_at, timezone.now())

    def has_add_permission(self, request):
        return False

    def has_delete_permission(self, request, obj=None):
        return False

    def change_view(self, request, object_id, form_url="", extra_context=None):
        """The review page: what was submitted beside what is, and the decision."""
        registration = _registration_or_none(unquote(object_id))
        if registration is None:  # gone, or not an id at all
            return self._get_obj_does_not_exist_redirect(request, self.opts, object_id)
        if not self.has_view_or_change_permission(request, registration):
            raise PermissionDenied
        form = DecisionForm(request.POST or None)
        if request.method == "POST":
            if not self.has_change_permission(request, registration):
                raise PermissionDenied
            if RECHECK in request.POST:
                level, said = notification_registry.registry_recheck(registration.oid)
                self.message_user(request, said, level)
                return redirect(request.get_full_path())
            if form.is_valid():
                service, done = DECISIONS[form.cleaned_data["decision"]]
                kwargs = {"registration_id": registration.pk, "reviewer": request.user}
                if form.cleaned_data["decision"] != "approve":
                    kwargs["reason"] = form.cleaned_data["reason"]
                try:
                    service(**kwargs)
                except ValidationError as error:
                    form.add_error(None, error.messages)
                else:
                    self.message_user(request, done, messages.SUCCESS)
                    return redirect("admin:onboarding_pendingregistration_changelist")
        context = self._review_context(request, registration, form)
        return TemplateResponse(request, "admin/onboarding/registration/review.html", context)

    def _review_context(self, request, registration: Registration, form: DecisionForm) -> dict:
        rows, contacts = compare(registration)
        may_change = self.has_change_permission(request, registration)
        return {
            **self.admin_site.each_context(request),
            "title": _("Review the notification"),
            "opts": self.model._meta,
            "original": registration,
            "registration": registration,
            "rows": rows,
            "contacts": contacts,
            "decision_form": form,
            "can_decide": registration.is_pending and may_change,
            "registry": notification_registry.registry_review(
                registration.oid, registration.submitted
            ),
            "can_recheck": may_change,
            "recheck": RECHECK,
            "emails": selectors.registration_emails(registration),
            "other_registrations": selectors.registrations_of_oid(registration.oid).exclude(
                pk=registration.pk
            ),
        }


def _registration_or_none(object_id: str) -> Registration | None:
    """Any status, also from the queue: one decided meanwhile says so on its page."""
    try:
        pk = int(object_id)
    except ValueError:
        return None
    queryset = Registration.objects.select_related(
        "terms_version", "submitted_by", "reviewed_by", "withdrawn_by", "corrects"
    )
    return queryset.filter(pk=pk).first()


@admin.register(PendingRegistration)
class PendingRegistrationAdmin(RegistrationAdmin):
    """The queue: submitted notifications only, oldest first; no status or reviewer column,
    every row has the same."""

    list_display = ["organisation_name", "oid", "submitted_at", "age", "sender"]
    list_filter = []
    date_hierarchy = None

    def get_queryset(self, request):
        return super().get_queryset(request).filter(pk__in=selectors.pending_registrations())


@admin.register(OutgoingEmail)
class OutgoingEmailAdmin(ReadOnlyAdminMixin, admin.ModelAdmin):
    # Fits a 1280 px screen beside the filters; the language and the sending time are on
    # each email's page.
    list_display = ["subject", "to", "kind", "status", "attempts", "created_at"]
    list_filter = ["kind", "status", "language"]
    search_fields = ["to", "subject", "key"]
    readonly_fields = [f.name for f in OutgoingEmail._meta.fields]

    def get_fields(self, request, obj=None):
        fields = super().get_fields(request, obj)
        if obj is not None and obj.carries_a_secret:
            # A sign-in code or a reset link works for whoever reads it: its recipient's alone.
            return [name for name in fields if name not in ("body_text", "body_html")]
        return fields

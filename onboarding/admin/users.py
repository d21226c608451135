"""Accounts; staff get their way in by a one-time enrolment link."""

from __future__ import annotations

from django.conf import settings
from django.contrib import admin, messages
from django.contrib.auth.admin import UserAdmin as DjangoUserAdmin
from django.contrib.auth.forms import AdminUserCreationForm, UserChangeForm
from django.utils.translation import gettext_lazy as _

from onboarding.models import (
    User,
)
from onboarding.services.accounts import staff_enrolment_send


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
            try:  # the service decides who gets one: active staff only
                staff_enrolment_send(user=user, remove_second_factor=remove_second_factor)
            except ValueError:
                skipped.append(user.email)
            else:
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

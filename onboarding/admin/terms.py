"""Terms versions: drafts edited, published from a confirmation page."""

from __future__ import annotations

from urllib.parse import urlencode

from django.contrib import admin, messages
from django.contrib.admin.utils import unquote
from django.core.exceptions import NON_FIELD_ERRORS, PermissionDenied, ValidationError
from django.db import DatabaseError, transaction
from django.shortcuts import redirect
from django.template.response import TemplateResponse
from django.urls import path, reverse
from django.utils.html import format_html
from django.utils.text import capfirst
from django.utils.translation import gettext_lazy as _
from django.utils.translation import ngettext

from onboarding import selectors, services
from onboarding.models import (
    TermsVersion,
)
from onboarding.models.organisations import Language
from onboarding.models.terms import ImmutableRecordError


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

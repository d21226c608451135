"""Staff's second factors in the admin, in the admin's languages.

allauth's Authenticator model has no translatable names, so the admin showed "Authenticators",
"Created at" and "Type" in English on Finnish and Swedish pages. The names are given here;
the model and its data stay allauth's.
"""

from __future__ import annotations

from allauth.mfa.models import Authenticator
from django.contrib import admin
from django.utils.translation import gettext_lazy as _

Authenticator._meta.verbose_name = _("second factor")
Authenticator._meta.verbose_name_plural = _("second factors")
for field, label in {
    "user": _("user"),
    "type": _("kind"),
    "created_at": _("set up at"),
    "last_used_at": _("last used at"),
}.items():
    Authenticator._meta.get_field(field).verbose_name = label

admin.site.unregister(Authenticator)


@admin.register(Authenticator)
class SecondFactorAdmin(admin.ModelAdmin):
    raw_id_fields = ["user"]
    list_display = ["user", "type", "created_at", "last_used_at"]
    list_filter = ["type", "created_at", "last_used_at"]
    list_select_related = ["user"]
    search_fields = ["user__email"]

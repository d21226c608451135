"""The record of each erasure of a person's data: who erased, when, and what changed."""

from __future__ import annotations

from django.conf import settings
from django.db import models
from django.utils import timezone
from django.utils.translation import gettext_lazy as _


class PersonErasure(models.Model):
    """Staff erased (pseudonymised) a person's data (`services.privacy.person_erase`).

    Holds nothing of what was erased: only the pseudonym the rows now carry, who erased them and
    when, and how many rows of each kind changed."""

    erased_at = models.DateTimeField(_("erased at"), default=timezone.now)
    erased_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.PROTECT,
        related_name="+",
        verbose_name=_("erased by"),
    )
    pseudonym = models.EmailField(
        _("pseudonym"),
        unique=True,
        help_text=_("The address that now stands in the erased rows for the person's address."),
    )
    changed = models.JSONField(_("rows changed"), default=dict)

    class Meta:
        verbose_name = _("erasure of a person's data")
        verbose_name_plural = _("erasures of persons' data")
        ordering = ["-erased_at"]

    def __str__(self) -> str:
        return f"{self.pseudonym} ({self.erased_at:%Y-%m-%d})"

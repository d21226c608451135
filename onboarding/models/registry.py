"""What OPH's organisation registry last said about an OID, and the weekly checks of members.

A `RegistryEntry` is a snapshot, written only by `services.registry`: the registry's data as
it answered (a business ID that fails the check is kept as given), when it answered, and the
last failure to ask. A failed check keeps the last known data. Its history records every change
of the registry's data (a new name, a new business ID, a closing), not every check.
"""

from __future__ import annotations

from django.db import models
from django.db.models import Case, Q, Value, When
from django.utils import timezone
from django.utils.translation import gettext_lazy as _
from simple_history.models import HistoricalRecords

from onboarding.identifiers import (
    MAX_OID_LENGTH,
    is_valid_business_id,
    organisation_oid_validator,
)
from onboarding.localised import localised
from onboarding.organisation_registry import (
    CLOSED_STATUSES,
    LookupFailure,
    is_closed,
    is_closing,
    status_label,
    type_label,
)


class RegistryState(models.TextChoices):
    """Where an organisation stands in the registry, as staff filter by it.

    CLOSED is "closed or closing": PASSIIVINEN or POISTETTU, or any closing date, past or to
    come; staff act on a closing before its day. `RegistryEntry.is_closed` is "closed today".
    """

    ACTIVE = "active", _("Verified, active")
    CLOSED = "closed", _("Closed in the registry")
    NOT_FOUND = "not_found", _("Not found in the registry")
    NOT_VERIFIED = "not_verified", _("Not verified")


def registry_state_expression() -> Case:
    """`RegistryEntry.state` as SQL, for filters and lists: the same rule, in a query."""
    return Case(
        When(checked_at__isnull=True, then=Value(RegistryState.NOT_VERIFIED.value)),
        When(found=False, then=Value(RegistryState.NOT_FOUND.value)),
        When(
            Q(status__in=CLOSED_STATUSES) | Q(closed_on__isnull=False),
            then=Value(RegistryState.CLOSED.value),
        ),
        default=Value(RegistryState.ACTIVE.value),
        output_field=models.CharField(),
    )


class RegistryEntryQuerySet(models.QuerySet):
    def with_state(self) -> RegistryEntryQuerySet:
        """Each entry with its `registry_state` (a RegistryState value)."""
        return self.annotate(registry_state=registry_state_expression())

    def in_state(self, state: str) -> RegistryEntryQuerySet:
        return self.with_state().filter(registry_state=state)


class RegistryEntry(models.Model):
    """The registry's last answer about one OID (an organisation's or a notification's)."""

    State = RegistryState

    oid = models.CharField(
        _("organisation OID"),
        max_length=MAX_OID_LENGTH,
        unique=True,
        validators=[organisation_oid_validator],
    )
    found = models.BooleanField(_("found in the registry"), default=False)
    name_fi = models.TextField(_("name in Finnish"), blank=True)
    name_sv = models.TextField(_("name in Swedish"), blank=True)
    name_en = models.TextField(_("name in English"), blank=True)
    business_id = models.TextField(_("business ID"), blank=True)  # as given, never validated
    types = models.JSONField(_("organisation types"), default=list, blank=True)
    status = models.CharField(_("status in the registry"), max_length=32, blank=True)
    closed_on = models.DateField(_("closing date"), null=True, blank=True)
    parent_oids = models.JSONField(_("parent organisations"), default=list, blank=True)
    checked_at = models.DateTimeField(_("verified at OPH"), null=True, blank=True)
    last_failure = models.CharField(
        _("last failure"), max_length=16, choices=LookupFailure.choices, blank=True
    )
    last_failure_at = models.DateTimeField(_("last failure at"), null=True, blank=True)

    objects = RegistryEntryQuerySet.as_manager()
    # The registry's data, not when it was asked: a check that changes nothing adds no version.
    history = HistoricalRecords(excluded_fields=["checked_at", "last_failure", "last_failure_at"])

    # What an answer sets; a change in any of them is a new version in the history.
    DATA_FIELDS = (
        "found",
        "name_fi",
        "name_sv",
        "name_en",
        "business_id",
        "types",
        "status",
        "closed_on",
        "parent_oids",
    )

    class Meta:
        verbose_name = _("registry entry")
        verbose_name_plural = _("registry entries")
        ordering = ["oid"]

    def __str__(self) -> str:
        return f"{self.name or '–'} ({self.oid})"

    @property
    def name(self) -> str:
        """The registry's name in the active language, falling back to Finnish."""
        return localised(self, "name")

    @property
    def is_verified(self) -> bool:
        """The registry has confirmed the organisation exists (as of `checked_at`)."""
        return self.found and self.checked_at is not None

    @property
    def is_closed(self) -> bool:
        """Found, and PASSIIVINEN or POISTETTU or with a closing date today or past."""
        return self.is_verified and is_closed(self.status, self.closed_on)

    @property
    def state(self) -> RegistryState:
        """Never answered; answered "not found"; closed or closing; or active."""
        if self.checked_at is None:
            return RegistryState.NOT_VERIFIED
        if not self.found:
            return RegistryState.NOT_FOUND
        if is_closing(self.status, self.closed_on):
            return RegistryState.CLOSED
        return RegistryState.ACTIVE

    @property
    def last_check_failed(self) -> bool:
        """The latest attempt to ask failed; the data (if any) is from `checked_at`."""
        return bool(self.last_failure)

    @property
    def business_id_is_valid(self) -> bool:
        """Whether the registry's business ID passes the Y-tunnus check: one that fails is
        shown to staff as the registry's, not refused."""
        return is_valid_business_id(self.business_id)

    def get_status_display(self) -> str:
        return status_label(self.status)

    def type_labels(self) -> list[str]:
        return [type_label(kind) for kind in self.types]


class RegistryCheck(models.Model):
    """One weekly re-check of the members in the registry; its summary email links to it."""

    started_at = models.DateTimeField(_("started"), default=timezone.now)
    finished_at = models.DateTimeField(_("finished"), null=True, blank=True)
    checked = models.PositiveIntegerField(_("answered"), default=0)
    failed = models.PositiveIntegerField(_("failed"), default=0)
    stopped = models.CharField(
        _("stopped early because"), max_length=16, choices=LookupFailure.choices, blank=True
    )

    class Meta:
        verbose_name = _("registry check")
        verbose_name_plural = _("registry checks")
        ordering = ["-started_at"]

    def __str__(self) -> str:
        return f"{self.started_at:%Y-%m-%d %H:%M}"

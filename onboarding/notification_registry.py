"""OPH's organisation registry where a notification is made and reviewed.

The form asks the registry once when it opens (an answer cached minutes ago will do) and stores
the answer as the OID's snapshot (`RegistryEntry`); re-renders, the check page and the review
page read that snapshot. A lookup that fails never stops a person: the form works as without
lookups, and the reviewer sees "not verified" and why.
"""

from __future__ import annotations

from dataclasses import dataclass

from django.contrib import messages
from django.core.exceptions import ValidationError
from django.utils import formats, timezone
from django.utils.translation import gettext
from django.utils.translation import gettext_lazy as _

from onboarding import organisation_registry, selectors
from onboarding.comparison import ORGANISATION_LABELS
from onboarding.models import RegistryEntry
from onboarding.notification_data import NotificationData
from onboarding.organisation_registry import CLOSED_STATUSES, LookupFailure, RegistryStatus
from onboarding.services.registry import registry_entry_refresh

# The form's fields the registry answers for: names and the business ID.
REGISTRY_FIELDS = ("name_fi", "name_sv", "name_en", "business_id")
NOT_ASKED_YET = _("OPH's organisation service has not been asked about this OID yet.")


def registry_for_form(oid: str, *, ask: bool) -> RegistryEntry | None:
    """The snapshot the form shows; None when lookups are off. `ask` (when the form opens)
    asks the registry first, accepting a cached answer; otherwise the stored one is read."""
    if not organisation_registry.lookups_on():
        return None
    if ask:
        return registry_entry_refresh(oid=oid, fresh=False)
    return selectors.registry_entry(oid)


def registry_values(entry: RegistryEntry | None) -> dict[str, str]:
    """The registry's names and business ID by form field; none unless it found the OID."""
    if entry is None or not entry.is_verified:
        return {}
    return {name: getattr(entry, name) for name in REGISTRY_FIELDS}


def form_prefill(entry: RegistryEntry | None) -> dict[str, str]:
    """What the form of an organisation new to the portal starts with. A business ID that
    fails the check is not filled in (the form would refuse it); the note beside the field
    still shows it."""
    values = {name: value for name, value in registry_values(entry).items() if value}
    if not entry or not entry.business_id_is_valid:
        values.pop("business_id", None)
    return values


def form_warning(entry: RegistryEntry | None) -> str:
    """Why the person should check the OID, in the page's language: the registry does not
    know it, or has the organisation passive, deleted or closing. "" when nothing is wrong
    or nothing is known."""
    if entry is None or entry.checked_at is None:
        return ""
    if not entry.found:
        return gettext(
            "OPH's organisation service has no organisation with this OID. Check the OID: "
            "an organisation joins MPASSid under the OID it has in OPH's organisation service."
        )
    sentences = []
    if entry.status == RegistryStatus.PASSIVE:
        sentences.append(gettext("In OPH's organisation service this organisation is passive."))
    elif entry.status == RegistryStatus.DELETED:
        sentences.append(gettext("In OPH's organisation service this organisation is deleted."))
    if entry.closed_on is not None:
        if sentences:
            sentence = gettext("Its closing date there is %(date)s.")
        elif entry.closed_on <= timezone.localdate():
            sentence = gettext(
                "In OPH's organisation service this organisation was closed on %(date)s."
            )
        else:
            sentence = gettext(
                "In OPH's organisation service this organisation closes on %(date)s."
            )
        sentences.append(sentence % {"date": formats.date_format(entry.closed_on, "DATE_FORMAT")})
    if not sentences:
        return ""
    sentences.append(
        gettext(
            "Check the OID: an organisation that merged or was reorganised joins under its "
            "new OID. You can still send the notification; OPH will check it."
        )
    )
    return " ".join(sentences)


@dataclass(frozen=True)
class RegistryRow:
    """One of the organisation's details as submitted and as the registry has it."""

    label: str
    submitted: str
    registry: str
    note: str = ""  # e.g. a business ID that fails the check

    @property
    def differs(self) -> bool:
        """The registry has another value; one it lacks (often a name in Swedish or English,
        a school's business ID) is nothing to compare."""
        return bool(self.registry.strip()) and self.submitted.strip() != self.registry.strip()


@dataclass(frozen=True)
class RegistryReview:
    """What the review page says of the registry: the snapshot, the rows compared and, when
    the organisation is not verified, why."""

    entry: RegistryEntry | None
    rows: list[RegistryRow]
    not_verified_because: str
    lookups_on: bool

    @property
    def status_is_closed(self) -> bool:
        """The registry has the organisation passive or deleted."""
        return self.entry is not None and self.entry.status in CLOSED_STATUSES


def registry_review(oid: str, submitted: NotificationData) -> RegistryReview:
    """The registry's snapshot of `oid` beside the notification (one query)."""
    entry = selectors.registry_entry(oid)
    lookups_on = organisation_registry.lookups_on()
    return RegistryReview(
        entry=entry,
        rows=_rows(entry, submitted),
        not_verified_because=_not_verified_because(entry, lookups_on=lookups_on),
        lookups_on=lookups_on,
    )


def _rows(entry: RegistryEntry | None, submitted: NotificationData) -> list[RegistryRow]:
    values = registry_values(entry)
    if not values:
        return []
    invalid = entry.business_id and not entry.business_id_is_valid
    return [
        RegistryRow(
            label=str(ORGANISATION_LABELS[name]),
            submitted=getattr(submitted.organisation, name),
            registry=value,
            note=str(_("fails the Y-tunnus check")) if name == "business_id" and invalid else "",
        )
        for name, value in values.items()
    ]


def _not_verified_because(entry: RegistryEntry | None, *, lookups_on: bool) -> str:
    """ "" for an organisation the registry found; else the reason, as the reviewer reads it."""
    if entry is not None and entry.is_verified:
        return ""
    if entry is not None and entry.checked_at is not None:
        return gettext("OPH's organisation service has no organisation with this OID.")
    if not lookups_on:
        return str(LookupFailure.OFF.label)
    if entry is not None and entry.last_failure:
        return entry.get_last_failure_display()
    return str(NOT_ASKED_YET)


def registry_recheck(oid: str) -> tuple[int, str]:
    """A reviewer's re-check: ask the registry now (never the cache) and store its answer.
    Returns the message level and text that say how it went."""
    if not organisation_registry.lookups_on():
        return messages.WARNING, str(LookupFailure.OFF.label)
    try:
        entry = registry_entry_refresh(oid=oid, fresh=True)
    except ValidationError:
        return messages.ERROR, gettext(
            "This OID is not in a form OPH's organisation service uses: it cannot be checked."
        )
    if entry.last_failure:
        return messages.WARNING, gettext(
            "Could not ask OPH's organisation service: %(reason)s What the page shows is from "
            "the last answer, if any."
        ) % {"reason": entry.get_last_failure_display()}
    if not entry.found:
        return messages.WARNING, gettext(
            "Checked: OPH's organisation service has no organisation with this OID."
        )
    return messages.SUCCESS, gettext("Checked in OPH's organisation service.")

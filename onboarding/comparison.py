"""What a notification would change: submitted data beside the organisation's current data.

The review page shows these changes and approval applies them (`contact_changes` of the same
organisation and contacts): what the reviewer sees is what approving does.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from enum import StrEnum

from django.utils.translation import gettext_lazy as _
from phonenumber_field.phonenumber import to_python

from onboarding.models import ContactPerson, Organisation, Registration
from onboarding.models.organisations import Sector, sectors_in_order
from onboarding.notification_data import ContactDetails, NotificationData

ORGANISATION_LABELS = {
    "name_fi": _("Name in Finnish"),
    "name_sv": _("Name in Swedish"),
    "name_en": _("Name in English"),
    "business_id": _("Business ID (Y-tunnus)"),
    "kind": _("Kind of organisation"),
    "sectors": _("Sectors"),
}
# What a notification may change of a contact person; the email and the role identify them.
CONTACT_FIELD_LABELS = {"name": _("name"), "phone": _("phone number"), "language": _("language")}
CONTACT_FIELDS = tuple(CONTACT_FIELD_LABELS)


@dataclass(frozen=True)
class Row:
    label: str
    submitted: str
    current: str

    @property
    def changed(self) -> bool:
        return self.submitted != self.current


class ContactState(StrEnum):
    ADDED = "added"
    CHANGED = "changed"
    REMOVED = "removed"
    SAME = "same"


@dataclass(frozen=True)
class ContactChange:
    """One contact person: added, changed (`fields`), removed or the same. `contact` is the
    person as submitted, or as they are for one removed; `current` is the active contact."""

    state: ContactState
    contact: ContactDetails
    current: ContactPerson | None = None
    fields: tuple[str, ...] = ()

    @property
    def field_labels(self) -> list[str]:
        return [str(CONTACT_FIELD_LABELS[name]) for name in self.fields]


def contact_changes(
    organisation: Organisation | None, submitted: Sequence[ContactDetails]
) -> list[ContactChange]:
    """The submitted contacts against the organisation's active ones, matched on the address
    (in any case) and the role; active contacts not submitted are removed."""
    current = {}
    if organisation is not None:
        current = {
            (person.email.lower(), person.role): person
            for person in organisation.contacts.filter(is_active=True)
        }
    changes = []
    for contact in submitted:
        person = current.pop((contact.email.lower(), contact.role), None)
        if person is None:
            changes.append(ContactChange(ContactState.ADDED, contact))
            continue
        now = ContactDetails.of(person)
        changed = tuple(
            name for name in CONTACT_FIELDS if _compared(name, now) != _compared(name, contact)
        )
        state = ContactState.CHANGED if changed else ContactState.SAME
        changes.append(ContactChange(state, contact, person, changed))
    changes.extend(
        ContactChange(ContactState.REMOVED, ContactDetails.of(person), person)
        for person in current.values()
    )
    return changes


def _compared(name: str, contact: ContactDetails) -> str:
    """The value compared: a phone number in its one international form."""
    value = getattr(contact, name) or ""
    if name == "phone" and value:
        number = to_python(value)
        return number.as_e164 if number and number.is_valid() else value
    return value


def organisation_rows(organisation: Organisation | None, submitted: NotificationData) -> list[Row]:
    """The organisation's details and its use of test learner numbers, submitted and now."""
    details = submitted.organisation
    rows = [
        Row(
            label=str(label),
            submitted=_display(name, getattr(details, name)),
            current=_display(name, getattr(organisation, name, "")) if organisation else "",
        )
        for name, label in ORGANISATION_LABELS.items()
    ]
    rows.append(
        Row(
            label=str(_("Use of test learner numbers")),
            submitted=submitted.declarations.notified_use,
            current=organisation.test_learner_number_use if organisation else "",
        )
    )
    return rows


def _display(name: str, value) -> str:
    if name == "kind" and (kind := Organisation.Kind.of(value)):
        return str(kind.label)
    if name == "sectors":
        return ", ".join(str(Sector(code).label) for code in sectors_in_order(value or ()))
    return value or ""


def compare(registration: Registration) -> tuple[list[Row], list[ContactChange]]:
    """What approving `registration` would change: the organisation's rows and its contacts."""
    organisation = Organisation.objects.filter(oid=registration.oid).first()
    submitted = registration.submitted
    return (
        organisation_rows(organisation, submitted),
        contact_changes(organisation, submitted.contacts),
    )

"""What a notification would change: submitted data beside the organisation's current data."""

from __future__ import annotations

from dataclasses import dataclass, field

from django.utils.translation import gettext_lazy as _

from onboarding.models import ContactPerson, Organisation, Registration
from onboarding.models.organisations import Language

ORGANISATION_LABELS = {
    "name_fi": _("Name in Finnish"),
    "name_sv": _("Name in Swedish"),
    "name_en": _("Name in English"),
    "business_id": _("Business ID (Y-tunnus)"),
    "kind": _("Kind of organisation"),
}


CONTACT_FIELD_LABELS = {"name": _("name"), "phone": _("phone number"), "language": _("language")}


@dataclass(frozen=True)
class Row:
    label: str
    submitted: str
    current: str

    @property
    def changed(self) -> bool:
        return self.submitted != self.current


@dataclass
class ContactRow:
    state: str  # "added", "removed", "changed" or "same"
    name: str
    email: str
    role: str
    phone: str
    language: str
    changes: list[str] = field(default_factory=list)


def _display(name: str, value: str) -> str:
    if name == "kind" and value:
        return str(Organisation.Kind(value).label)
    return value or ""


def _contact_row(state: str, values: dict, changes=()) -> ContactRow:
    return ContactRow(
        state=state,
        name=values["name"],
        email=values["email"],
        role=str(ContactPerson.Role(values["role"]).label),
        phone=values.get("phone") or "",
        language=str(Language(values["language"]).label),
        changes=list(changes),
    )


def compare(registration: Registration) -> tuple[list[Row], list[ContactRow]]:
    organisation = Organisation.objects.filter(oid=registration.oid).first()
    submitted = registration.data["organisation"]
    rows = [
        Row(
            label=str(label),
            submitted=_display(name, submitted.get(name, "")),
            current=_display(name, getattr(organisation, name, "")) if organisation else "",
        )
        for name, label in ORGANISATION_LABELS.items()
    ]
    declarations = registration.data.get("declarations", {})
    rows.append(
        Row(
            label=str(_("Use of test learner numbers")),
            submitted=declarations.get("test_learner_number_use", "")
            if declarations.get("uses_test_learner_numbers")
            else "",
            current=organisation.test_learner_number_use if organisation else "",
        )
    )
    current = {}
    if organisation:
        for contact in organisation.contacts.filter(is_active=True):
            current[(contact.email.lower(), contact.role)] = {
                "name": contact.name,
                "email": contact.email,
                "role": contact.role,
                "phone": str(contact.phone or ""),
                "language": contact.language,
            }
    contacts = []
    for values in registration.data.get("contacts", []):
        before = current.pop((values["email"].lower(), values["role"]), None)
        if before is None:
            contacts.append(_contact_row("added", values))
            continue
        changes = [
            f for f in ("name", "phone", "language") if (before[f] or "") != (values.get(f) or "")
        ]
        labels = [str(CONTACT_FIELD_LABELS[name]) for name in changes]
        contacts.append(_contact_row("changed" if changes else "same", values, labels))
    contacts.extend(_contact_row("removed", values) for values in current.values())
    return rows, contacts

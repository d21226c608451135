"""A notification's data: the one definition of what `Registration.data` holds.

The form's answers become a `NotificationData`; the service validates it and stores its JSON;
everything that reads a notification (approval, the review page, templates, the draft in the
session) reads it back through `NotificationData.from_json`, which also reads every shape stored
before. The rules a notification must keep live here, once, with their wording: the service
refuses data that breaks them and the forms place the same errors next to their fields.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from dataclasses import MISSING, asdict, dataclass, fields
from typing import TYPE_CHECKING, Any

from django.conf import settings
from django.core.exceptions import ValidationError
from django.utils.translation import gettext_lazy as _

from onboarding.identifiers import validate_organisation_oid
from onboarding.models.organisations import (
    ContactRole,
    Language,
    OrganisationKind,
    Sector,
    sectors_in_order,
)

if TYPE_CHECKING:
    from onboarding.models import ContactPerson, Organisation, TermsVersion

REQUIRED_ROLES = (ContactRole.ADMINISTRATIVE, ContactRole.TECHNICAL)

KIND_MISSING = _("Choose whether the organisation provides education, services or both.")
ROLES_MISSING = _(
    "Name at least one administrative and one technical contact. Missing: %(missing)s."
)
NAMED_TWICE = _("%(email)s is named twice in the same role. Remove one of them.")
LEARNER_NUMBERS_UNCONFIRMED = _(
    "An education provider must confirm that its users have personal credentials and a "
    "learner number."
)
TEST_NUMBERS_NOT_SERVING = _(
    "Only a service provider may use test learner numbers. Untick this and clear the "
    "description, or choose a kind that includes service provider."
)
TEST_NUMBERS_DESCRIBED_NOT_SERVING = _(
    "Only a service provider may use test learner numbers. Clear this description, or choose "
    "a kind that includes service provider."
)
SECTORS_MISSING = _("Choose at least one sector.")
TEST_NUMBERS_UNDESCRIBED = _("Describe briefly how you will use test learner numbers.")
TEST_NUMBERS_UNTICKED = _(
    "Tick this if you will use test learner numbers, or clear the description."
)


@dataclass(frozen=True)
class OrganisationDetails:
    """The organisation as the notification names it."""

    oid: str
    name_fi: str = ""
    name_sv: str = ""
    name_en: str = ""
    business_id: str = ""
    kind: str = ""
    # Sector codes, in OPH's order; notifications sent before sectors were asked have none.
    sectors: tuple[str, ...] = ()

    # What a notification sets on the organisation (the OID identifies it).
    FIELDS = ("name_fi", "name_sv", "name_en", "business_id", "kind", "sectors")

    def __post_init__(self):
        # Stored JSON and the form give lists; keep one hashable, ordered shape.
        object.__setattr__(self, "sectors", tuple(sectors_in_order(self.sectors or ())))

    @classmethod
    def of(cls, organisation: Organisation) -> OrganisationDetails:
        return cls(oid=organisation.oid, **{f: getattr(organisation, f) for f in cls.FIELDS})

    def values(self) -> dict[str, Any]:
        """The values a notification sets on the organisation, by field name."""
        values = {field: getattr(self, field) for field in self.FIELDS}
        values["sectors"] = list(self.sectors)
        return values

    @property
    def sector_labels(self) -> list[str]:
        """The sectors' names in the active language."""
        return [str(Sector(code).label) for code in self.sectors]

    @property
    def kind_choice(self) -> OrganisationKind | None:
        return OrganisationKind.of(self.kind)

    @property
    def kind_label(self) -> str:
        return str(self.kind_choice.label) if self.kind_choice else self.kind


@dataclass(frozen=True)
class ContactDetails:
    """A contact person as the notification names them; email and role identify them."""

    name: str
    email: str
    role: str
    language: str = Language.FI
    phone: str = ""  # optional: imported contacts have none

    @classmethod
    def of(cls, person: ContactPerson) -> ContactDetails:
        return cls(
            name=person.name,
            email=person.email,
            role=person.role,
            language=person.language,
            phone=str(person.phone or ""),
        )

    @property
    def role_label(self) -> str:
        return str(ContactRole(self.role).label) if self.role in ContactRole.values else self.role

    @property
    def language_label(self) -> str:
        language = self.language
        return str(Language(language).label) if language in Language.values else language


@dataclass(frozen=True)
class Declarations:
    """What the organisation declares of learner numbers."""

    learner_numbers_confirmed: bool = False
    uses_test_learner_numbers: bool = False
    test_learner_number_use: str = ""

    @property
    def notified_use(self) -> str:
        """The use of test learner numbers notified: none unless the box is ticked."""
        return self.test_learner_number_use if self.uses_test_learner_numbers else ""


@dataclass(frozen=True)
class AcceptanceDetails:
    """The acceptance of a terms version: which text, in which language, by whom."""

    terms_version: str
    content_sha256: str
    accepter_name: str
    accepter_title: str
    authority_confirmed: bool
    language: str = ""  # of the text read; notifications of before it was kept lack it


@dataclass(frozen=True)
class NotificationData:
    """A notification as submitted: `Registration.data`, typed."""

    organisation: OrganisationDetails
    contacts: tuple[ContactDetails, ...]
    declarations: Declarations
    acceptance: AcceptanceDetails | None = None

    @classmethod
    def from_forms(cls, oid: str, form, formset, terms: TermsVersion | None) -> NotificationData:
        """The answers of a valid NotificationForm and ContactFormSet; `terms` is the version
        accepted, None when the form asked for no acceptance."""
        cleaned = form.cleaned_data
        acceptance = None
        if terms is not None:
            acceptance = AcceptanceDetails(
                terms_version=terms.version,
                content_sha256=terms.content_sha256,
                accepter_name=cleaned["accepter_name"],
                accepter_title=cleaned["accepter_title"],
                authority_confirmed=cleaned["authority_confirmed"],
                language=terms.shown_lang,  # the text the person read
            )
        return cls(
            organisation=OrganisationDetails(
                oid=oid, **{f: cleaned[f] for f in OrganisationDetails.FIELDS}
            ),
            contacts=tuple(formset.contacts()),
            declarations=_read(Declarations, cleaned),
            acceptance=acceptance,
        )

    @classmethod
    def from_json(cls, data: Mapping[str, Any], *, language: str = "") -> NotificationData:
        """Any notification stored so far, or a draft from the session. Keys that older rows
        lack read as their defaults; `language` is the notification's own, for acceptances
        stored before the language of the text read was kept."""
        acceptance = data.get("acceptance")
        return cls(
            organisation=_read(OrganisationDetails, data.get("organisation") or {}, oid=""),
            contacts=tuple(_read(ContactDetails, row) for row in data.get("contacts") or ()),
            declarations=_read(Declarations, data.get("declarations") or {}),
            acceptance=_read(AcceptanceDetails, acceptance, language=language)
            if acceptance
            else None,
        )

    def to_json(self) -> dict[str, Any]:
        """The shape stored in `Registration.data` (and kept in the session as a draft)."""
        return {
            # JSON has lists: a list here reads back equal to what was stored.
            "organisation": asdict(self.organisation)
            | {"sectors": list(self.organisation.sectors)},
            "contacts": [asdict(contact) for contact in self.contacts],
            "declarations": asdict(self.declarations),
            "acceptance": asdict(self.acceptance) if self.acceptance else None,
        }

    def to_initial(self, *, accepted: bool = False) -> tuple[dict[str, Any], list[dict]]:
        """The form's initial values and contact rows. `accepted` ticks the acceptance again:
        the person's own draft, not yet sent; a notification sent back is accepted anew."""
        values: dict[str, Any] = self.organisation.values() | asdict(self.declarations)
        if self.acceptance:
            values |= {
                "accepter_name": self.acceptance.accepter_name,
                "accepter_title": self.acceptance.accepter_title,
            }
            if accepted:
                values |= {
                    "accept_terms": True,
                    "authority_confirmed": self.acceptance.authority_confirmed,
                }
        return values, [asdict(contact) for contact in self.contacts]

    def errors(self) -> dict[str, list[ValidationError]]:
        """The rules this notification breaks, by the form field they concern."""
        found: dict[str, list[ValidationError]] = {}
        try:
            validate_organisation_oid(
                self.organisation.oid, allow_test=settings.ALLOW_TEST_ORGANISATIONS
            )
        except ValidationError as error:
            found["oid"] = [error]
        if self.organisation.kind_choice is None:
            found["kind"] = [ValidationError(KIND_MISSING, code="kind")]
        for field, error in declaration_errors(self.organisation.kind, self.declarations).items():
            found.setdefault(field, []).append(error)
        if contact_problems := contact_errors(self.contacts):
            found["contacts"] = contact_problems
        return found

    def validate(self) -> None:
        """Raise ValidationError (by field) unless the notification keeps every rule."""
        if errors := self.errors():
            raise ValidationError(errors)


def declaration_errors(kind: str | None, declarations: Declarations) -> dict[str, ValidationError]:
    """The learner-number rules, by field. An education provider confirms that its users have
    learner numbers; only a service provider may use test learner numbers, and says how; a
    description without the box ticked (or the box without one) is a mistake to correct."""
    choice = OrganisationKind.of(kind)
    uses = declarations.uses_test_learner_numbers
    described = declarations.test_learner_number_use
    errors = {}
    if choice and choice.educates and not declarations.learner_numbers_confirmed:
        errors["learner_numbers_confirmed"] = ValidationError(
            LEARNER_NUMBERS_UNCONFIRMED, code="learner_numbers"
        )
    if choice and not choice.serves and uses:
        errors["uses_test_learner_numbers"] = ValidationError(
            TEST_NUMBERS_NOT_SERVING, code="test_numbers"
        )
    elif choice and not choice.serves and described:
        errors["test_learner_number_use"] = ValidationError(
            TEST_NUMBERS_DESCRIBED_NOT_SERVING, code="test_numbers"
        )
    elif uses and not described:
        errors["test_learner_number_use"] = ValidationError(
            TEST_NUMBERS_UNDESCRIBED, code="test_numbers"
        )
    elif described and not uses:
        errors["uses_test_learner_numbers"] = ValidationError(
            TEST_NUMBERS_UNTICKED, code="test_numbers"
        )
    return errors


def contact_errors(contacts: Sequence[ContactDetails]) -> list[ValidationError]:
    """The contact rules: an administrative and a technical contact at least, and nobody
    named twice in one role (addresses compared without case)."""
    errors = []
    roles = {contact.role for contact in contacts}
    missing = [str(role.label) for role in REQUIRED_ROLES if role not in roles]
    if missing:
        errors.append(
            ValidationError(ROLES_MISSING % {"missing": ", ".join(missing)}, code="roles")
        )
    for email in _named_twice(contacts):
        errors.append(ValidationError(NAMED_TWICE % {"email": email}, code="duplicate"))
    return errors


def _named_twice(contacts: Iterable[ContactDetails]) -> list[str]:
    seen, twice = set(), []
    for contact in contacts:
        key = (contact.email.lower(), contact.role)
        if key in seen:
            twice.append(contact.email)
        seen.add(key)
    return twice


def _read(cls, values: Mapping[str, Any], **defaults: Any):
    """An instance of the dataclass `cls` from `values`: unknown keys ignored, missing or null
    ones read as `defaults` or the field's default, booleans as booleans."""
    kwargs = {}
    for field in fields(cls):
        value = values.get(field.name)
        if value is None:
            value = defaults.get(field.name, field.default)
            if value is MISSING:
                value = ""
        kwargs[field.name] = bool(value) if field.type == "bool" else value
    return cls(**kwargs)

from __future__ import annotations

from django import forms
from django.conf import settings
from django.core.exceptions import ValidationError
from django.db import models
from django.db.models.functions import Lower
from django.utils.translation import gettext_lazy as _
from phonenumber_field.modelfields import PhoneNumberField
from simple_history.models import HistoricalRecords

from onboarding.identifiers import (
    MAX_OID_LENGTH,
    TEST_OID_PREFIX,
    business_id_validator,
    is_test_organisation_oid,
    organisation_oid_validator,
)
from onboarding.localised import localised


class Language(models.TextChoices):
    FI = "fi", _("Finnish")
    SV = "sv", _("Swedish")
    EN = "en", _("English")


class OrganisationKind(models.TextChoices):
    EDUCATION_PROVIDER = "education_provider", _("Education provider")
    SERVICE_PROVIDER = "service_provider", _("Service provider")
    BOTH = "both", _("Education provider and service provider")

    @classmethod
    def of(cls, value: str | None) -> OrganisationKind | None:
        """The kind written as `value`, or None when it is none of ours (or not chosen)."""
        return cls(value) if value in cls.values else None

    @property
    def educates(self) -> bool:
        """An education provider: its users must have personal credentials and learner numbers."""
        return self in (OrganisationKind.EDUCATION_PROVIDER, OrganisationKind.BOTH)

    @property
    def serves(self) -> bool:
        """A service provider: only it may use test learner numbers."""
        return self in (OrganisationKind.SERVICE_PROVIDER, OrganisationKind.BOTH)


class Sector(models.TextChoices):
    """The education sectors a member serves, as OPH tags them (varhaiskasvatus, esiopetus,
    perusopetus, lukiokoulutus, ammatillinen koulutus, vapaa sivistystyö)."""

    EARLY_CHILDHOOD = "early_childhood", _("Early childhood education")
    PRE_PRIMARY = "pre_primary", _("Pre-primary education")
    BASIC = "basic", _("Basic education")
    GENERAL_UPPER_SECONDARY = "general_upper_secondary", _("General upper secondary education")
    VOCATIONAL = "vocational", _("Vocational education and training")
    LIBERAL_ADULT = "liberal_adult", _("Liberal adult education")


def sectors_in_order(codes) -> list[str]:
    """`codes` without repeats, in the order of `Sector` (the order OPH lists them)."""
    wanted = set(codes)
    return [code for code in Sector.values if code in wanted]


def validate_sectors(value) -> None:
    """A list of `Sector` codes, nothing else."""
    if not isinstance(value, list) or any(code not in Sector.values for code in value):
        raise ValidationError(_("Choose sectors from the list."), code="sectors")


class SectorsField(models.JSONField):
    """A list of `Sector` codes, ticked in forms. JSON rather than an array: the demo runs on
    SQLite, and the register filters sectors in Python, not in SQL."""

    def __init__(self, *args, **kwargs):
        kwargs.setdefault("validators", [validate_sectors])
        super().__init__(*args, **kwargs)

    def deconstruct(self):
        name, path, args, kwargs = super().deconstruct()
        kwargs.pop("validators", None)
        return name, path, args, kwargs

    def formfield(self, **kwargs):
        defaults = {
            "form_class": forms.TypedMultipleChoiceField,
            "choices": Sector.choices,
            "widget": forms.CheckboxSelectMultiple,
        }
        return models.Field.formfield(self, **(defaults | kwargs))


class Membership(models.TextChoices):
    NONE = "none", _("Not a member")
    LEGACY_CONTRACT = "legacy_contract", _("Joining agreement (old contract)")
    TERMS_ACCEPTED = "terms_accepted", _("Terms of use accepted")
    LAPSED = "lapsed", _("Lapsed")


class ContactRole(models.TextChoices):
    ADMINISTRATIVE = "administrative", _("Administrative contact")
    TECHNICAL = "technical", _("Technical contact")
    SECURITY = "security", _("Security contact")
    DATA_PROTECTION = "data_protection", _("Data protection contact")


class OrganisationQuerySet(models.QuerySet):
    def test(self) -> OrganisationQuerySet:
        return self.filter(oid__startswith=TEST_OID_PREFIX)

    def real(self) -> OrganisationQuerySet:
        return self.exclude(oid__startswith=TEST_OID_PREFIX)


class Organisation(models.Model):
    Kind = OrganisationKind
    Membership = Membership
    Sector = Sector

    oid = models.CharField(
        _("organisation OID"),
        max_length=MAX_OID_LENGTH,
        unique=True,
        validators=[organisation_oid_validator],
        help_text=_("From OPH's organisation service, e.g. 1.2.246.562.10.12345678901."),
    )
    name_fi = models.CharField(_("name in Finnish"), max_length=255)
    name_sv = models.CharField(_("name in Swedish"), max_length=255, blank=True)
    name_en = models.CharField(_("name in English"), max_length=255, blank=True)
    business_id = models.CharField(
        _("business ID"), max_length=9, blank=True, validators=[business_id_validator]
    )
    kind = models.CharField(_("kind"), max_length=32, choices=OrganisationKind.choices)
    membership = models.CharField(
        _("membership"), max_length=32, choices=Membership.choices, default=Membership.NONE
    )
    sectors = SectorsField(
        verbose_name=_("sectors"),
        default=list,
        blank=True,
        help_text=_(
            "The education sectors the organisation's users come from or its services serve."
        ),
    )
    test_learner_number_use = models.TextField(
        _("use of test learner numbers"),
        blank=True,
        help_text=_("A service provider's notification that it uses test learner numbers."),
    )
    test_learner_numbers_notified_at = models.DateTimeField(
        _("test learner numbers notified"), null=True, blank=True
    )
    created_at = models.DateTimeField(_("created"), auto_now_add=True)
    updated_at = models.DateTimeField(_("updated"), auto_now=True)

    objects = OrganisationQuerySet.as_manager()
    history = HistoricalRecords()

    class Meta:
        verbose_name = _("organisation")
        verbose_name_plural = _("organisations")
        ordering = ["name_fi"]
        constraints = [
            models.CheckConstraint(
                condition=models.Q(kind__in=OrganisationKind.values),
                name="organisation_kind_valid",
            ),
            models.CheckConstraint(
                condition=models.Q(membership__in=Membership.values),
                name="organisation_membership_valid",
            ),
        ]

    def __str__(self) -> str:
        return f"{self.name} ({self.oid})"

    @property
    def name(self) -> str:
        """The name in the active language, falling back to Finnish."""
        return localised(self, "name")

    def get_sectors_display(self) -> list[str]:
        """The sectors' names in the active language, in OPH's order."""
        return [str(Sector(code).label) for code in sectors_in_order(self.sectors)]

    @property
    def is_test(self) -> bool:
        return is_test_organisation_oid(self.oid)

    @property
    def is_education_provider(self) -> bool:
        return self.kind in self.Kind.values and self.Kind(self.kind).educates

    @property
    def is_service_provider(self) -> bool:
        return self.kind in self.Kind.values and self.Kind(self.kind).serves

    @property
    def may_use_test_learner_numbers(self) -> bool:
        """Test learner numbers (node 98) only for a service provider that notified their use."""
        return self.is_service_provider and self.test_learner_numbers_notified_at is not None


class ContactPerson(models.Model):
    Role = ContactRole

    organisation = models.ForeignKey(
        Organisation,
        on_delete=models.CASCADE,
        related_name="contacts",
        verbose_name=_("organisation"),
    )
    name = models.CharField(_("name"), max_length=200)
    email = models.EmailField(_("email address"))
    phone = PhoneNumberField(_("phone number"), blank=True)
    role = models.CharField(_("role"), max_length=32, choices=ContactRole.choices)
    language = models.CharField(
        _("language"), max_length=2, choices=Language.choices, default=Language.FI
    )
    is_active = models.BooleanField(_("active"), default=True)
    created_at = models.DateTimeField(_("created"), auto_now_add=True)
    updated_at = models.DateTimeField(_("updated"), auto_now=True)

    history = HistoricalRecords()

    class Meta:
        verbose_name = _("contact person")
        verbose_name_plural = _("contact persons")
        ordering = ["organisation", "role", "name"]
        constraints = [
            models.UniqueConstraint(
                "organisation",
                "role",
                Lower("email"),
                condition=models.Q(is_active=True),
                name="contact_unique_active_role_per_email",
                violation_error_message=_("This person is already an active contact in this role."),
            ),
            models.CheckConstraint(
                condition=models.Q(role__in=ContactRole.values),
                name="contact_role_valid",
            ),
        ]
        indexes = [models.Index(Lower("email"), name="contact_email_lower")]

    def __str__(self) -> str:
        return f"{self.name} <{self.email}> ({self.get_role_display()})"


def default_contract_end():
    return settings.LEGACY_CONTRACTS_END


class LegacyContract(models.Model):
    """A joining agreement from before the terms of use; it no longer holds after `ends_on`."""

    organisation = models.ForeignKey(
        Organisation,
        on_delete=models.CASCADE,
        related_name="legacy_contracts",
        verbose_name=_("organisation"),
    )
    contract_reference = models.CharField(_("contract reference"), max_length=100)
    signed_on = models.DateField(_("signed on"), null=True, blank=True)
    ends_on = models.DateField(_("ends on"), default=default_contract_end)
    notes = models.TextField(_("notes"), blank=True)

    history = HistoricalRecords()

    class Meta:
        verbose_name = _("joining agreement")
        verbose_name_plural = _("joining agreements")
        ordering = ["organisation", "signed_on"]
        constraints = [
            models.UniqueConstraint(
                fields=["organisation", "contract_reference"],
                name="legacy_contract_unique_reference",
            ),
        ]

    def __str__(self) -> str:
        return self.contract_reference

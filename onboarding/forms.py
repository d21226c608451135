"""Forms of the notification. They check input; the rules a notification keeps live in
onboarding.notification_data, and the forms show their errors next to the fields."""

from __future__ import annotations

from dataclasses import fields

from django import forms
from django.conf import settings
from django.utils.translation import gettext
from django.utils.translation import gettext_lazy as _
from phonenumber_field.formfields import PhoneNumberField

from onboarding.identifiers import validate_business_id, validate_organisation_oid
from onboarding.models import ContactPerson, Organisation
from onboarding.models.organisations import Language, OrganisationKind, Sector
from onboarding.notification_data import (
    KIND_MISSING,
    SECTORS_MISSING,
    ContactDetails,
    Declarations,
    contact_errors,
    declaration_errors,
)


def show_length_limits(form: forms.BaseForm, names: tuple[str, ...]) -> None:
    """Free-text fields say how long they may be. Their maxlength attribute stops typing (and
    a browser cuts a paste) without a word; a longer value posted anyway is an error, never cut.
    """
    for name in names:
        if field := form.fields.get(name):
            limit = gettext("At most %(max)s characters.") % {"max": field.max_length}
            field.help_text = f"{field.help_text} {limit}" if field.help_text else limit


class OidForm(forms.Form):
    # No max_length: its maxlength attribute would let a browser cut a pasted OID into another,
    # possibly valid, one. validate_organisation_oid refuses a too long one and says so.
    oid = forms.CharField(
        label=_("Organisation OID"),
        help_text=_(
            "The organisation's identifier in OPH's organisation service, for example "
            "1.2.246.562.10.12345678901."
        ),
        widget=forms.TextInput(
            attrs={"autocomplete": "off", "spellcheck": "false", "inputmode": "decimal"}
        ),
    )

    def clean_oid(self):
        return validate_organisation_oid(
            self.cleaned_data["oid"], allow_test=settings.ALLOW_TEST_ORGANISATIONS
        )


class NotificationForm(forms.Form):
    """The organisation, the declarations and, when due, the acceptance of the terms."""

    # notify.html shows the contact persons right after this field; the error summary lists
    # the errors in the page's order.
    contacts_follow = "sectors"

    name_fi = forms.CharField(
        label=_("Name in Finnish"),
        max_length=255,
        error_messages={"required": _("Enter the organisation's name in Finnish.")},
    )
    name_sv = forms.CharField(label=_("Name in Swedish"), max_length=255, required=False)
    name_en = forms.CharField(label=_("Name in English"), max_length=255, required=False)
    business_id = forms.CharField(
        label=_("Business ID (Y-tunnus)"),
        max_length=20,
        required=False,
        help_text=_("For example 0150783-1."),
    )
    kind = forms.ChoiceField(
        label=_("The organisation is"),
        choices=Organisation.Kind.choices,
        widget=forms.RadioSelect,
        error_messages={"required": KIND_MISSING},
    )
    sectors = forms.MultipleChoiceField(
        label=_("Sectors"),
        choices=Sector.choices,
        widget=forms.CheckboxSelectMultiple,
        error_messages={"required": SECTORS_MISSING},
    )
    learner_numbers_confirmed = forms.BooleanField(
        label=_(
            "Every one of our users who signs in through MPASSid has personal credentials and a "
            "learner number (oppijanumero), short-term users such as substitute teachers and "
            "exchange students included."
        ),
        required=False,
        help_text=_("Required of an education provider."),
    )
    uses_test_learner_numbers = forms.BooleanField(
        label=_("We will use test learner numbers (1.2.246.562.98) in testing."),
        required=False,
        help_text=_("Only a service provider may use test learner numbers."),
    )
    test_learner_number_use = forms.CharField(
        label=_("How you use test learner numbers"),
        required=False,
        max_length=2000,
        widget=forms.Textarea(attrs={"rows": 3}),
        help_text=_("If you will use them: briefly, in which environment and for what testing."),
    )
    accept_terms = forms.BooleanField(
        label=_("I accept the terms of use shown above on behalf of the organisation."),
        error_messages={"required": _("Accept the terms of use to send the notification.")},
    )
    accepter_name = forms.CharField(
        label=_("Your name"),
        max_length=200,
        error_messages={"required": _("Enter your name.")},
        widget=forms.TextInput(attrs={"autocomplete": "name"}),
    )
    accepter_title = forms.CharField(
        label=_("Your title"),
        max_length=200,
        help_text=_("For example Director of Education."),
        error_messages={"required": _("Enter your title.")},
        widget=forms.TextInput(attrs={"autocomplete": "organization-title"}),
    )
    authority_confirmed = forms.BooleanField(
        label=_("I confirm that I may bind the organisation to these terms."),
        error_messages={
            "required": _("Confirm that you may bind the organisation, or ask a person who may.")
        },
    )

    FREE_TEXT = (
        "name_fi",
        "name_sv",
        "name_en",
        "test_learner_number_use",
        "accepter_name",
        "accepter_title",
    )

    def __init__(self, *args, asks_acceptance: bool, **kwargs):
        super().__init__(*args, **kwargs)
        self.asks_acceptance = asks_acceptance
        # Required depending on the kind of the organisation or on the box above them.
        self.fields["learner_numbers_confirmed"].required_when_used = True
        self.fields["test_learner_number_use"].required_when_used = True
        self.fields["sectors"].help_text = sectors_help_text(self["kind"].value())
        if not asks_acceptance:
            for name in ("accept_terms", "accepter_name", "accepter_title", "authority_confirmed"):
                del self.fields[name]
        show_length_limits(self, self.FREE_TEXT)

    def show_registry_values(self, values: dict[str, str]) -> None:
        """Beside a field, the registry's value (`values` by field name) where it differs from
        the field's: the person decides which is right, and nothing they typed is replaced."""
        for name, value in values.items():
            bound = self[name]
            if value and value != str(bound.value() or "").strip():
                note = gettext("In OPH's organisation service: %(value)s") % {"value": value}
                # The bound field has its own copy of the help text, which the template shows.
                bound.help_text = f"{bound.help_text} {note}" if bound.help_text else note
                self.fields[name].help_text = bound.help_text  # names it in aria-describedby

    def clean_business_id(self):
        value = self.cleaned_data["business_id"].strip()
        return validate_business_id(value) if value else ""

    def clean(self):
        """Nothing typed is dropped unseen. The learner-number confirmation is kept whatever the
        kind (true of a service provider's users too, and shown on the check page); test learner
        numbers declared for a kind that cannot use them are an error to correct, since the kind
        may be the mistake. The rules are `declaration_errors`; a field already in error (too
        long a description) keeps its own."""
        data = super().clean()
        declarations = Declarations(
            learner_numbers_confirmed=data.get("learner_numbers_confirmed", False),
            uses_test_learner_numbers=data.get("uses_test_learner_numbers", False),
            test_learner_number_use=data.get("test_learner_number_use", ""),
        )
        for field, error in declaration_errors(data.get("kind"), declarations).items():
            if field not in self.errors:
                self.add_error(field, error)
        return data


def sectors_help_text(kind: str | None) -> str:
    """What the sectors mean for the kind chosen (both meanings while no kind is chosen):
    an education provider's users come from them, a service provider's services serve them."""
    if kind == OrganisationKind.EDUCATION_PROVIDER:
        return gettext("The sectors your users come from.")
    if kind == OrganisationKind.SERVICE_PROVIDER:
        return gettext("The sectors your services serve.")
    educates = gettext("Education providers: the sectors your users come from.")
    serves = gettext("Service providers: the sectors your services serve.")
    return f"{educates} {serves}"


class ContactForm(forms.Form):
    """One contact person. A row left wholly empty is skipped; a started one needs a name and an
    email address. The phone is optional: imported contacts have none, and a person who only
    confirms the contacts must not be stopped by what nobody asked them for."""

    name = forms.CharField(label=_("Name"), max_length=200, required=False)
    email = forms.EmailField(label=_("Email address"), required=False, max_length=254)
    phone = PhoneNumberField(
        label=_("Phone number"),
        region="FI",
        required=False,
        help_text=_("If given: a number at which OPH can reach the person, e.g. +358 40 123 4567."),
        error_messages={
            "invalid": _(
                "Enter a valid phone number, for example +358 40 123 4567 or 040 123 4567."
            )
        },
    )
    role = forms.ChoiceField(
        label=_("Role"),
        choices=ContactPerson.Role.choices,
        error_messages={"required": _("Choose the contact person's role.")},
    )
    language = forms.ChoiceField(
        label=_("Language for emails"),
        choices=Language.choices,
        initial=Language.FI,
        error_messages={"required": _("Choose the language of the contact person's emails.")},
    )

    TYPED = ("name", "email", "phone")  # a row with any of these is started
    MISSING = {
        "name": _("Enter the contact person's name."),
        "email": _("Enter the contact person's email address."),
    }

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        for name in self.MISSING:
            self.fields[name].required_when_used = True  # required once the row is started
        show_length_limits(self, ("name",))

    @property
    def is_blank(self) -> bool:
        return not any(self.data.get(self.add_prefix(f), "").strip() for f in self.TYPED)

    def clean(self):
        data = super().clean()
        if self.is_blank:
            return data
        for field, message in self.MISSING.items():
            if field not in self.errors and not data.get(field):
                self.add_error(field, message)
        if data.get("email"):
            data["email"] = data["email"].strip().lower()
        if data.get("phone"):
            data["phone"] = data["phone"].as_e164
        return data


class BaseContactFormSet(forms.BaseFormSet):
    def contacts(self) -> list[ContactDetails]:
        """The filled-in rows."""
        return [
            ContactDetails(**{f.name: form.cleaned_data[f.name] for f in fields(ContactDetails)})
            for form in self.forms
            if not form.is_blank
        ]

    def clean(self):
        """The contact rules of `contact_errors`; the first one broken is shown."""
        if any(self.errors):
            return
        if errors := contact_errors(self.contacts()):
            raise errors[0]


ContactFormSet = forms.formset_factory(
    ContactForm, formset=BaseContactFormSet, extra=0, max_num=20, validate_max=True
)


def contact_rows(contacts: list[dict] | None) -> list[dict]:
    """Initial rows: the given contacts, or one empty row for each role (first two required)."""
    if contacts:
        return [dict(contact) for contact in contacts]
    return [{"role": role, "language": Language.FI} for role in ContactPerson.Role.values]


class DecisionForm(forms.Form):
    """A reviewer's decision on a notification."""

    decision = forms.ChoiceField(
        choices=[
            ("approve", _("Approve")),
            ("reject", _("Reject")),
            ("request_changes", _("Request changes")),
        ]
    )
    reason = forms.CharField(
        label=_("Reason (sent to the submitter and the administrative contacts)"),
        required=False,
        widget=forms.Textarea(attrs={"rows": 4}),
    )

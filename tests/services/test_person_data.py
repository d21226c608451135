"""A person's data on request: staff export everything held about an address, history
included, and erase (pseudonymise) it; acceptance evidence keeps the accepting person's name,
and both say so."""

from __future__ import annotations

import json

import pytest
from allauth.account.models import EmailAddress
from django.core.exceptions import ValidationError
from django.core.serializers.json import DjangoJSONEncoder
from django.forms.models import model_to_dict
from django.utils import timezone, translation

from onboarding import services
from onboarding.models import (
    CampaignMessage,
    ContactPerson,
    ContactsConfirmationMessage,
    ContactsConfirmationRound,
    ContactsConfirmationTarget,
    OutgoingEmail,
    PersonErasure,
    Registration,
    TermsAcceptance,
    User,
)
from onboarding.services.confirmations import (
    ConfirmationLink,
    contacts_confirm,
    contacts_confirmations_send_due,
)
from onboarding.services.privacy import (
    ERASED_NAME,
    EVIDENCE_KEPT,
    person_data_export,
    person_erase,
    person_erasure_plan,
)
from tests.factories import (
    ALICE,
    LEMPAALA_IT,
    ContactPersonFactory,
    launched_campaign,
    notification,
    verified_user,
)

pytestmark = pytest.mark.django_db

with translation.override("fi"):
    ERASED = str(ERASED_NAME)  # the label stored, in the portal's first language

Kind = OutgoingEmail.Kind


@pytest.fixture
def alices_data(settings, terms, lempaala, borga, alice, charlie):
    """alice as the portal knows her after some use: Lempäälä's administrative contact (her
    phone number changed once) and, under her address in capitals, Borgå's security contact;
    she sent Lempäälä's notification accepting the terms, which charlie approved; she confirmed
    Lempäälä's contacts in this year's round; one sign-in code was emailed to her."""
    contact = lempaala.contacts.get(email=ALICE)
    contact.phone = "+358409999999"
    contact.save()
    ContactPersonFactory(organisation=borga, email=ALICE.upper(), name="Alice A.", role="security")
    registration = notification(terms, user=alice)
    services.registration_approve(registration_id=registration.pk, reviewer=charlie)
    settings.CONTACTS_CONFIRMATION_MONTH = timezone.localdate().month
    contacts_confirmations_send_due()
    confirmation_round = ContactsConfirmationRound.objects.get()
    contacts_confirm(link=ConfirmationLink(confirmation_round.pk, lempaala.pk, ALICE))
    OutgoingEmail.objects.create(
        key=f"sign_in_code:{ALICE}",
        kind=Kind.SIGN_IN_CODE,
        to=ALICE,
        language="fi",
        subject="MPASSid: kirjautumiskoodi",
        body_text="Koodisi on 482913.",
    )
    return registration


def test_the_export_holds_every_record_about_the_person(alices_data, lempaala, borga):
    export = person_data_export(email=" Alice@Lempaala.fi ")

    assert export["email"] == ALICE
    assert {(c["organisation"]["oid"], c["role"]) for c in export["contacts"]} == {
        (lempaala.oid, "administrative"),
        (borga.oid, "security"),
    }
    phones = [row["phone"] for row in export["contact_history"] if row["role"] == "administrative"]
    # Created, changed, then as the approved notification gave it.
    assert phones == ["+358401234567", "+358409999999", "+358401234567"]
    [sent] = export["notifications"]
    assert sent["id"] == alices_data.pk and sent["sent_by_you"]
    assert sent["named_as_contact"][0]["name"] == "Alice Aaltonen"
    assert sent["acceptance"]["accepter_name"] == "Alice Aaltonen"
    [acceptance] = export["acceptances"]
    assert acceptance["accepter_name"] == "Alice Aaltonen"
    assert acceptance["ip_address"] == "192.0.2.7"
    assert export["account"]["email"] == ALICE
    assert export["account"]["second_factors"] == 0
    kinds = {message["kind"] for message in export["emails"]}
    assert {Kind.RECEIPT, Kind.DECISION, Kind.CONTACTS_CONFIRMATION, Kind.SIGN_IN_CODE} <= kinds
    [confirmation] = export["contact_confirmations"]
    assert confirmation["organisation"]["oid"] == lempaala.oid
    assert export["evidence_kept"] == str(EVIDENCE_KEPT)
    json.dumps(export, cls=DjangoJSONEncoder)  # downloadable as it is


def test_the_export_never_carries_a_sign_in_code(alices_data):
    export = person_data_export(email=ALICE)

    [code] = [m for m in export["emails"] if m["kind"] == Kind.SIGN_IN_CODE]
    assert code["subject"] == "MPASSid: kirjautumiskoodi"
    assert code["text"] is None
    assert "482913" not in json.dumps(export, cls=DjangoJSONEncoder)


def test_a_person_the_portal_does_not_know_exports_as_empty(db):
    export = person_data_export(email="nobody@example.fi")

    assert export["contacts"] == export["notifications"] == export["emails"] == []
    assert export["account"] is None


def evidence() -> list[dict]:
    acceptances = [model_to_dict(a) for a in TermsAcceptance.objects.order_by("pk")]
    registrations = [
        model_to_dict(r, exclude=["status"]) for r in Registration.objects.order_by("pk")
    ]
    history = list(Registration.history.order_by("history_id").values("data", "history_user"))
    return [acceptances, registrations, history]


def test_erasing_a_person_pseudonymises_their_contacts_history_and_emails(
    alices_data, lempaala, charlie
):
    teemu = verified_user(LEMPAALA_IT)
    OutgoingEmail.objects.create(
        key=f"terms_changed:1:{LEMPAALA_IT}",
        kind=Kind.TERMS_CHANGED,
        to=LEMPAALA_IT,
        language="sv",
        subject="MPASSid: användarvillkoren ändras",
        body_text="Hej Teemu Tekninen, ...",
    )
    before = evidence()

    result = person_erase(email=LEMPAALA_IT, by=charlie)

    pseudonym = result.erasure.pseudonym
    assert pseudonym.endswith("@erased.invalid")
    [contact] = ContactPerson.objects.filter(email=pseudonym)
    assert (contact.name, str(contact.phone), contact.is_active) == (ERASED, "", False)
    assert not ContactPerson.history.filter(email__iexact=LEMPAALA_IT).exists()
    assert not ContactPerson.history.filter(name="Teemu Tekninen").exists()
    assert ContactPerson.history.filter(id=contact.pk).latest().history_user == charlie
    emails = OutgoingEmail.objects.filter(to=pseudonym)
    assert emails.exists()
    assert not OutgoingEmail.objects.filter(to__iexact=LEMPAALA_IT).exists()
    assert all(e.body_text == e.body_html == "" for e in emails)
    assert not OutgoingEmail.objects.filter(key__icontains=LEMPAALA_IT).exists()
    teemu.refresh_from_db()
    assert (teemu.email, teemu.is_active, teemu.has_usable_password()) == (pseudonym, False, False)
    assert not EmailAddress.objects.filter(user=teemu).exists()
    assert evidence() == before  # he is still named in the notification sent: it is evidence
    assert result.plan.notifications_kept == 1
    assert result.evidence_kept == str(EVIDENCE_KEPT)


def test_erasing_a_person_who_accepted_keeps_the_evidence_and_their_account(
    alices_data, lempaala, borga, alice, charlie
):
    before = evidence()

    result = person_erase(email=ALICE, by=charlie)

    assert evidence() == before
    assert TermsAcceptance.objects.get().accepter_name == "Alice Aaltonen"
    assert result.plan.account_kept and result.plan.acceptances_kept == 1
    alice.refresh_from_db()
    assert alice.email == ALICE and alice.is_active
    assert not ContactPerson.objects.filter(email__iexact=ALICE).exists()
    assert ContactPerson.objects.filter(email=result.erasure.pseudonym).count() == 2
    target = ContactsConfirmationTarget.objects.get(organisation=lempaala)
    assert target.confirmed_by_email == result.erasure.pseudonym
    assert target.confirmed_by_name == ERASED
    assert not ContactsConfirmationMessage.objects.filter(recipient__iexact=ALICE).exists()


def test_the_erasure_is_recorded_without_the_erased_data(alices_data, charlie):
    result = person_erase(email=ALICE, by=charlie)

    record = PersonErasure.objects.get()
    assert (record.erased_by, record.pseudonym) == (charlie, result.erasure.pseudonym)
    assert record.changed["contacts"] == 2
    stored = json.dumps(model_to_dict(record), cls=DjangoJSONEncoder).lower()
    assert "alice" not in stored


def test_a_queued_email_to_an_erased_person_is_never_sent(lempaala, terms, charlie):
    launched_campaign(terms)
    queued = OutgoingEmail.objects.filter(to=ALICE, status=OutgoingEmail.Status.QUEUED)
    assert queued.exists()

    result = person_erase(email=ALICE, by=charlie)

    pseudonym = result.erasure.pseudonym
    assert set(OutgoingEmail.objects.filter(to=pseudonym).values_list("status", flat=True)) == {
        OutgoingEmail.Status.FAILED
    }
    assert CampaignMessage.objects.filter(recipient=pseudonym).exists()


def test_after_the_erasure_nothing_but_evidence_is_found_under_the_address(alices_data, charlie):
    person_erase(email=LEMPAALA_IT, by=charlie)

    export = person_data_export(email=LEMPAALA_IT)

    assert export["contacts"] == export["contact_history"] == export["emails"] == []
    assert len(export["notifications"]) == 1  # the notification as sent names him


def test_an_address_with_nothing_to_erase_is_refused_and_nothing_recorded(db, charlie):
    with pytest.raises(ValidationError, match="Nothing under this address"):
        person_erase(email="nobody@example.fi", by=charlie)
    assert not PersonErasure.objects.exists()


def test_staff_accounts_are_not_erased_here(charlie, admin_user):
    with pytest.raises(ValidationError, match="OPH staff"):
        person_erasure_plan(email=charlie.email)
    assert User.objects.get(pk=charlie.pk).is_active

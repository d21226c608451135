"""The notification form's input rules: what people type is kept whole or refused with a reason,
what is required says so, and the errors read in the page's order."""

from __future__ import annotations

import html
import re

import pytest
from django.utils.html import escape

from tests.factories import LEMPAALA as OID
from tests.factories import ContactPersonFactory, OrganisationFactory
from tests.notification_form import CHECK, FORM, valid_post

pytestmark = pytest.mark.django_db

USE = "Testiympäristö: kirjautumisen testaus"


def summary_items(page: str) -> list[str]:
    summary = re.search(r'<div class="error-summary".*?</div>', page, re.S)[0]
    items = re.findall(r"<li>(.*?)</li>", summary, re.S)
    return [html.unescape(re.sub(r"<[^>]+>", "", item)).strip() for item in items]


def error_at(page: str, field_id: str) -> str:
    """The error shown beside the field, as read."""
    error = re.search(rf'<p class="error-message" id="{field_id}_error">(.*?)</p>', page, re.S)[1]
    return html.unescape(re.sub(r"<[^>]+>", "", error))


def input_tag(page: str, name: str) -> str:
    return re.search(rf'<(?:input|textarea)[^>]*\bname="{name}"[^>]*>', page)[0]


def label_of(page: str, field_id: str) -> str:
    label = re.search(rf'<label for="{field_id}">(.*?)</label>', page, re.S)[1]
    return " ".join(re.sub(r"<[^>]+>", "", label).split())


def hint_of(page: str, field_id: str) -> str:
    return re.search(rf'<div class="hint" id="{field_id}_helptext">(.*?)</div>', page, re.S)[1]


# Lengths: shown before typing, refused whole after.
@pytest.mark.parametrize(
    ("name", "limit"),
    [
        ("name_fi", 255),
        ("name_sv", 255),
        ("test_learner_number_use", 2000),
        ("accepter_name", 200),
        ("contacts-0-name", 200),
    ],
)
def test_a_free_text_field_says_its_maximum_length(client, person, terms, name, limit):
    page = client.get(FORM).content.decode()
    assert f'maxlength="{limit}"' in input_tag(page, name)
    assert f"At most {limit} characters." in hint_of(page, f"id_{name}")
    assert f"id_{name}_helptext" in input_tag(page, name)  # read out with the field


def test_a_value_longer_than_allowed_is_refused_whole_never_cut(client, person, terms):
    long_name = "Lempäälän kunnan sivistys- ja vapaa-aikapalveluiden tulosalue " * 5  # 310
    response = client.post(FORM, valid_post(name_fi=long_name))
    page = response.content.decode()
    assert response.status_code == 400
    assert "at most 255 characters" in error_at(page, "id_name_fi")
    assert f'value="{escape(long_name)}"' in input_tag(page, "name_fi")


def test_the_length_error_is_in_the_pages_language(client, person, terms):
    page = client.post(f"/notify/{OID}/", valid_post(name_fi="x" * 256)).content.decode()
    assert "255" in error_at(page, "id_name_fi")
    assert "Ensure this value" not in error_at(page, "id_name_fi")  # Django's Finnish text


def test_an_oid_longer_than_any_real_one_is_refused_and_left_whole_for_correcting(client, person):
    pasted = f"{OID}{OID}{OID}"  # pasted three times: 78 characters
    response = client.post("/en/notify/", {"oid": pasted})
    page = response.content.decode()
    assert response.status_code == 400
    message = "The identifier is too long (78 characters): no OID has more than 64."
    assert message in error_at(page, "id_oid") and message in summary_items(page)[0]
    oid_input = input_tag(page, "oid")
    assert f'value="{pasted}"' in oid_input and "maxlength" not in oid_input  # nothing cuts it


# The declarations when the kind changes.
def test_test_learner_numbers_declared_for_an_education_provider_must_be_cleared_first(
    client, person, terms
):
    post = valid_post(uses_test_learner_numbers="on", test_learner_number_use=USE)
    response = client.post(FORM, post)  # the kind switched back from "both"
    page = response.content.decode()
    assert response.status_code == 400
    assert "Only a service provider may use test learner numbers." in error_at(
        page, "id_uses_test_learner_numbers"
    )
    assert re.search(r'name="uses_test_learner_numbers"[^>]*\bchecked', page)
    assert re.search(rf">\s*{USE}</textarea>", page)
    assert client.get(CHECK)["Location"] == FORM  # nothing went on to be checked


def test_a_description_of_test_use_alone_is_not_dropped_either(client, person, terms):
    education = client.post(FORM, valid_post(test_learner_number_use=USE))
    assert "Clear this description" in error_at(
        education.content.decode(), "id_test_learner_number_use"
    )
    service = client.post(FORM, valid_post(kind="service_provider", test_learner_number_use=USE))
    assert "Tick this if you will use test learner numbers" in error_at(
        service.content.decode(), "id_uses_test_learner_numbers"
    )


def test_the_learner_number_confirmation_is_kept_for_a_service_provider_and_shown(
    client, person, terms
):
    response = client.post(FORM, valid_post(kind="service_provider"))
    assert response["Location"] == CHECK
    check = client.get(CHECK).content.decode()
    assert "has personal credentials and a learner number." in check
    assert "Nothing to declare." not in check


# Required and optional.
def test_optional_fields_say_so_and_required_ones_do_not(client, person, terms):
    page = client.get(FORM).content.decode()
    optional = [
        "id_name_sv",
        "id_business_id",
        "id_uses_test_learner_numbers",
        "id_contacts-0-phone",
    ]
    required = ["id_name_fi", "id_contacts-0-name", "id_contacts-0-email", "id_accept_terms"]
    required += ["id_learner_numbers_confirmed", "id_test_learner_number_use", "id_accepter_name"]
    assert [f for f in optional if not label_of(page, f).endswith("(optional)")] == []
    assert [f for f in required if "(optional)" in label_of(page, f)] == []
    assert "Every field is required unless it says (optional)." in page
    for name in ("name_fi", "accept_terms", "accepter_name", "authority_confirmed"):
        assert re.search(r"\brequired\b", input_tag(page, name)), name


def test_the_conditionally_required_declarations_say_when(client, person, terms):
    page = client.get(FORM).content.decode()
    assert "Required of an education provider." in hint_of(page, "id_learner_numbers_confirmed")
    assert "Only a service provider" in hint_of(page, "id_uses_test_learner_numbers")
    assert "If you will use them" in hint_of(page, "id_test_learner_number_use")


# The phone.
def test_a_contact_without_a_phone_number_is_accepted(client, person, terms):
    no_phones = {"contacts-0-phone": "", "contacts-1-phone": ""}
    response = client.post(FORM, valid_post(**no_phones))
    assert response["Location"] == CHECK
    assert "Teemu Tekninen" in client.get(CHECK).content.decode()


def test_an_invited_contact_confirms_imported_contacts_that_have_no_phone(client, person, terms):
    lempaala = OrganisationFactory(oid=OID, name_fi="Lempäälän kunta")
    ContactPersonFactory(organisation=lempaala, email=person.email, name="Alice", phone="")
    ContactPersonFactory(organisation=lempaala, email="it@koulu.fi", phone="", role="technical")
    page = client.get(FORM).content.decode()
    assert 'name="contacts-TOTAL_FORMS" value="2"' in page
    assert label_of(page, "id_contacts-1-phone") == "Phone number (optional)"
    confirmed = {
        "contacts-TOTAL_FORMS": "2",
        **{f"contacts-{i}-phone": "" for i in range(2)},
        "contacts-1-name": "Tekninen tuki",
        "contacts-1-email": "it@koulu.fi",
        "contacts-0-email": person.email,
    }
    assert client.post(FORM, valid_post(**confirmed))["Location"] == CHECK


def test_a_phone_number_given_is_still_checked_with_the_portals_own_message(client, person, terms):
    response = client.post(FORM, valid_post(**{"contacts-1-phone": "040 12"}))
    page = response.content.decode()
    message = "Enter a valid phone number, for example +358 40 123 4567 or 040 123 4567."
    assert response.status_code == 400
    assert message in error_at(page, "id_contacts-1-phone")
    assert "international call prefix" not in page  # django-phonenumber-field's wording


def test_the_phone_hint_says_it_may_be_left_out_and_how_to_write_it(client, person, terms):
    hint = hint_of(client.get(FORM).content.decode(), "id_contacts-0-phone")
    assert hint.startswith("If given:") and "+358 40 123 4567" in hint


# The error summary.
def test_the_summary_lists_errors_in_the_pages_order_and_names_the_contact_row(
    client, person, terms
):
    mistakes = {
        "name_fi": "",
        "contacts-1-email": "",
        "learner_numbers_confirmed": "",
        "accept_terms": "",
    }
    page = client.post(FORM, valid_post(**mistakes)).content.decode()
    assert summary_items(page) == [
        "Enter the organisation's name in Finnish.",
        "Contact 2: Enter the contact person's email address.",
        "An education provider must confirm that its users have personal credentials and a "
        "learner number.",
        "Accept the terms of use to send the notification.",
    ]
    assert "<legend>Contact 2</legend>" in page
    assert "Enter the contact person's email address." in error_at(page, "id_contacts-1-email")


# The title.
@pytest.mark.parametrize(
    ("language", "name"),
    [("", "Lempäälän kunta"), ("/sv", "Lempäälä kommun"), ("/en", "Lempäälän kunta")],
    ids=["finnish", "swedish", "english-falls-back-to-finnish"],
)
def test_the_title_names_the_organisation_in_the_pages_language(
    client, person, terms, language, name
):
    OrganisationFactory(oid=OID, name_fi="Lempäälän kunta", name_sv="Lempäälä kommun", name_en="")
    page = client.get(f"{language}/notify/{OID}/").content.decode()
    title = re.search(r"<title>(.*?)</title>", page, re.S)[1]
    heading = re.search(r"<h1>(.*?)</h1>", page, re.S)[1]
    assert name in title and name in heading
    others = {"Lempäälän kunta", "Lempäälä kommun"} - {name}
    assert not any(other in title or other in heading for other in others)

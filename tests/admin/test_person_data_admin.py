"""Staff export a person's data as a JSON file and erase it after a confirmation page, from the
contact persons' list; reviewers may export but not erase."""

from __future__ import annotations

import json

import pytest
from allauth.mfa.totp.internal.auth import TOTP, generate_totp_secret
from django.contrib.auth.models import Group
from django.urls import reverse
from django.utils import translation

from onboarding.models import ContactPerson, PersonErasure
from onboarding.permissions import REVIEWERS
from tests.factories import ALICE, LEMPAALA_IT, TermsAcceptanceFactory

pytestmark = pytest.mark.django_db

with translation.override("en"):  # the admin in English, as the tests read it
    PAGE = reverse("admin:onboarding_contactperson_person_data")
    CHANGELIST = reverse("admin:onboarding_contactperson_changelist")


@pytest.fixture
def reviewer_client(client, charlie):
    """charlie, in the Reviewers group, signed in to the admin with a second factor."""
    charlie.groups.add(Group.objects.get(name=REVIEWERS))
    TOTP.activate(charlie, generate_totp_secret())
    client.force_login(charlie)
    return client


def test_the_contact_list_links_to_the_personal_data_page(admin_client, lempaala):
    page = admin_client.get(CHANGELIST).content.decode()

    assert f'href="{PAGE}"' in page
    assert admin_client.get(PAGE).status_code == 200


def test_staff_download_a_persons_data_as_json(admin_client, lempaala):
    response = admin_client.post(PAGE, {"email": "ALICE@lempaala.fi", "export": "1"})

    assert response.status_code == 200
    assert response["Content-Disposition"].startswith('attachment; filename="mpassid-person')
    document = json.loads(response.content)
    assert document["email"] == ALICE
    assert [c["name"] for c in document["contacts"]] == ["Alice Aaltonen"]


def test_the_export_action_downloads_the_selected_persons_data(admin_client, lempaala):
    contact = lempaala.contacts.get(email=ALICE)

    response = admin_client.post(
        CHANGELIST, {"action": "export_person_data", "_selected_action": [contact.pk]}
    )

    assert json.loads(response.content)["email"] == ALICE


def test_erasing_shows_what_changes_and_what_is_kept_before_anything_happens(
    admin_client, lempaala, terms, alice
):
    TermsAcceptanceFactory(organisation=lempaala, terms_version=terms, accepted_by=alice)

    page = admin_client.post(PAGE, {"email": ALICE, "review": "1"}).content.decode()

    assert "Erase a person&#x27;s data?" in page
    assert "The organisation then needs a new contact in this role." in page
    assert "1 acceptance of the terms of use made by the person." in page
    assert "legal claims" in page
    assert ContactPerson.objects.filter(email=ALICE).exists()
    assert not PersonErasure.objects.exists()


def test_confirming_erases_and_records_who_did_it(admin_client, admin_user, lempaala):
    response = admin_client.post(PAGE, {"email": LEMPAALA_IT, "erase": "1"})

    assert response.status_code == 302
    assert response["Location"] == reverse("admin:onboarding_personerasure_changelist")
    assert not ContactPerson.objects.filter(email__iexact=LEMPAALA_IT).exists()
    erasure = PersonErasure.objects.get()
    assert erasure.erased_by == admin_user
    listing = admin_client.get(response["Location"]).content.decode()
    assert erasure.pseudonym in listing


def test_an_address_the_portal_does_not_know_has_nothing_to_erase(admin_client, lempaala):
    page = admin_client.post(PAGE, {"email": "nobody@example.fi", "review": "1"})

    assert "Nothing under this address can be erased." in page.content.decode()
    assert "Yes, erase the data" not in page.content.decode()


def test_the_erase_action_asks_for_a_confirmation_for_one_person(admin_client, lempaala):
    contact = lempaala.contacts.get(email=LEMPAALA_IT)

    page = admin_client.post(
        CHANGELIST, {"action": "erase_person_data", "_selected_action": [contact.pk]}
    )

    assert "Yes, erase the data" in page.content.decode()
    assert ContactPerson.objects.filter(email=LEMPAALA_IT).exists()


def test_the_actions_want_the_rows_of_one_person(admin_client, lempaala):
    both = list(lempaala.contacts.values_list("pk", flat=True))

    response = admin_client.post(
        CHANGELIST, {"action": "erase_person_data", "_selected_action": both}, follow=True
    )

    assert "Choose the rows of one person" in response.content.decode()


def test_a_reviewer_may_export_but_not_erase(reviewer_client, lempaala):
    assert reviewer_client.post(PAGE, {"email": ALICE, "export": "1"}).status_code == 200
    assert "Erase the data" not in reviewer_client.get(PAGE).content.decode()

    assert reviewer_client.post(PAGE, {"email": ALICE, "erase": "1"}).status_code == 403
    assert ContactPerson.objects.filter(email=ALICE).exists()


def test_nobody_signed_out_reaches_the_page(client, lempaala):
    response = client.post(PAGE, {"email": ALICE, "export": "1"})

    assert response.status_code == 302
    assert "login" in response["Location"]


def test_the_list_of_erasures_reads_in_a_constant_number_of_queries(
    admin_client, admin_user, django_assert_max_num_queries
):
    for number in range(5):
        PersonErasure.objects.create(
            erased_by=admin_user, pseudonym=f"erased-{number}@erased.invalid", changed={"x": 1}
        )

    with django_assert_max_num_queries(12):
        response = admin_client.get(reverse("admin:onboarding_personerasure_changelist"))
    assert response.status_code == 200

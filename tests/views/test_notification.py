"""The notification as a person makes it: the OID, the form, checking the answers, sending once."""

from __future__ import annotations

import re
from datetime import date

import pytest
from allauth.account.models import EmailAddress
from django.http import HttpResponse
from django.test import Client
from django.urls import reverse
from django.utils.html import escape

from onboarding.models import OutgoingEmail, Registration, TermsVersion, User
from tests.factories import (
    ContactPersonFactory,
    OrganisationFactory,
    TermsAcceptanceFactory,
    UserFactory,
    published_terms,
)

pytestmark = pytest.mark.django_db

OID = "1.2.246.562.10.40000000001"
FORM = f"/en/notify/{OID}/"
CHECK, SUBMIT = f"{FORM}check/", f"{FORM}submit/"
TYPED_TEXT = ("name_fi", "name_sv", "name_en", "business_id", "accepter_name", "accepter_title")
CONTACT_ROWS = [  # name, email, phone, role, language; the last two rows are left empty
    ("Riikka Rehtori", "Rehtori@Koulu.fi", "040 1234567", "administrative", "fi"),
    ("Teemu Tekninen", "it-tuki@koulu.fi", "050 7654321", "technical", "sv"),
    ("", "", "", "security", "fi"),
    ("", "", "", "data_protection", "fi"),
]
STORED_CONTACTS = [
    {
        "name": "Riikka Rehtori",
        "email": "rehtori@koulu.fi",
        "phone": "+358401234567",
        "role": "administrative",
        "language": "fi",
    },
    {
        "name": "Teemu Tekninen",
        "email": "it-tuki@koulu.fi",
        "phone": "+358507654321",
        "role": "technical",
        "language": "sv",
    },
]


def verified_user(email: str = "hakija@koulu.fi", **extra: object) -> User:
    user = UserFactory(email=email, **extra)
    EmailAddress.objects.create(user=user, email=email, verified=True, primary=True)
    return user


@pytest.fixture
def terms() -> TermsVersion:
    return published_terms(version="2024-1")


@pytest.fixture
def person(client: Client) -> User:
    user = verified_user()
    client.force_login(user)
    return user


def valid_post(token: str = "", acceptance: bool = True, **changes: str) -> dict[str, str]:
    """A complete, valid notification as the browser posts it; `changes` replace fields (an
    empty string is an empty input or an unticked checkbox)."""
    data = {
        "token": token or "8b0c3f5e-4a51-4d7e-9a3f-2f1b8c6d7e90",
        "name_fi": "Lempäälän kunta",
        "name_sv": "Lempäälä kommun",
        "name_en": "Municipality of Lempäälä",
        "business_id": "0150783-1",
        "kind": "education_provider",
        "learner_numbers_confirmed": "on",
        "contacts-TOTAL_FORMS": str(len(CONTACT_ROWS)),
        "contacts-INITIAL_FORMS": str(len(CONTACT_ROWS)),
        "contacts-MIN_NUM_FORMS": "0",
        "contacts-MAX_NUM_FORMS": "20",
    }
    for i, row in enumerate(CONTACT_ROWS):
        data.update(zip([f"contacts-{i}-{f}" for f in ("name", "email", "phone", "role", "language")], row, strict=True))
    if acceptance:
        data.update(
            accept_terms="on",
            accepter_name="Riikka Rehtori",
            accepter_title="Sivistysjohtaja",
            authority_confirmed="on",
        )
    return {**data, **changes}


def token_on(page: str) -> str:
    return re.search(r'name="token" value="([^"]+)"', page)[1]


def summary_of(page: str) -> str:
    return re.search(r'<div class="error-summary".*?</div>', page, re.S)[0]


def error_at(page: str, field: str) -> str:
    """The error shown beside the field; `contacts` is the contact persons' section."""
    if field == "contacts":
        return page.split('id="contacts"', 1)[1].split('class="contact"', 1)[0]
    return re.search(rf'<p class="error-message" id="{field}_error">(.*?)</p>', page, re.S)[1]


def assert_keeps_typed(page: str, post: dict[str, str]) -> None:
    for key, value in post.items():
        if key in TYPED_TEXT or re.fullmatch(r"contacts-\d+-(name|email|phone)", key):
            if value.strip():
                assert f'name="{key}" value="{escape(value)}"' in page, key
        elif value == "on":
            assert re.search(rf'type="checkbox" name="{key}"[^>]*\bchecked', page), key
    if post["kind"]:
        assert re.search(rf'name="kind" value="{post["kind"]}"[^>]*\bchecked', page)


def notify(client: Client, capture, post: dict[str, str] | None = None, **meta: str):
    """Fill in the form with the token it gives, check, and send; the submit's response."""
    post = {**(post or valid_post()), "token": token_on(client.get(FORM).content.decode())}
    assert client.post(FORM, post)["Location"] == CHECK
    with capture(execute=True):
        return client.post(SUBMIT, {"token": post["token"]}, **meta)


def test_a_notification_becomes_one_registration_with_exactly_what_was_typed(
    client, person, terms, django_capture_on_commit_callbacks, mailoutbox
):
    reviewer = UserFactory(email="kasittelija@oph.fi", is_staff=True)
    UserFactory(email="entinen@oph.fi", is_staff=True, is_active=False)
    form = f"/sv/notify/{OID}/"
    token = token_on(client.get(form).content.decode())
    post = valid_post(token, kind="both", uses_test_learner_numbers="on")
    post["test_learner_number_use"] = "Testiympäristö: kirjautumisen testaus"
    response = client.post(form, post)
    assert response.status_code == 302 and response["Location"] == f"{form}check/"

    check = client.get(f"{form}check/").content.decode()
    for shown in ("Lempäälän kunta", "0150783-1", "rehtori@koulu.fi", "+358507654321"):
        assert shown in check
    for shown in ("Sivistysjohtaja", post["test_learner_number_use"], terms.content_sha256):
        assert shown in check
    with django_capture_on_commit_callbacks(execute=True):
        sent = client.post(
            f"{form}submit/",
            {"token": token_on(check)},
            REMOTE_ADDR="198.51.100.7",
            HTTP_USER_AGENT="Mozilla/5.0 (pytest)",
        )

    registration = Registration.objects.get()
    assert sent.status_code == 302 and sent["Location"] == f"/sv/registrations/{registration.pk}/"
    assert registration.data == {
        "organisation": {
            "oid": OID,
            "name_fi": "Lempäälän kunta",
            "name_sv": "Lempäälä kommun",
            "name_en": "Municipality of Lempäälä",
            "business_id": "0150783-1",
            "kind": "both",
        },
        "contacts": STORED_CONTACTS,
        "declarations": {
            "learner_numbers_confirmed": True,
            "uses_test_learner_numbers": True,
            "test_learner_number_use": "Testiympäristö: kirjautumisen testaus",
        },
        "acceptance": {
            "terms_version": "2024-1",
            "content_sha256": terms.content_sha256,
            "accepter_name": "Riikka Rehtori",
            "accepter_title": "Sivistysjohtaja",
            "authority_confirmed": True,
        },
    }
    assert str(registration.submission_token) == token
    assert (registration.oid, registration.terms_version, registration.content_sha256) == (
        OID,
        terms,
        terms.content_sha256,
    )
    assert (registration.submitted_by, registration.ip_address) == (person, "198.51.100.7")
    assert (registration.user_agent, registration.language) == ("Mozilla/5.0 (pytest)", "sv")
    assert sorted(m.to[0] for m in mailoutbox) == [person.email, reviewer.email]
    assert OutgoingEmail.objects.get(to=person.email).language == "sv"


def test_a_second_submit_creates_nothing_new_and_sends_nothing_more(
    client, person, terms, django_capture_on_commit_callbacks, mailoutbox
):
    UserFactory(is_staff=True)
    first = notify(client, django_capture_on_commit_callbacks)
    token = str(Registration.objects.get().submission_token)
    with django_capture_on_commit_callbacks(execute=True):
        double_click = client.post(SUBMIT, {"token": token})
    assert double_click["Location"] == first["Location"]
    assert Registration.objects.count() == 1 and len(mailoutbox) == 2


def test_a_replay_without_the_draft_redirects_to_the_same_registration(
    person, terms, client, django_capture_on_commit_callbacks, mailoutbox
):
    first = notify(client, django_capture_on_commit_callbacks)
    token = str(Registration.objects.get().submission_token)
    other_browser = Client()
    other_browser.force_login(person)
    with django_capture_on_commit_callbacks(execute=True):
        replay = other_browser.post(SUBMIT, {"token": token})
        back_button = client.post(FORM, valid_post(token))  # the form again, with its token
        client.post(SUBMIT, {"token": token})
    assert replay["Location"] == first["Location"]
    assert back_button["Location"] == CHECK
    assert Registration.objects.count() == 1 and len(mailoutbox) == 1


CASES: dict[str, tuple[dict[str, str], str, str]] = {
    "missing-finnish-name": ({"name_fi": ""}, "id_name_fi", "This field is required."),
    "bad-business-id-check-digit": (
        {"business_id": "0150783-2"},
        "id_business_id",
        "The check digit of the business ID is wrong",
    ),
    "missing-kind": ({"kind": ""}, "id_kind", "This field is required."),
    "no-administrative-contact": (
        {"contacts-0-name": "", "contacts-0-email": "", "contacts-0-phone": ""},
        "contacts",
        "Missing: Administrative contact.",
    ),
    "no-technical-contact": (
        {"contacts-1-name": "", "contacts-1-email": "", "contacts-1-phone": ""},
        "contacts",
        "Missing: Technical contact.",
    ),
    "started-row-without-email": (
        {"contacts-1-email": ""},
        "id_contacts-1-email",
        "Enter the contact person's email address.",
    ),
    "invalid-email": (
        {"contacts-1-email": "it-tuki(at)koulu.fi"},
        "id_contacts-1-email",
        "Enter a valid email address.",
    ),
    "invalid-phone": ({"contacts-1-phone": "abc"}, "id_contacts-1-phone", "Enter a valid phone"),
    "same-email-twice-in-a-role": (
        {
            **{"contacts-TOTAL_FORMS": "5", "contacts-4-name": "R. Rehtori"},
            **{"contacts-4-email": "rehtori@koulu.fi", "contacts-4-phone": "040 1234567"},
            **{"contacts-4-role": "administrative", "contacts-4-language": "fi"},
        },
        "contacts",
        "rehtori@koulu.fi is named twice in the same role.",
    ),
    "learner-numbers-not-confirmed": (
        {"learner_numbers_confirmed": ""},
        "id_learner_numbers_confirmed",
        "An education provider must confirm that its users have personal credentials",
    ),
    "test-learner-numbers-not-described": (
        {"kind": "service_provider", "learner_numbers_confirmed": "", "uses_test_learner_numbers": "on"},
        "id_test_learner_number_use",
        "Describe briefly how you will use test learner numbers.",
    ),
    "terms-not-accepted": (
        {"accept_terms": ""},
        "id_accept_terms",
        "Accept the terms of use to send the notification.",
    ),
    "missing-accepter-name": ({"accepter_name": ""}, "id_accepter_name", "Enter your name."),
    "missing-accepter-title": ({"accepter_title": " "}, "id_accepter_title", "Enter your title."),
    "authority-not-confirmed": (
        {"authority_confirmed": ""},
        "id_authority_confirmed",
        "Confirm that you may bind the organisation, or ask a person who may.",
    ),
}


def cases(xfail: dict[str, str] | None = None) -> list:
    xfail = xfail or {}
    return [
        pytest.param(
            *case,
            id=name,
            marks=[pytest.mark.xfail(strict=True, reason=xfail[name])] if name in xfail else [],
        )
        for name, case in CASES.items()
    ]


@pytest.mark.parametrize(("changes", "field", "message"), cases())
def test_each_mistake_is_shown_in_the_summary_and_at_its_field_keeping_what_was_typed(
    client, person, terms, changes, field, message
):
    post = valid_post(**changes)
    response = client.post(FORM, post)
    page = response.content.decode()
    assert response.status_code == 400
    assert escape(message) in summary_of(page)
    assert escape(message) in error_at(page, field)
    assert summary_of(page).count("<li>") == 1
    assert_keeps_typed(page, post)
    assert client.get(CHECK)["Location"] == FORM  # nothing to check: no draft was kept


@pytest.mark.parametrize(
    ("changes", "field", "message"),
    cases(
        {
            "missing-kind": "BUG: the summary entry of a missing kind is not a link: a RadioSelect "
            "has no id_for_label, so error_summary gives the anchor ''"
        }
    ),
)
def test_each_summary_entry_links_to_an_element_on_the_page(
    client, person, terms, changes, field, message
):
    page = client.post(FORM, valid_post(**changes)).content.decode()
    link = re.search(rf'<a href="#([^"]+)">[^<]*{re.escape(escape(message))}', summary_of(page))
    assert link is not None and f'id="{link[1]}"' in page

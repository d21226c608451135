"""The notification as a person makes it: the OID, the form, checking the answers, sending once."""

from __future__ import annotations

import re
from datetime import date

import pytest
from allauth.account.models import EmailAddress
from django.test import Client
from django.urls import reverse
from django.utils.html import escape

from onboarding.models import OutgoingEmail, Registration
from tests.factories import LEMPAALA as OID
from tests.factories import (
    ContactPersonFactory,
    OrganisationFactory,
    TermsAcceptanceFactory,
    UserFactory,
    published_terms,
    verified_user,
)
from tests.notification_form import (
    ACCEPTER,
    CHECK,
    CONTACT_ROWS,
    FORM,
    ORGANISATION,
    SUBMIT,
    token_on,
    valid_post,
)

pytestmark = pytest.mark.django_db

TYPED_TEXT = ("name_fi", "name_sv", "name_en", "business_id", "accepter_name", "accepter_title")
USE = "Testiympäristö: kirjautumisen testaus"  # how test learner numbers are used
STORED_CONTACTS = [
    dict(zip(("name", "email", "phone", "role", "language"), row, strict=True))
    for row in [
        ("Alice Aaltonen", "alice@lempaala.fi", "+358401234567", "administrative", "fi"),
        ("Teemu Tekninen", "it@lempaala.fi", "+358507654321", "technical", "sv"),
    ]
]


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
    client, person, charlie, terms, django_capture_on_commit_callbacks, mailoutbox
):
    UserFactory(email="entinen@oph.fi", is_staff=True, is_active=False)
    form = f"/sv/notify/{OID}/"
    token = token_on(client.get(form).content.decode())
    post = valid_post(token, kind="both", uses_test_learner_numbers="on")
    post["test_learner_number_use"] = USE
    response = client.post(form, post)
    assert response.status_code == 302 and response["Location"] == f"{form}check/"

    check = client.get(f"{form}check/").content.decode()
    typed = (
        "Lempäälän kunta",
        "0150783-1",
        "alice@lempaala.fi",
        "+358507654321",
        "Sivistysjohtaja",
    )
    assert [s for s in (*typed, USE, terms.content_sha256) if s not in check] == []
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
        "organisation": {"oid": OID, **ORGANISATION, "kind": "both", "sectors": ["basic"]},
        "contacts": STORED_CONTACTS,
        "declarations": {"learner_numbers_confirmed": True, "uses_test_learner_numbers": True}
        | {"test_learner_number_use": USE},
        "acceptance": {
            **{"terms_version": "2024-1", "content_sha256": terms.content_sha256},
            **{**ACCEPTER, "authority_confirmed": True, "language": "sv"},
        },
    }
    assert (str(registration.submission_token), registration.oid) == (token, OID)
    assert (registration.terms_version, registration.content_sha256) == (
        terms,
        terms.content_sha256,
    )
    assert (registration.submitted_by, registration.ip_address) == (person, "198.51.100.7")
    assert (registration.user_agent, registration.language) == ("Mozilla/5.0 (pytest)", "sv")
    assert sorted(m.to[0] for m in mailoutbox) == [person.email, charlie.email]
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


def test_a_second_submit_says_the_notification_was_sent_already(
    client, person, terms, django_capture_on_commit_callbacks
):
    first = notify(client, django_capture_on_commit_callbacks)
    assert "Your notification was sent" in client.get(first["Location"]).content.decode()
    token = str(Registration.objects.get().submission_token)
    client.post(FORM, valid_post(token, name_sv="Muutettu"))  # back, edit, send again
    again = client.post(SUBMIT, {"token": token}, follow=True).content.decode()
    assert "This notification was sent already; it was not sent again." in again
    assert "Your notification was sent" not in again
    assert Registration.objects.get().data["organisation"]["name_sv"] == ORGANISATION["name_sv"]


def test_the_emails_follow_the_pages_language_when_the_terms_were_shown_in_another(
    client, person, django_capture_on_commit_callbacks, mailoutbox
):
    published_terms(version="2024-1", title_en="", text_en="")  # no English text: Finnish shown
    notify(client, django_capture_on_commit_callbacks)
    registration = Registration.objects.get()
    assert registration.language == "en"
    assert registration.data["acceptance"]["language"] == "fi"
    assert OutgoingEmail.objects.get(to=person.email).language == "en"


def test_a_notification_sent_back_for_changes_opens_again_as_it_was_sent(
    client, person, terms, django_capture_on_commit_callbacks
):
    from onboarding import services

    notify(client, django_capture_on_commit_callbacks)
    services.registration_request_changes(
        registration_id=Registration.objects.get().pk,
        reviewer=UserFactory(is_staff=True),
        reason="Add a security contact.",
    )
    page = client.get(FORM).content.decode()
    for name, value in ORGANISATION.items():
        assert f'name="{name}" value="{escape(value)}"' in page
    assert 'value="alice@lempaala.fi"' in page and 'value="it@lempaala.fi"' in page
    assert 'name="accepter_title" value="Sivistysjohtaja"' in page
    assert not re.search(r'name="accept_terms"[^>]*\bchecked', page)  # accepted anew
    other = verified_user("toinen@koulu.fi")
    client.force_login(other)
    assert "it@lempaala.fi" not in client.get(FORM).content.decode()


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
        again = client.post(SUBMIT, {"token": token})
    assert replay["Location"] == first["Location"] == again["Location"]
    assert back_button["Location"] == CHECK
    assert Registration.objects.count() == 1 and len(mailoutbox) == 1


DUPLICATE_ROW = {"contacts-TOTAL_FORMS": "5"} | {  # the administrative contact once more
    f"contacts-4-{f}": v
    for f, v in zip(("name", "email", "phone", "role", "language"), CONTACT_ROWS[0], strict=True)
}
NO_ADMINISTRATIVE = {f"contacts-0-{f}": "" for f in ("name", "email", "phone")}
NO_TECHNICAL = {f"contacts-1-{f}": "" for f in ("name", "email", "phone")}
TEST_NUMBERS_UNDESCRIBED = {"kind": "service_provider", "uses_test_learner_numbers": "on"}
# fmt: off
CASES = [  # what is changed; the id of the field (or "contacts", the section); the message
    pytest.param({"name_fi": ""}, "id_name_fi", "Enter the organisation's name in Finnish.",
                 id="missing-finnish-name"),
    pytest.param({"business_id": "0150783-2"}, "id_business_id",
                 "The check digit of the business ID is wrong", id="bad-business-id"),
    pytest.param({"kind": ""}, "id_kind", "Choose whether the organisation provides education",
                 id="missing-kind"),
    pytest.param(NO_ADMINISTRATIVE, "contacts", "Missing: Administrative contact.",
                 id="no-administrative-contact"),
    pytest.param(NO_TECHNICAL, "contacts", "Missing: Technical contact.",
                 id="no-technical-contact"),
    pytest.param({"contacts-1-email": ""}, "id_contacts-1-email",
                 "Enter the contact person's email address.", id="started-row-without-email"),
    pytest.param({"contacts-1-email": "it(at)koulu.fi"}, "id_contacts-1-email",
                 "Enter a valid email address.", id="invalid-email"),
    pytest.param({"contacts-1-phone": "abc"}, "id_contacts-1-phone",
                 "Enter a valid phone number", id="invalid-phone"),
    pytest.param({"contacts-1-role": ""}, "id_contacts-1-role",
                 "Choose the contact person's role.", id="started-row-without-role"),
    pytest.param(DUPLICATE_ROW, "contacts", "alice@lempaala.fi is named twice in the same role.",
                 id="same-email-twice-in-a-role"),
    pytest.param({"learner_numbers_confirmed": ""}, "id_learner_numbers_confirmed",
                 "An education provider must confirm", id="learner-numbers-not-confirmed"),
    pytest.param(TEST_NUMBERS_UNDESCRIBED, "id_test_learner_number_use",
                 "Describe briefly how you will use test learner numbers.",
                 id="test-learner-numbers-not-described"),
    pytest.param({"accept_terms": ""}, "id_accept_terms",
                 "Accept the terms of use to send the notification.", id="terms-not-accepted"),
    pytest.param({"accepter_name": ""}, "id_accepter_name", "Enter your name.",
                 id="missing-accepter-name"),
    pytest.param({"accepter_title": " "}, "id_accepter_title", "Enter your title.",
                 id="missing-accepter-title"),
    pytest.param({"authority_confirmed": ""}, "id_authority_confirmed",
                 "Confirm that you may bind the organisation", id="authority-not-confirmed"),
]
# fmt: on


@pytest.mark.parametrize(("changes", "field", "message"), CASES)
def test_each_mistake_is_shown_in_the_summary_and_at_its_field_keeping_what_was_typed(
    client, person, terms, changes, field, message
):
    post = valid_post(**changes)
    response = client.post(FORM, post)
    page = response.content.decode()
    assert response.status_code == 400
    link = re.search(rf'<li><a href="#([^"]+)">[^<]*{re.escape(escape(message))}', summary_of(page))
    assert link is not None and f'id="{link[1]}"' in page
    assert summary_of(page).count("<li>") == 1 and escape(message) in error_at(page, field)
    assert_keeps_typed(page, post)
    assert client.get(CHECK)["Location"] == FORM  # nothing to check: no draft was kept


@pytest.mark.parametrize(
    ("oid", "message"),
    [
        ("1.2.246.562.24.10000000001", "This is a learner number, not an organisation OID."),
        ("1.2.840.113554.10.1", "The identifier must start with 1.2.246.562."),
        ("1.2.246.562.99.10000000001", "Test organisations (1.2.246.562.99) are not accepted"),
    ],
    ids=["learner-number", "wrong-root", "test-organisation"],
)
def test_the_oid_step_says_why_an_oid_is_refused(client, person, settings, oid, message):
    settings.ALLOW_TEST_ORGANISATIONS = False
    page = client.post("/en/notify/", {"oid": oid}).content.decode()
    assert f'<a href="#id_oid">{escape(message)}' in summary_of(page)
    assert escape(message) in error_at(page, "id_oid")
    assert f'value="{oid}"' in page


def test_a_refused_oid_answers_400_like_the_form(client, person):
    assert client.post("/en/notify/", {"oid": "1.2.246.562.24.10000000001"}).status_code == 400


@pytest.mark.parametrize(("allowed", "status"), [(True, 200), (False, 404)])
def test_a_test_organisation_is_accepted_only_where_test_organisations_are_allowed(
    client, person, settings, allowed, status
):
    settings.ALLOW_TEST_ORGANISATIONS = allowed
    oid = "1.2.246.562.99.10000000001"
    response = client.post("/en/notify/", {"oid": oid})
    assert (response.status_code == 302) is allowed
    assert client.get(f"/en/notify/{oid}/").status_code == status


def test_a_known_organisation_is_prefilled_but_its_contacts_only_for_its_contacts(
    client, terms, mallory
):
    organisation = OrganisationFactory(
        oid=OID, name_en="Lempäälä", kind="service_provider", test_learner_number_use="Staging"
    )
    ContactPersonFactory(organisation=organisation, email="Rehtori@Koulu.fi")
    ContactPersonFactory(organisation=organisation, email="it@koulu.fi", role="technical")
    ContactPersonFactory(organisation=organisation, email="entinen@koulu.fi", is_active=False)

    client.force_login(mallory)
    outsider = client.get(FORM).content.decode()
    for value in ("name_fi", "name_sv", "name_en", "business_id"):
        assert f'name="{value}" value="{escape(getattr(organisation, value))}"' in outsider
    assert re.search(r'name="kind" value="service_provider"[^>]*\bchecked', outsider)
    assert not re.search(r'name="uses_test_learner_numbers"[^>]*\bchecked', outsider)
    for private in ("rehtori@koulu.fi", "it@koulu.fi", "entinen@koulu.fi", "staging"):
        assert private not in outsider.lower()

    client.force_login(verified_user("rehtori@koulu.fi"))
    contact = client.get(FORM).content.decode()
    assert 'value="Rehtori@Koulu.fi"' in contact and 'value="it@koulu.fi"' in contact
    assert "entinen@koulu.fi" not in contact
    assert 'name="contacts-TOTAL_FORMS" value="2"' in contact
    assert re.search(r'name="uses_test_learner_numbers"[^>]*\bchecked', contact)
    assert re.search(r">\s*Staging</textarea>", contact)


def test_an_organisation_that_accepted_the_current_terms_only_changes_its_details(
    client, person, django_capture_on_commit_callbacks
):
    acceptance = TermsAcceptanceFactory(organisation=OrganisationFactory(oid=OID))
    page = client.get(FORM).content.decode()
    assert 'name="accept_terms"' not in page and 'name="accepter_name"' not in page
    assert acceptance.terms_version.content_sha256 not in page
    notify(client, django_capture_on_commit_callbacks, valid_post(acceptance=False))
    registration = Registration.objects.get()
    assert (registration.terms_version, registration.content_sha256) == (None, "")
    assert registration.data["acceptance"] is None
    assert registration.organisation == acceptance.organisation


def test_adding_a_contact_row_keeps_everything_typed_and_shows_no_errors(client, person, terms):
    post = valid_post(name_sv="", add_contact="1", **{"contacts-1-phone": "abc"})
    response = client.post(FORM, post)
    page = response.content.decode()
    assert response.status_code == 200
    assert 'name="contacts-TOTAL_FORMS" value="5"' in page and 'name="contacts-4-email"' in page
    assert "error-summary" not in page and 'class="error-message"' not in page
    assert_keeps_typed(page, {**post, "contacts-1-phone": ""})
    assert token_on(page) == post["token"]


def test_at_most_twenty_contact_rows_and_adding_never_drops_one(client, person, terms):
    post = valid_post(add_contact="1", **{"contacts-TOTAL_FORMS": "20"})
    for i in range(4, 20):
        post[f"contacts-{i}-name"] = f"Henkilö {i}"
        post[f"contacts-{i}-role"] = "security"
    page = client.post(FORM, post).content.decode()
    assert 'name="contacts-TOTAL_FORMS" value="20"' in page
    assert 'value="Henkilö 19"' in page
    assert 'name="add_contact"' not in page


def test_terms_published_before_the_submit_stop_it_and_keep_the_draft(
    client, person, terms, django_capture_on_commit_callbacks, mailoutbox
):
    post = valid_post(token_on(client.get(FORM).content.decode()))
    assert client.post(FORM, post)["Location"] == CHECK
    newer = published_terms(version="2025-1", effective_from=date(2024, 6, 1))
    with django_capture_on_commit_callbacks(execute=True):
        response = client.post(SUBMIT, {"token": post["token"]})
    assert response["Location"] == FORM
    assert not Registration.objects.exists() and mailoutbox == []
    page = client.get(FORM).content.decode()
    changed = "The terms of use changed while you filled in the form."
    assert changed in summary_of(page) and changed in error_at(page, "id_accept_terms")
    assert summary_of(page).count("<li>") == 2  # and the authority, to confirm again
    assert newer.content_sha256 in page and terms.content_sha256 not in page
    kept = {"contacts-0-email": "alice@lempaala.fi", "accept_terms": "", "authority_confirmed": ""}
    assert_keeps_typed(page, post | kept)  # emails as stored: lower case
    assert not re.search(r'name="accept_terms"[^>]*\bchecked', page)


def test_terms_changed_and_accepted_by_others_meanwhile_are_still_explained(
    client, person, terms, django_capture_on_commit_callbacks
):
    organisation = OrganisationFactory(oid=OID)
    post = valid_post(token_on(client.get(FORM).content.decode()))
    assert client.post(FORM, post)["Location"] == CHECK
    newer = published_terms(version="2025-1", effective_from=date(2024, 6, 1))
    TermsAcceptanceFactory(organisation=organisation, terms_version=newer)  # a colleague did
    with django_capture_on_commit_callbacks(execute=True):
        client.post(SUBMIT, {"token": post["token"]})
    page = client.get(FORM).content.decode()
    assert 'name="accept_terms"' not in page  # nothing to accept any more
    assert "The terms of use changed while you filled in the form." in summary_of(page)


def test_terms_published_while_the_form_is_open_are_not_accepted_unseen(client, person, terms):
    token = token_on(client.get(FORM).content.decode())  # shows version 2024-1
    published_terms(version="2025-1", effective_from=date(2024, 6, 1))
    response = client.post(FORM, valid_post(token, terms_version=terms.version))
    client.post(SUBMIT, {"token": token})
    assert not Registration.objects.exists()
    assert response.status_code == 400
    assert "The terms of use changed" in summary_of(response.content.decode())
    assert "2025-1" in response.content.decode()


@pytest.mark.parametrize(
    ("method", "url"), [("get", "/en/notify/"), ("get", FORM), ("get", CHECK), ("post", SUBMIT)]
)
def test_an_anonymous_person_is_sent_to_sign_in(client, method, url):
    response = getattr(client, method)(url)
    assert response.status_code == 302
    assert response["Location"] == f"{reverse('account_login')}?next={url}"


def test_a_person_whose_email_is_unverified_is_sent_to_verify_it(client):
    user = UserFactory()
    EmailAddress.objects.create(user=user, email=user.email, verified=False, primary=True)
    client.force_login(user)
    response = client.get("/en/notify/")
    assert response.status_code == 302
    assert response["Location"].startswith(reverse("account_email_verification_sent"))


@pytest.mark.parametrize(
    ("field", "value"),
    [
        ("contacts-0-email", "a" * 250 + "@koulu.fi"),
        ("name_fi", "x" * 300),
        ("contacts-TOTAL_FORMS", "many"),
        ("kind", "school"),
    ],
)
def test_odd_input_gets_an_answer_never_a_server_error(client, person, terms, field, value):
    response = client.post(
        FORM, valid_post(token_on(client.get(FORM).content.decode()), **{field: value})
    )
    assert response.status_code in (200, 400)

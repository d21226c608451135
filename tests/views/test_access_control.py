"""Who sees what: every page that carries an organisation's id, a notification's id or an OID
shows only to the people it concerns; the terms of use are public and their hash checks out."""

from __future__ import annotations

import hashlib
import json
import re
from datetime import date, timedelta

import pytest
from allauth.account.models import EmailAddress
from django.test import Client

from onboarding.models import Organisation, Registration, User
from tests.factories import (
    BOB,
    MALLORY,
    ContactPersonFactory,
    TermsVersionFactory,
    notification,
    notification_data,
    published_terms,
    verified_user,
)
from tests.notification_form import CHECK, FORM, SUBMIT, token_on, valid_post

pytestmark = pytest.mark.django_db


@pytest.fixture
def organisation(lempaala, borga) -> Organisation:
    """Lempäälä, whose active contacts are alice and its IT support, and a former contact;
    bob is a contact of another organisation (Borgå)."""
    ContactPersonFactory(organisation=lempaala, email="entinen@lempaala.fi", is_active=False)
    return lempaala


def signed_in(client: Client, email: str, *, unverified: str = "") -> User:
    """A person with `email` verified and, if given, another address left unverified."""
    user = verified_user(email)
    if unverified:
        EmailAddress.objects.create(user=user, email=unverified, verified=False, primary=False)
    client.force_login(user)
    return user


def registration_of(organisation: Organisation | None, submitter: User) -> Registration:
    """A notification `submitter` sent of `organisation`, or of a new one."""
    if organisation is None:
        data = notification_data(None, oid="1.2.246.562.10.50000000001", name_fi="Uusi")
    else:
        data = notification_data(None, oid=organisation.oid, name_fi=organisation.name_fi)
    return notification(None, user=submitter, data=data)


OUTSIDERS = {  # id: (verified email, unverified email)
    "another-organisations-contact": (BOB, ""),
    "former-contact": ("entinen@lempaala.fi", ""),
    "matching-email-unverified": ("oma@example.fi", "alice@lempaala.fi"),
    "stranger": (MALLORY, ""),
}


@pytest.mark.parametrize("email", ["alice@lempaala.fi", "ALICE@Lempaala.FI"])
def test_an_organisation_shows_to_its_active_contacts_whatever_the_case(
    client, organisation, email
):
    signed_in(client, email)
    response = client.get(f"/en/organisations/{organisation.pk}/")
    assert response.status_code == 200
    assert organisation.oid in response.content.decode()


@pytest.mark.parametrize(("email", "unverified"), OUTSIDERS.values(), ids=OUTSIDERS.keys())
def test_an_organisation_is_not_found_for_anyone_else(client, organisation, email, unverified):
    signed_in(client, email, unverified=unverified)
    response = client.get(f"/en/organisations/{organisation.pk}/")
    assert response.status_code == 404
    assert "alice@lempaala.fi" not in response.content.decode()


@pytest.mark.parametrize("viewer", ["submitter", "alice@lempaala.fi"])
def test_a_registration_shows_to_its_submitter_and_its_organisations_contacts(
    client, organisation, viewer
):
    registration = registration_of(organisation, verified_user("hakija@example.fi"))
    if viewer == "submitter":
        client.force_login(registration.submitted_by)
    else:
        signed_in(client, viewer)
    assert client.get(f"/en/registrations/{registration.pk}/").status_code == 200


@pytest.mark.parametrize(("email", "unverified"), OUTSIDERS.values(), ids=OUTSIDERS.keys())
def test_a_registration_is_not_found_for_anyone_else(client, organisation, email, unverified):
    registration = registration_of(organisation, verified_user("hakija@example.fi"))
    signed_in(client, email, unverified=unverified)
    assert client.get(f"/en/registrations/{registration.pk}/").status_code == 404


def test_a_new_organisations_registration_shows_only_to_its_submitter(client, organisation):
    registration = registration_of(None, verified_user("hakija@example.fi"))
    signed_in(client, "alice@lempaala.fi")
    assert client.get(f"/en/registrations/{registration.pk}/").status_code == 404
    client.force_login(registration.submitted_by)
    assert client.get(f"/en/registrations/{registration.pk}/").status_code == 200


def test_my_organisations_lists_only_the_persons_own(
    client, organisation, borga, django_assert_max_num_queries
):
    own = registration_of(organisation, verified_user("hakija@example.fi"))
    foreign = registration_of(borga, verified_user("toinen-hakija@example.fi"))
    signed_in(client, "alice@lempaala.fi")
    with django_assert_max_num_queries(8):
        page = client.get("/en/organisations/").content.decode()
    assert f'href="/en/organisations/{organisation.pk}/"' in page
    assert f'href="/en/registrations/{own.pk}/"' in page
    assert f"/en/organisations/{borga.pk}/" not in page and borga.name_fi not in page
    assert f"/en/registrations/{foreign.pk}/" not in page


def test_the_list_costs_the_same_queries_for_many_organisations(
    client, django_assert_max_num_queries
):
    signed_in(client, "alice@lempaala.fi")
    ContactPersonFactory(email="alice@lempaala.fi")
    with django_assert_max_num_queries(20) as few:
        client.get("/en/organisations/")
    for _ in range(10):
        contact = ContactPersonFactory(email="alice@lempaala.fi")
        registration_of(contact.organisation, verified_user(f"h{contact.pk}@example.fi"))
    with django_assert_max_num_queries(len(few.captured_queries)):
        assert client.get("/en/organisations/").content.decode().count("/en/organisations/") > 10


def test_one_persons_notification_draft_is_not_anyone_elses(client, terms):
    signed_in(client, "hakija@koulu.fi")
    post = valid_post(token_on(client.get(FORM).content.decode()))
    assert client.post(FORM, post)["Location"] == CHECK

    other_browser = Client()
    signed_in(other_browser, "toinen@koulu.fi")
    assert other_browser.get(CHECK)["Location"] == FORM
    assert post["name_fi"] not in other_browser.get(FORM).content.decode()
    assert other_browser.post(SUBMIT, {"token": post["token"]})["Location"] == FORM
    assert not Registration.objects.exists()

    client.post(SUBMIT, {"token": post["token"]})
    registration = Registration.objects.get()
    assert other_browser.post(SUBMIT, {"token": post["token"]})["Location"] == FORM
    assert client.get(f"/en/registrations/{registration.pk}/").status_code == 200


def test_signing_in_as_another_person_in_the_same_browser_leaves_no_draft_behind(client, terms):
    signed_in(client, "hakija@koulu.fi")
    post = valid_post(token_on(client.get(FORM).content.decode()))
    assert client.post(FORM, post)["Location"] == CHECK
    signed_in(client, "toinen@koulu.fi")
    assert client.get(CHECK)["Location"] == FORM
    assert post["name_fi"] not in client.get(FORM).content.decode()


@pytest.mark.parametrize(
    "oid", ["abc", "1.2.246.562.24.10000000001", "1.2.246.562.10", "1.2.246.562.10.12a", "9.9.9"]
)
@pytest.mark.parametrize("page", ["", "check/", "submit/"])
def test_an_invalid_oid_in_the_url_is_not_found(client, oid, page):
    signed_in(client, "hakija@koulu.fi")
    client.raise_request_exception = False
    send = client.post if page == "submit/" else client.get
    assert send(f"/en/notify/{oid}/{page}", {"token": valid_post()["token"]}).status_code == 404


def test_an_oid_too_long_to_store_never_gives_a_server_error(client, terms):
    signed_in(client, "hakija@koulu.fi")
    client.raise_request_exception = False
    form = f"/en/notify/1.2.246.562.10.{'1' * 80}/"
    statuses = [
        client.get(form).status_code,
        client.post(form, valid_post()).status_code,
        client.post(f"{form}submit/", {"token": valid_post()["token"]}).status_code,
    ]
    assert 500 not in statuses


def test_the_terms_are_public_and_each_hash_is_that_of_its_published_document(client):
    earlier = published_terms(version="2023-1", effective_from=date(2023, 1, 1))
    current = published_terms(version="2024-1", effective_from=date(2024, 1, 1))
    TermsVersionFactory(version="2025-luonnos")  # a draft: not public
    page = client.get("/en/terms/").content.decode()
    for terms in (current, earlier):
        url = f"/en/terms/{terms.version}.json"
        shown = re.search(rf'<code class="hash">(\w+)</code> \(<a href="{url}">', page)[1]
        document = client.get(url)
        assert document.status_code == 200 and document["Content-Type"] == "application/json"
        assert hashlib.sha256(document.content).hexdigest() == shown == terms.content_sha256
        assert json.loads(document.content)["version"] == terms.version
    assert "2025-luonnos" not in page
    assert client.get("/en/terms/2025-luonnos.json").status_code == 404


def test_the_current_terms_are_shown_first(client):
    published_terms(version="2023-1", effective_from=date(2023, 1, 1))
    current = published_terms(version="2024-1", effective_from=date(2024, 1, 1))
    page = client.get("/en/terms/").content.decode()
    assert page.index(current.content_sha256) < page.index("Earlier versions")


def test_a_version_not_yet_in_force_is_shown_as_coming_not_as_earlier(client):
    from django.utils import timezone

    current = published_terms(version="2024-1", effective_from=date(2024, 1, 1))
    coming = published_terms(
        version="2099-1", effective_from=timezone.localdate() + timedelta(days=30)
    )
    page = client.get("/en/terms/").content.decode()
    current_at = page.index(current.content_sha256)
    coming_at = page.index("Version 2099-1 takes effect on")
    assert current_at < coming_at < page.index(coming.content_sha256)
    assert "Earlier versions" not in page

"""The signed-in pages cost the same number of queries however many contacts, acceptances and
notifications an organisation has, and however many organisations a person acts for."""

from __future__ import annotations

import pytest
from django.test import Client

from onboarding import selectors, services
from onboarding.models import Organisation, Registration, User
from tests.factories import (
    ALICE,
    ContactPersonFactory,
    OrganisationFactory,
    TermsAcceptanceFactory,
    notification,
    notification_data,
)
from tests.notification_form import CHECK, FORM, token_on, valid_post

pytestmark = pytest.mark.django_db


def grow(organisation: Organisation, alice: User, *, contacts: int, notifications: int) -> None:
    """`contacts` more contacts, `notifications` more acceptances and notifications (all but
    the last withdrawn, one waits at a time) of `organisation`, and as many other
    organisations of which alice is a contact, each with a notification."""
    ContactPersonFactory.create_batch(contacts, organisation=organisation, role="security")
    for _ in range(notifications):
        TermsAcceptanceFactory(organisation=organisation)
        withdraw_the_waiting(organisation, alice)
        notification(None, user=alice, data=notification_data(None, oid=organisation.oid))
        other = ContactPersonFactory(email=ALICE).organisation
        notification(None, user=alice, data=notification_data(None, oid=other.oid))


def queries_of(client: Client, url: str, django_assert_max_num_queries, most: int = 30) -> int:
    """The queries of one GET of `url` (after one to warm the session), at most `most`."""
    assert client.get(url).status_code == 200
    with django_assert_max_num_queries(most) as captured:
        assert client.get(url).status_code == 200
    return len(captured.captured_queries)


@pytest.fixture
def small(client, alice, lempaala, terms, settings) -> Organisation:
    """alice signed in, a contact of Lempäälä, which has one of everything."""
    settings.NOTIFICATIONS_PER_PERSON_PER_HOUR = 100  # many notifications of one person
    client.force_login(alice)
    grow(lempaala, alice, contacts=1, notifications=1)
    return lempaala


def withdraw_the_waiting(organisation: Organisation, alice: User) -> None:
    waiting = selectors.waiting_registration(organisation.oid)
    if waiting is not None:
        services.registration_withdraw(registration_id=waiting.pk, user=alice)


def ready(client: Client, page: str, organisation: Organisation, alice: User) -> str:
    """The page's address, with what it needs: the form and its check page open with no
    notification waiting, the check page with a draft in the session."""
    if page in ("notify", "notify_check"):
        withdraw_the_waiting(organisation, alice)
    if page == "notify_check":
        token = token_on(client.get(FORM).content.decode())
        assert client.post(FORM, valid_post(token)).status_code == 302
    latest = Registration.objects.filter(oid=organisation.oid).latest("submitted_at")
    return {
        "my_organisations": "/en/organisations/",
        "organisation": f"/en/organisations/{organisation.pk}/",
        "registration": f"/en/registrations/{latest.pk}/",
        "notify": FORM,
        "notify_check": CHECK,
    }[page]


@pytest.mark.parametrize(
    "page", ["my_organisations", "organisation", "registration", "notify", "notify_check"]
)
def test_a_signed_in_page_costs_the_same_queries_for_many_rows(
    client, alice, small, page, django_assert_max_num_queries
):
    few = queries_of(client, ready(client, page, small, alice), django_assert_max_num_queries)
    grow(small, alice, contacts=30, notifications=10)
    many = queries_of(client, ready(client, page, small, alice), django_assert_max_num_queries, few)
    assert many == few


def test_the_list_of_my_organisations_shows_them_all_with_a_fixed_cost(
    client, alice, small, django_assert_max_num_queries
):
    for _ in range(15):
        ContactPersonFactory(email=ALICE, organisation=OrganisationFactory())
    client.get("/en/organisations/")
    with django_assert_max_num_queries(10):
        page = client.get("/en/organisations/").content.decode()
    listed = page.split("<h1>", 1)[1].split("<h2>", 1)[0]
    assert listed.count('href="/en/organisations/') == 1 + 1 + 15  # Lempäälä, grown, new

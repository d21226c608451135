"""Staff's lists and the review page cost a fixed number of queries whatever the number of
rows: at 10,000 organisations the page size bounds the rest (bench/admin_pages.py times them)."""

from __future__ import annotations

import pytest
from django.urls import reverse

from onboarding import selectors, services
from onboarding.models import TermsVersion, User
from tests.factories import (
    ContactPersonFactory,
    OrganisationFactory,
    TermsAcceptanceFactory,
    notification,
    notification_data,
)

pytestmark = pytest.mark.django_db

CHANGELISTS = [
    ("organisation", {}),
    ("organisation", {"q": "Koulutustoimija", "o": "-2"}),
    ("organisation", {"o": "-6.7"}),  # by active contacts, then latest terms
    ("contactperson", {}),
    ("contactperson", {"q": "example.fi"}),
    ("termsacceptance", {}),
    ("pendingregistration", {}),
    ("registration", {"status": "submitted"}),
    ("outgoingemail", {}),
    ("outgoingemail", {"q": "example.fi"}),
]


NOTIFIED = {"pendingregistration", "registration", "outgoingemail"}


def organisations(count: int, terms: TermsVersion, *, notified: bool) -> None:
    """`count` members with two contacts and an acceptance each and, if `notified`, as many
    notifications waiting for review (each with its emails), of new organisations."""
    for _ in range(count):
        acceptance = TermsAcceptanceFactory(terms_version=terms)
        ContactPersonFactory.create_batch(2, organisation=acceptance.organisation)
        if notified:
            oid = OrganisationFactory.build().oid
            notification(None, data=notification_data(None, oid=oid))


@pytest.mark.parametrize(("model", "query"), CHANGELISTS)
def test_a_list_costs_the_same_queries_for_5_rows_as_for_60(
    admin_client, terms, django_assert_max_num_queries, model, query
):
    url = reverse(f"admin:onboarding_{model}_changelist")
    organisations(5, terms, notified=model in NOTIFIED)
    admin_client.get(url, query)  # the session and the second factor's check, once
    with django_assert_max_num_queries(25) as few:
        assert admin_client.get(url, query).status_code == 200
    organisations(55, terms, notified=model in NOTIFIED)
    with django_assert_max_num_queries(len(few.captured_queries)):
        response = admin_client.get(url, query)
    assert response.status_code == 200
    assert response.context["cl"].result_count >= 60


def send_again(alice: User, oid: str):
    """alice withdraws the organisation's waiting notification and sends a new one."""
    services.registration_withdraw(
        registration_id=selectors.waiting_registration(oid).pk, user=alice
    )
    return notification(None, user=alice, data=notification_data(None, oid=oid))


def test_the_review_page_costs_the_same_queries_for_a_long_history(
    admin_client, alice, lempaala, settings, django_assert_max_num_queries
):
    settings.NOTIFICATIONS_PER_PERSON_PER_HOUR = 100
    notification(None, user=alice, data=notification_data(None, oid=lempaala.oid))
    latest = send_again(alice, lempaala.oid)
    url = reverse("admin:onboarding_registration_change", args=[latest.pk])
    admin_client.get(url)
    with django_assert_max_num_queries(25) as few:
        assert admin_client.get(url).status_code == 200

    ContactPersonFactory.create_batch(30, organisation=lempaala, role="security")
    for _ in range(10):
        latest = send_again(alice, lempaala.oid)
    url = reverse("admin:onboarding_registration_change", args=[latest.pk])
    with django_assert_max_num_queries(len(few.captured_queries)):
        response = admin_client.get(url)
    page = response.content.decode()
    listed = page.split('id="other-notifications"', 1)[1].split("</table>", 1)[0]
    assert listed.count("<tr") >= 11  # the earlier notifications, all listed

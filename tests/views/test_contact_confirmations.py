"""The personal link of the yearly contacts confirmation, and the staff's list of who has not
confirmed."""

from __future__ import annotations

import re
from datetime import timedelta

import pytest
from django.urls import reverse
from django.utils import timezone, translation
from django.utils.formats import date_format
from django.utils.translation import gettext

from onboarding.invitations import invitation_token
from onboarding.models import ContactsConfirmationRound, ContactsConfirmationTarget, OutgoingEmail
from onboarding.services.confirmations import (
    ConfirmationLink,
    confirmation_url,
    contacts_confirmations_send_due,
)
from tests.factories import (
    ALICE,
    BOB,
    BORGA,
    LEMPAALA,
    LEMPAALA_IT,
    ContactPersonFactory,
    OrganisationFactory,
)

pytestmark = pytest.mark.django_db

TODAY = timezone.localdate()


@pytest.fixture
def asked(settings, lempaala, borga) -> ContactsConfirmationRound:
    """This year's round has begun: Lempäälä and Borgå were asked."""
    settings.CONTACTS_CONFIRMATION_MONTH = TODAY.month
    contacts_confirmations_send_due(today=TODAY)
    return ContactsConfirmationRound.objects.get()


def link_in_email(to: str) -> str:
    email = OutgoingEmail.objects.get(to=to, kind=OutgoingEmail.Kind.CONTACTS_CONFIRMATION)
    return re.search(r"http://testserver(/\S+)", email.body_text).group(1)


def test_the_personal_link_lists_the_organisations_contacts(
    client, asked, lempaala, django_assert_max_num_queries
):
    for _ in range(10):
        ContactPersonFactory(organisation=lempaala, role="security")
    with django_assert_max_num_queries(8):
        response = client.get(link_in_email(ALICE))

    page = response.content.decode()
    assert response.status_code == 200
    assert "Lempäälän kunta" in page and LEMPAALA_IT in page and "Teemu Tekninen" in page
    assert BOB not in page


def test_the_link_opens_in_the_contacts_language(client, asked):
    path = link_in_email(BOB)  # Bob reads Swedish

    assert path.startswith("/sv/")
    assert client.get(path).status_code == 200


def test_still_correct_is_one_post_that_records_who_and_when(client, asked, lempaala):
    path = link_in_email(ALICE)

    response = client.post(path)

    assert response.status_code == 302 and response.url == path
    target = ContactsConfirmationTarget.objects.get(organisation=lempaala)
    assert target.confirmed_by_email == ALICE and target.confirmed_by_name == "Alice Aaltonen"
    assert timezone.now() - target.confirmed_at < timedelta(minutes=1)
    assert "Still correct" not in client.get("/en" + path).content.decode()


def refused(client, token: str) -> str:
    response = client.get(f"/en/contacts/confirm/{token}/")
    assert response.status_code == 400
    return response.content.decode()


def test_a_tampered_link_is_refused_with_a_page_that_says_so(client, asked):
    token = link_in_email(ALICE).rstrip("/").rsplit("/", 1)[1]

    assert "The link does not work" in refused(client, token[:-2] + "xx")
    response = client.get(f"/contacts/confirm/{token[:-2]}xx/")  # in Finnish
    with translation.override(response.headers["Content-Language"]):
        assert gettext("The link does not work") in response.content.decode()


def test_a_link_signed_for_something_else_is_refused(client, asked, lempaala):
    campaign_link = invitation_token(organisation_id=lempaala.pk, campaign_id=asked.pk, email=ALICE)

    assert "The link does not work" in refused(client, campaign_link)


def test_a_link_of_someone_no_longer_a_contact_is_refused(client, asked, lempaala):
    path = link_in_email(ALICE)
    lempaala.contacts.filter(email=ALICE).update(is_active=False)

    assert client.get(path).status_code == 400
    assert client.post(path).status_code == 400
    assert not ContactsConfirmationTarget.objects.filter(confirmed_at__isnull=False).exists()


def test_a_link_to_an_organisation_not_asked_is_refused(client, asked):
    other = ContactPersonFactory(organisation=OrganisationFactory(membership="legacy_contract"))
    url = confirmation_url(
        link=ConfirmationLink(asked.pk, other.organisation.pk, other.email), language="en"
    )

    assert "The link does not work" in refused(client, url.rstrip("/").rsplit("/", 1)[1])


def bounced(to: str) -> None:
    OutgoingEmail.objects.create(
        key=f"test:bounce:{to}",
        kind=OutgoingEmail.Kind.RECEIPT,
        to=to,
        language="fi",
        subject="s",
        body_text="t",
        status=OutgoingEmail.Status.FAILED,
        last_error=f"SMTPRecipientsRefused: {{'{to}': (550, b'5.1.1 User unknown')}}",
        last_attempt_at=timezone.now(),
    )


def test_the_page_shows_a_contact_whose_email_bounced(client, asked):
    bounced(LEMPAALA_IT)

    page = client.get("/en" + link_in_email(ALICE)).content.decode()

    assert "Email to this contact person bounced" in page
    assert "needs a replacement" in page
    assert "Missing: Technical contact" in page


def test_staff_see_who_has_not_confirmed_and_since_when(
    admin_client, asked, lempaala, django_assert_max_num_queries
):
    admin_client.post(link_in_email(ALICE))  # Alice answers
    url = reverse("admin:onboarding_contactsconfirmationtarget_changelist")

    with django_assert_max_num_queries(12) as few:
        response = admin_client.get(url, {"answered": "no"})
    page = response.content.decode()
    assert BORGA in page and LEMPAALA not in page
    with translation.override(response.headers["Content-Language"]):
        since = date_format(timezone.localdate(asked.launched_at))
        assert gettext("Not answered since %(date)s") % {"date": since} in page

    for _ in range(10):
        ContactsConfirmationTarget.objects.create(
            round=asked, organisation=OrganisationFactory(membership="legacy_contract")
        )
    with django_assert_max_num_queries(len(few.captured_queries)):
        assert admin_client.get(url, {"answered": "no"}).status_code == 200
    answered = admin_client.get(url, {"answered": "yes"}).content.decode()
    assert LEMPAALA in answered and ALICE in answered


def test_staff_pages_of_the_round_and_its_messages_render(admin_client, asked):
    for model in ("contactsconfirmationround", "contactsconfirmationmessage"):
        assert admin_client.get(reverse(f"admin:onboarding_{model}_changelist")).status_code == 200
    change = reverse("admin:onboarding_contactsconfirmationround_change", args=[asked.pk])
    assert admin_client.get(change).status_code == 200


def test_staff_see_which_members_have_a_contact_whose_email_bounced(admin_client, asked):
    bounced(LEMPAALA_IT)
    url = reverse("admin:onboarding_contactsconfirmationtarget_changelist")

    page = admin_client.get(url, {"bounced": "yes"}).content.decode()

    assert LEMPAALA in page and BORGA not in page

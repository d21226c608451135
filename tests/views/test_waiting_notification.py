"""A notification waits for review or correction, one per organisation: whoever starts another is
taken to it if they may see it (its sender, an active contact), where they can withdraw or
correct it; anyone else is told only that one waits, and whom to ask."""

from __future__ import annotations

import pytest
from django.template.loader import render_to_string
from django.test import Client
from django.urls import reverse
from django.utils import translation
from django.utils.html import escape

from onboarding import services
from onboarding.models import Registration, TermsVersion, User
from tests.factories import (
    ALICE,
    ContactPersonFactory,
    OrganisationFactory,
    UserFactory,
    contact,
    notification,
    notification_data,
    verified_user,
)
from tests.notification_form import token_on, valid_post

pytestmark = pytest.mark.django_db

OID = "1.2.246.562.10.40000000001"
REASON = "Add a data protection contact."
WAITING_MESSAGE = "A notification for this organisation is already waiting for review."


def en(name: str, *args) -> str:
    with translation.override("en"):
        return reverse(f"onboarding:{name}", args=args)


def send(terms: TermsVersion, user: User) -> Registration:
    """alice's notification of the Salainen koulu, with its contacts alice and tekla."""
    contacts = [contact(ALICE), contact("tekla@koulu.fi", "technical", name="Tekla")]
    data = notification_data(
        terms, oid=OID, contacts=contacts, name_fi="Salainen koulu", name_sv="", name_en=""
    )
    return notification(terms, user=user, data=data, language="en")


def signed_in(user: User) -> Client:
    client = Client()
    client.force_login(user)
    return client


@pytest.fixture
def organisation():
    """A member whose active contacts are Teemu (technical) and Carol (administrative): alice,
    who sends its notification, is not one of them."""
    organisation = OrganisationFactory(oid=OID)
    ContactPersonFactory(organisation=organisation, email="teemu@koulu.fi", role="technical")
    ContactPersonFactory(organisation=organisation, email="carol@koulu.fi", language="sv")
    ContactPersonFactory(organisation=organisation, email="former@koulu.fi", is_active=False)
    return organisation


@pytest.fixture
def colleague(organisation) -> User:
    """Teemu, the organisation's technical contact, who did not send its notification."""
    return verified_user("teemu@koulu.fi")


@pytest.fixture
def waiting(terms, alice, organisation) -> Registration:
    return send(terms, alice)


# Taken to the waiting notification ----------------------------------------------------------


@pytest.mark.parametrize("who", ["alice", "colleague"])
def test_starting_at_the_oid_step_leads_to_the_waiting_notification(waiting, who, request):
    client = signed_in(request.getfixturevalue(who))
    response = client.post(en("notify_start"), {"oid": OID}, follow=True)
    assert response.redirect_chain == [(en("registration", waiting.pk), 302)]
    page = response.content.decode()
    assert "A notification for this organisation is already waiting." in page
    assert en("registration_withdraw", waiting.pk) in page


@pytest.mark.parametrize("who", ["alice", "colleague"])
def test_opening_the_form_leads_to_the_waiting_notification(waiting, who, request):
    client = signed_in(request.getfixturevalue(who))
    response = client.get(en("notify", OID))
    assert response.status_code == 302
    assert response["Location"] == en("registration", waiting.pk)


@pytest.mark.parametrize("page", ["notify_start", "notify"])
@pytest.mark.parametrize("who", ["mallory", "former@koulu.fi"])
def test_someone_who_may_not_see_it_is_told_it_waits_and_whom_to_ask(
    waiting, settings, page, who, request
):
    person = request.getfixturevalue(who) if who == "mallory" else verified_user(who)
    client = signed_in(person)
    if page == "notify_start":
        response = client.post(en("notify_start"), {"oid": OID})
    else:
        response = client.get(en("notify", OID))
    content = response.content.decode()
    assert response.status_code == 409
    assert WAITING_MESSAGE in content
    assert settings.CUSTOMER_SERVICE_EMAIL in content
    for detail in ("Salainen koulu", ALICE, "tekla@koulu.fi", f"/{waiting.pk}/"):
        assert detail not in content


def test_a_notification_sent_meanwhile_by_another_stops_the_submit_without_an_error(
    terms, alice, mallory, django_capture_on_commit_callbacks
):
    client = signed_in(mallory)
    form = en("notify", OID)
    token = token_on(client.get(form).content.decode())
    post = valid_post(token, name_fi="Mallory Oy")
    assert client.post(form, post)["Location"] == en("notify_check", OID)
    first = send(terms, alice)  # alice's arrives while mallory checks her answers

    with django_capture_on_commit_callbacks(execute=True):
        response = client.post(en("notify_submit", OID), {"token": token}, follow=True)

    assert response.status_code == 409
    assert WAITING_MESSAGE in response.content.decode()
    assert list(Registration.objects.all()) == [first]


# Withdrawing -------------------------------------------------------------------------------


@pytest.mark.parametrize("who", ["alice", "colleague"])
def test_the_sender_or_an_active_contact_withdraws_after_confirming(waiting, who, request):
    client = signed_in(request.getfixturevalue(who))
    url = en("registration_withdraw", waiting.pk)
    confirmation = client.get(url).content.decode()
    assert "Withdraw the notification?" in confirmation
    assert f'action="{url}"' in confirmation and "csrfmiddlewaretoken" in confirmation
    waiting.refresh_from_db()
    assert waiting.is_pending  # asking is not doing

    response = client.post(url, follow=True)
    assert response.redirect_chain == [(en("registration", waiting.pk), 302)]
    assert "The notification was withdrawn." in response.content.decode()
    waiting.refresh_from_db()
    assert waiting.status == Registration.Status.WITHDRAWN
    assert client.get(en("notify", OID)).status_code == 200  # a new one may be made


def test_withdrawing_needs_the_csrf_token(waiting, alice):
    client = Client(enforce_csrf_checks=True)
    client.force_login(alice)
    assert client.post(en("registration_withdraw", waiting.pk)).status_code == 403
    waiting.refresh_from_db()
    assert waiting.is_pending


@pytest.mark.parametrize("method", ["get", "post"])
def test_someone_else_cannot_withdraw_or_even_find_it(waiting, mallory, method):
    response = getattr(signed_in(mallory), method)(en("registration_withdraw", waiting.pk))
    assert response.status_code == 404
    waiting.refresh_from_db()
    assert waiting.is_pending


def test_a_decided_notification_offers_no_withdrawal_and_refuses_one(waiting, alice):
    services.registration_approve(registration_id=waiting.pk, reviewer=UserFactory())
    client = signed_in(alice)
    url = en("registration_withdraw", waiting.pk)
    assert url not in client.get(en("registration", waiting.pk)).content.decode()
    assert "Withdraw the notification?" not in client.get(url).content.decode()
    response = client.post(url, follow=True)
    assert "can no longer be withdrawn: Approved" in response.content.decode()
    waiting.refresh_from_db()
    assert waiting.status == Registration.Status.APPROVED


# Correcting ----------------------------------------------------------------------------------


def test_another_active_contact_opens_the_correction_prefilled_with_the_reason(
    waiting, colleague, mallory, mailoutbox, django_capture_on_commit_callbacks
):
    with django_capture_on_commit_callbacks(execute=True):
        services.registration_request_changes(
            registration_id=waiting.pk, reviewer=UserFactory(is_staff=True), reason=REASON
        )
    [to_carol] = [m for m in mailoutbox if m.to == ["carol@koulu.fi"]]
    link = next(word for word in to_carol.body.split() if f"/notify/{OID}/" in word)

    assert link.startswith(f"http://testserver/sv/notify/{OID}/")  # carol reads Swedish

    response = signed_in(colleague).get(link.removeprefix("http://testserver"))
    page = response.content.decode()
    assert response.status_code == 200
    assert 'name="name_fi" value="Salainen koulu"' in page
    assert f'value="{ALICE}"' in page and 'value="tekla@koulu.fi"' in page
    assert response.context["correction"] == waiting
    with translation.override("en"):
        notice = render_to_string(
            "onboarding/_correction_reason.html", {"correction": response.context["correction"]}
        )
    assert "OPH asked for changes" in notice and escape(REASON) in notice

    outsider = signed_in(mallory).get(en("notify", OID))
    assert outsider.status_code == 409 and "tekla@koulu.fi" not in outsider.content.decode()


def test_the_registration_page_offers_the_correction_and_the_withdrawal(waiting, colleague):
    services.registration_request_changes(
        registration_id=waiting.pk, reviewer=UserFactory(is_staff=True), reason=REASON
    )
    page = signed_in(colleague).get(en("registration", waiting.pk)).content.decode()
    assert f'href="{en("notify", OID)}"' in page
    assert en("registration_withdraw", waiting.pk) in page
    assert REASON in page


def test_the_organisation_page_links_to_its_waiting_notification(waiting, colleague):
    page = signed_in(colleague).get(en("organisation", waiting.organisation_id)).content.decode()
    assert f'href="{en("registration", waiting.pk)}"' in page

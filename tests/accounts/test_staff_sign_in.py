"""Staff sign in with their password and second factor, never by an emailed code alone, and do
not get their password reset by email: whoever reads a staff mailbox does not get in."""

from __future__ import annotations

import re

import pytest
from allauth.mfa.models import Authenticator
from django.core import mail
from django.urls import reverse

from onboarding.models import OutgoingEmail
from tests.factories import CHARLIE, verified_user

pytestmark = pytest.mark.django_db

CODE = re.compile(r"^\s*([A-Z0-9]{4}-?[A-Z0-9]{2,4})\s*$", re.MULTILINE)
PASSWORD = "correct horse battery staple"  # every factory-made person's


def inbox(address: str) -> list[str]:
    """The bodies of what was emailed to `address`, sent at once or waiting in the outbox."""
    sent = [m.body for m in mail.outbox if address in m.to]
    return sent + list(OutgoingEmail.objects.filter(to=address).values_list("body_text", flat=True))


def code_in(address: str) -> str:
    return CODE.search(inbox(address)[-1]).group(1)


@pytest.fixture
def charlie():
    """Charlie, OPH staff, with a password of his own but no second factor yet."""
    return verified_user(CHARLIE, is_staff=True)


def test_a_staff_address_gets_no_code_but_an_email_on_how_staff_sign_in(client, charlie):
    response = client.post(reverse("account_request_login_code"), {"email": CHARLIE})
    assert response.status_code == 302
    email = inbox(CHARLIE)[-1]
    assert not any(CODE.search(body) for body in inbox(CHARLIE))
    assert "password and second factor" in email
    assert re.search(r"http://testserver(/en)?/accounts/login/#password-sign-in", email)


def test_the_page_answers_a_staff_address_as_it_answers_anyone(client, charlie):
    verified_user("rehtori@koulu.fi")
    staff = client.post(reverse("account_request_login_code"), {"email": CHARLIE})
    staff_page = client.get(staff["Location"]).content.decode()
    client.cookies.clear()
    member = client.post(reverse("account_request_login_code"), {"email": "rehtori@koulu.fi"})
    member_page = client.get(member["Location"]).content.decode()
    assert staff["Location"] == member["Location"]
    assert (
        staff_page.replace(CHARLIE, "rehtori@koulu.fi").split("csrfmiddlewaretoken")[0]
        == member_page.split("csrfmiddlewaretoken")[0]
    )


def test_a_code_asked_for_before_becoming_staff_does_not_sign_in(client):
    person = verified_user("uusi.virkailija@oph.fi")
    asked = client.post(reverse("account_request_login_code"), {"email": person.email})
    code = code_in(person.email)
    person.is_staff = True
    person.save()
    refused = client.post(asked["Location"], {"code": code}, follow=True)
    assert "_auth_user_id" not in client.session
    assert "Staff sign in with their password and second factor." in refused.content.decode()
    assert client.get(reverse("admin:index")).status_code == 302


def test_a_member_still_signs_in_by_code(client):
    verified_user("rehtori@koulu.fi")
    asked = client.post(reverse("account_request_login_code"), {"email": "rehtori@koulu.fi"})
    client.post(asked["Location"], {"code": code_in("rehtori@koulu.fi")})
    assert client.get(reverse("onboarding:my_organisations")).status_code == 200


def test_staff_with_a_password_but_no_second_factor_cannot_reach_the_admin(client, charlie):
    client.post(reverse("account_login"), {"login": CHARLIE, "password": PASSWORD})
    assert client.session["_auth_user_id"] == str(charlie.pk)
    index = client.get(reverse("admin:index"))
    assert index.status_code == 302
    told = client.get(index["Location"])
    assert told.status_code == 403
    assert "Ask a superuser to send you a new enrolment link" in told.content.decode()


def test_staff_cannot_set_up_a_second_factor_outside_their_enrolment(client, charlie):
    client.post(reverse("account_login"), {"login": CHARLIE, "password": PASSWORD})
    assert client.get(reverse("mfa_activate_totp")).status_code == 403
    assert client.post(reverse("mfa_activate_totp"), {"code": "123456"}).status_code == 403
    assert not Authenticator.objects.filter(user=charlie).exists()


def test_a_member_may_still_set_up_a_second_factor(client):
    client.force_login(verified_user("rehtori@koulu.fi"))
    activate = client.get(reverse("mfa_activate_totp"))
    assert activate.status_code == 302  # allauth's own: confirm who you are first
    assert activate["Location"].startswith(reverse("account_reauthenticate"))


def test_a_staff_password_is_not_reset_by_email(client, charlie):
    verified_user("rehtori@koulu.fi")
    staff = client.post(reverse("account_reset_password"), {"email": CHARLIE})
    member = client.post(reverse("account_reset_password"), {"email": "rehtori@koulu.fi"})
    assert staff.status_code == member.status_code == 302
    assert staff["Location"] == member["Location"]
    assert not any("/password/reset/key/" in body for body in inbox(CHARLIE))
    assert "ask a superuser to send you a new enrolment link" in inbox(CHARLIE)[-1]
    assert "/password/reset/key/" in inbox("rehtori@koulu.fi")[-1]


def test_a_reset_link_sent_before_becoming_staff_no_longer_works(client):
    person = verified_user("uusi.virkailija@oph.fi")
    client.post(reverse("account_reset_password"), {"email": person.email})
    link = re.search(r"http://testserver(/\S+/password/reset/key/\S+)", inbox(person.email)[-1])
    person.is_staff = True
    person.save()
    page = client.get(link.group(1), follow=True)
    assert page.context["token_fail"]
    person.refresh_from_db()
    assert person.check_password(PASSWORD)


def test_in_development_the_demo_staff_signs_in_with_a_password_alone(client, settings, charlie):
    settings.ADMIN_REQUIRE_MFA = False
    charlie.is_superuser = True
    charlie.save()
    client.post(reverse("account_login"), {"login": CHARLIE, "password": PASSWORD})
    assert client.get(reverse("admin:index")).status_code == 200

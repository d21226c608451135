"""Signing in: email and an emailed code, no account enumeration, staff behind a second factor."""

from __future__ import annotations

import re

import pytest
from allauth.account.models import EmailAddress
from allauth.mfa.totp.internal.auth import TOTP, generate_totp_secret
from django.urls import reverse

from onboarding.models import User
from tests.factories import UserFactory, current_totp_code, verified_user

pytestmark = pytest.mark.django_db

CODE = re.compile(r"^\s*([A-Z0-9]{4}-?[A-Z0-9]{2,4})\s*$", re.MULTILINE)


@pytest.fixture
def client(committing_client):
    """The sign-in code a request writes to the outbox is sent as the request commits."""
    return committing_client


def code_from(message) -> str:
    return CODE.search(message.body).group(1)


def test_a_first_time_visitor_gets_an_account_by_the_code_from_their_inbox(client, mailoutbox):
    response = client.post(
        reverse("account_request_login_code"), {"email": "Uusi.Ihminen@Koulu.fi"}
    )
    assert response.status_code == 302
    assert mailoutbox[-1].to == ["uusi.ihminen@koulu.fi"]
    confirm = client.post(response["Location"], {"code": code_from(mailoutbox[-1])})
    assert confirm.status_code == 302
    user = User.objects.get(email="uusi.ihminen@koulu.fi")
    assert EmailAddress.objects.get(user=user).verified
    assert client.get(reverse("onboarding:my_organisations")).status_code == 200


def test_where_a_first_time_visitor_was_going_is_kept_through_every_step(client, mailoutbox):
    start = client.get("/en/notify/")
    assert start["Location"] == "/en/accounts/login/?next=/en/notify/"
    page = client.get(start["Location"]).content.decode()
    assert 'name="next" value="/en/notify/"' in page
    asked = client.post(
        "/en/accounts/login/code/?next=/en/notify/",
        {"email": "new@koulu.fi", "next": "/en/notify/"},
    )
    assert asked["Location"] == "/en/accounts/login/code/confirm/?next=%2Fen%2Fnotify%2F"
    signed_in = client.post(
        asked["Location"], {"code": code_from(mailoutbox[-1]), "next": "/en/notify/"}
    )
    assert signed_in["Location"] == "/en/notify/"
    assert client.get("/en/notify/").status_code == 200


def test_an_old_sign_up_link_leads_to_the_sign_in_page_and_keeps_the_destination(client):
    response = client.get("/sv/accounts/signup/?next=/sv/notify/")
    assert response.status_code == 302
    assert response["Location"] == "/sv/accounts/login/?next=%2Fsv%2Fnotify%2F"
    client.post("/sv/accounts/signup/", {"email": "someone@koulu.fi", "password1": "x"})
    assert not User.objects.filter(email="someone@koulu.fi").exists()


def test_no_password_rules_are_shown_where_no_password_is_asked(client):
    page = client.get("/en/accounts/login/code/").content.decode()
    assert 'type="password"' not in page
    assert "Your password" not in page


def test_a_wrong_code_does_not_sign_in(client, mailoutbox):
    response = client.post(reverse("account_request_login_code"), {"email": "someone@koulu.fi"})
    real = code_from(mailoutbox[-1])
    wrong = "AAAAAA" if real != "AAAAAA" else "BBBBBB"
    page = client.post(response["Location"], {"code": wrong})
    assert page.status_code == 200
    assert client.get(reverse("onboarding:my_organisations")).status_code == 302


def test_a_closed_account_gets_no_code(client, mailoutbox):
    verified_user("left@koulu.fi", is_active=False)
    client.post(reverse("account_request_login_code"), {"email": "left@koulu.fi"})
    assert not any(CODE.search(m.body) for m in mailoutbox)


def test_a_member_signs_in_by_an_emailed_code(client, mailoutbox):
    verified_user("rehtori@koulu.fi")
    response = client.post(reverse("account_request_login_code"), {"email": "rehtori@koulu.fi"})
    assert response.status_code == 302
    client.post(response["Location"], {"code": code_from(mailoutbox[-1])})
    assert client.get(reverse("onboarding:my_organisations")).status_code == 200


def test_the_answer_is_the_same_for_known_and_unknown_addresses(client, mailoutbox):
    verified_user("known@koulu.fi")
    known = client.post(reverse("account_request_login_code"), {"email": "known@koulu.fi"})
    known_page = client.get(known["Location"]).content.decode()
    client.cookies.clear()
    unknown = client.post(reverse("account_request_login_code"), {"email": "nobody@koulu.fi"})
    unknown_page = client.get(unknown["Location"]).content.decode()
    assert known.status_code == unknown.status_code == 302
    assert known["Location"] == unknown["Location"]
    assert (
        known_page.replace("known@", "nobody@").split("csrfmiddlewaretoken")[0]
        == (unknown_page.split("csrfmiddlewaretoken")[0])
    )
    # Both get a code to sign in with; nobody gets an "unknown account" email.
    assert [m.to[0] for m in mailoutbox] == ["known@koulu.fi", "nobody@koulu.fi"]
    assert all(CODE.search(m.body) for m in mailoutbox)


def test_the_admin_login_sends_people_to_the_portal_sign_in(client):
    response = client.get(reverse("admin:login"))
    assert response.status_code == 302
    assert response["Location"].startswith(reverse("account_login"))


def test_the_admin_password_form_is_not_a_way_in(client):
    UserFactory(email="staff@oph.fi", is_staff=True, is_superuser=True)
    client.post(
        reverse("admin:login"),
        {"username": "staff@oph.fi", "password": "correct horse battery staple"},
    )
    assert "_auth_user_id" not in client.session
    assert client.get(reverse("admin:index")).status_code == 302


def test_staff_without_a_second_factor_are_told_to_ask_for_an_enrolment_link(client):
    staff = verified_user("staff@oph.fi", is_staff=True, is_superuser=True)
    client.force_login(staff)
    index = client.get(reverse("admin:index"))
    assert index.status_code == 302
    login = client.get(index["Location"])
    assert login.status_code == 403
    assert "enrolment link" in login.content.decode()


def test_staff_sign_in_with_password_and_a_totp_code_reaches_the_admin(client):
    staff = verified_user("staff@oph.fi", is_staff=True, is_superuser=True)
    secret = generate_totp_secret()
    TOTP.activate(staff, secret)
    response = client.post(
        reverse("account_login"),
        {"login": "staff@oph.fi", "password": "correct horse battery staple"},
    )
    assert response["Location"] == reverse("mfa_authenticate")
    assert client.get(reverse("admin:index")).status_code == 302
    client.post(reverse("mfa_authenticate"), {"code": current_totp_code(secret)})
    assert client.get(reverse("admin:index")).status_code == 200


def test_development_may_skip_the_second_factor(client, settings):
    settings.ADMIN_REQUIRE_MFA = False
    client.force_login(verified_user("dev@oph.fi", is_staff=True, is_superuser=True))
    assert client.get(reverse("admin:index")).status_code == 200


def test_people_who_are_not_staff_are_refused_the_admin(client):
    client.force_login(verified_user("rehtori@koulu.fi"))
    assert client.get(reverse("admin:index")).status_code in (302, 403)
    assert client.get(reverse("admin:onboarding_organisation_changelist")).status_code != 200


def test_the_sign_in_page_leads_with_the_email_step_and_keeps_the_destination(client):
    page = client.get("/sv/accounts/login/?next=/sv/notify/").content.decode()
    then = "?next=%2Fsv%2Fnotify%2F"
    code_form = page.index(f'action="{reverse("account_request_login_code")}{then}"')
    password_form = page.index(f'action="{reverse("account_login")}"')
    assert code_form < password_form
    assert "Skicka mig en inloggningskod" in page
    assert "signup" not in page


def test_a_sign_in_error_is_summarised_and_tied_to_its_field_in_the_pages_language(client):
    response = client.post("/sv/accounts/login/code/", {"email": "inte en adress"})
    page = response.content.decode()
    assert response.status_code == 200
    assert 'id="error-summary"' in page
    assert '<a href="#id_email">Fyll i en giltig e-postadress.</a>' in page
    assert 'aria-describedby="id_email_error"' in page
    assert 'aria-invalid="true"' in page
    assert 'value="inte en adress"' in page

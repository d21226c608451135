"""Signing in: email and an emailed code, no account enumeration, staff behind a second factor."""

from __future__ import annotations

import re

import pytest
from allauth.account.models import EmailAddress
from allauth.mfa.totp.internal.auth import TOTP, generate_totp_secret
from django.urls import reverse

from onboarding.models import User
from tests.factories import UserFactory, current_totp_code

pytestmark = pytest.mark.django_db

CODE = re.compile(r"^\s*([A-Z0-9]{4}-?[A-Z0-9]{2,4})\s*$", re.MULTILINE)


def code_from(message) -> str:
    return CODE.search(message.body).group(1)


def verified(email: str, **extra) -> User:
    user = UserFactory(email=email, **extra)
    EmailAddress.objects.create(user=user, email=email, verified=True, primary=True)
    return user


def test_a_person_signs_up_with_only_an_email_and_a_code_from_their_inbox(client, mailoutbox):
    response = client.post(reverse("account_signup"), {"email": "Uusi.Ihminen@Koulu.fi"})
    assert response.status_code == 302
    assert mailoutbox[-1].to == ["uusi.ihminen@koulu.fi"]
    confirm = client.post(response["Location"], {"code": code_from(mailoutbox[-1])})
    assert confirm.status_code == 302
    user = User.objects.get(email="uusi.ihminen@koulu.fi")
    assert EmailAddress.objects.get(user=user).verified
    assert client.get(reverse("onboarding:my_organisations")).status_code == 200


def test_a_wrong_code_does_not_sign_in(client, mailoutbox):
    response = client.post(reverse("account_signup"), {"email": "someone@koulu.fi"})
    real = code_from(mailoutbox[-1])
    wrong = "AAAAAA" if real != "AAAAAA" else "BBBBBB"
    page = client.post(response["Location"], {"code": wrong})
    assert page.status_code == 200
    assert client.get(reverse("onboarding:my_organisations")).status_code == 302


def test_a_member_signs_in_by_an_emailed_code(client, mailoutbox):
    verified("rehtori@koulu.fi")
    response = client.post(reverse("account_request_login_code"), {"email": "rehtori@koulu.fi"})
    assert response.status_code == 302
    client.post(response["Location"], {"code": code_from(mailoutbox[-1])})
    assert client.get(reverse("onboarding:my_organisations")).status_code == 200


def test_the_answer_is_the_same_for_known_and_unknown_addresses(client, mailoutbox):
    verified("known@koulu.fi")
    known = client.post(reverse("account_request_login_code"), {"email": "known@koulu.fi"})
    client.cookies.clear()
    unknown = client.post(reverse("account_request_login_code"), {"email": "nobody@koulu.fi"})
    assert known.status_code == unknown.status_code == 302
    assert known["Location"] == unknown["Location"]
    assert {m.to[0] for m in mailoutbox} == {"known@koulu.fi", "nobody@koulu.fi"}


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


def test_staff_without_a_second_factor_are_sent_to_set_one_up(client):
    staff = verified("staff@oph.fi", is_staff=True, is_superuser=True)
    client.force_login(staff)
    index = client.get(reverse("admin:index"))
    assert index.status_code == 302
    login = client.get(index["Location"])
    assert login.status_code == 302
    assert login["Location"] == reverse("mfa_activate_totp")


def test_staff_sign_in_with_password_and_a_totp_code_reaches_the_admin(client):
    staff = verified("staff@oph.fi", is_staff=True, is_superuser=True)
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
    client.force_login(verified("dev@oph.fi", is_staff=True, is_superuser=True))
    assert client.get(reverse("admin:index")).status_code == 200


def test_people_who_are_not_staff_are_refused_the_admin(client):
    client.force_login(verified("rehtori@koulu.fi"))
    assert client.get(reverse("admin:index")).status_code in (302, 403)
    assert client.get(reverse("admin:onboarding_organisation_changelist")).status_code != 200


def test_the_sign_in_page_leads_with_the_emailed_code_and_the_way_to_sign_up(client):
    page = client.get("/sv/accounts/login/?next=/sv/notify/").content.decode()
    then = "?next=%2Fsv%2Fnotify%2F"  # both ways lead on to where the person was going
    code_link = page.index(f'href="{reverse("account_request_login_code")}{then}"')
    password_form = page.index('<form class="entrance-form"')
    assert code_link < password_form
    assert "Skicka mig en inloggningskod" in page
    assert f'<a href="{reverse("account_signup")}{then}">Skapa ett konto</a>' in page


def test_a_sign_in_error_is_summarised_and_tied_to_its_field_in_the_pages_language(client):
    response = client.post("/sv/accounts/signup/", {"email": "inte en adress"})
    page = response.content.decode()
    assert response.status_code == 200
    assert 'id="error-summary"' in page
    assert '<a href="#id_email">Fyll i en giltig e-postadress.</a>' in page
    assert 'aria-describedby="id_email_error"' in page
    assert 'aria-invalid="true"' in page
    assert 'value="inte en adress"' in page

"""A staff member enrols through a one-time link that expires: a password, then a second
factor, then the admin. A superuser sends the link; it also starts over a lost password."""

from __future__ import annotations

import re
from datetime import timedelta

import pytest
from allauth.mfa.models import Authenticator
from allauth.mfa.totp.internal.auth import TOTP, generate_totp_secret
from django.contrib import admin
from django.test import Client
from django.urls import reverse
from django.utils import translation
from django.utils.encoding import force_bytes
from django.utils.http import urlsafe_base64_encode
from django.utils.translation import gettext

from onboarding.accounts.tokens import StaffEnrolmentTokens
from onboarding.emails import render_email
from onboarding.models import OutgoingEmail, User
from onboarding.services.accounts import staff_enrolment_send
from tests.factories import CHARLIE, current_totp_code, verified_user

pytestmark = pytest.mark.django_db

NEW_PASSWORD = "pitkä ja hyvä salasana 2026"
LINK = re.compile(r"http://testserver(/staff/enrol/\S+/)")


def enrolment_link(email: str) -> str:
    """The link in the latest enrolment email to `email`, as the person reads it."""
    latest = OutgoingEmail.objects.filter(to=email, kind=OutgoingEmail.Kind.STAFF_ENROLMENT)
    return LINK.search(latest.latest("pk").body_text).group(1)


def set_password(client, link: str):
    opened = client.get(link)
    assert opened.status_code == 302
    return client.post(
        opened["Location"], {"new_password1": NEW_PASSWORD, "new_password2": NEW_PASSWORD}
    )


@pytest.fixture
def charlie():
    """Charlie, just made OPH staff: no password nor second factor of his own yet."""
    return verified_user(CHARLIE, is_staff=True, password=None)


def test_making_someone_staff_in_the_admin_emails_them_an_enrolment_link(admin_client):
    person = verified_user("uusi.virkailija@oph.fi")
    TOTP.activate(person, generate_totp_secret())  # set up while a member: not trusted
    change = reverse("admin:onboarding_user_change", args=[person.pk])
    form = admin_client.get(change).context["adminform"].form
    data = {name: value for name, value in form.initial.items() if value not in (None, "")}
    data.update(is_staff="on", is_active="on", groups=[], user_permissions=[])
    data.update(date_joined_0=person.date_joined.date(), date_joined_1="00:00:00")
    data.pop("password", None)
    data.pop("last_login", None)
    response = admin_client.post(change, data)
    assert response.status_code == 302, response.context["adminform"].form.errors
    person.refresh_from_db()
    assert person.is_staff
    assert not person.has_usable_password()
    assert not Authenticator.objects.filter(user=person).exists()
    assert enrolment_link(person.email).startswith("/staff/enrol/")


def test_only_superusers_may_send_enrolment_links(rf, admin_user, charlie):
    user_admin = admin.site._registry[User]
    request = rf.get("/")
    request.user = admin_user
    assert "send_enrolment_link" in user_admin.get_actions(request)
    request.user = charlie
    assert "send_enrolment_link" not in user_admin.get_actions(request)


def test_the_enrolment_link_works_once(client, charlie):
    staff_enrolment_send(user=charlie)
    link = enrolment_link(CHARLIE)
    signed_in = set_password(client, link)
    assert signed_in["Location"] == reverse("mfa_activate_totp")
    charlie.refresh_from_db()
    assert charlie.check_password(NEW_PASSWORD)
    again = Client().get(link)
    assert again.status_code == 400
    with translation.override("fi"):  # the link has no language prefix: Finnish
        used = gettext(
            "This staff enrolment link has already been used, has expired, or a newer link "
            "has been sent."
        )
    assert used in again.content.decode()


def test_an_expired_link_is_refused(client, charlie, settings):
    class Yesterday(StaffEnrolmentTokens):
        def _now(self):
            return super()._now() - timedelta(hours=settings.STAFF_ENROLMENT_HOURS, minutes=1)

    uid = urlsafe_base64_encode(force_bytes(charlie.pk))
    token = Yesterday().make_token(charlie)
    expired = client.get(reverse("onboarding:staff_enrolment", args=[uid, token]))
    assert expired.status_code == 400
    assert "has expired" in expired.content.decode()


def test_a_newer_link_voids_the_older_one(client, charlie):
    staff_enrolment_send(user=charlie)
    older = enrolment_link(CHARLIE)
    staff_enrolment_send(user=charlie)
    assert client.get(older).status_code == 400
    assert client.get(enrolment_link(CHARLIE)).status_code == 302


def test_a_link_for_someone_no_longer_staff_does_not_work(client, charlie):
    staff_enrolment_send(user=charlie)
    charlie.is_staff = False
    charlie.save()
    assert client.get(enrolment_link(CHARLIE)).status_code == 400


def test_the_full_enrolment_leads_from_the_link_to_the_admin(client, charlie):
    charlie.is_superuser = True
    charlie.save()
    staff_enrolment_send(user=charlie)
    signed_in = set_password(client, enrolment_link(CHARLIE))
    admin_login = client.get(client.get(reverse("admin:index"))["Location"])
    assert admin_login["Location"] == signed_in["Location"] == reverse("mfa_activate_totp")
    activate = client.get(signed_in["Location"])
    assert activate.status_code == 200
    secret = activate.context["form"].secret
    client.post(reverse("mfa_activate_totp"), {"code": current_totp_code(secret)})
    assert Authenticator.objects.filter(user=charlie, type=Authenticator.Type.TOTP).exists()
    assert client.get(reverse("admin:index")).status_code == 200
    # And the next time: the password, then the code from the app.
    client.logout()
    client.post(reverse("account_login"), {"login": CHARLIE, "password": NEW_PASSWORD})
    assert client.get(reverse("admin:index")).status_code == 302
    client.post(reverse("mfa_authenticate"), {"code": current_totp_code(secret)})
    assert client.get(reverse("admin:index")).status_code == 200


def test_a_staff_member_who_kept_their_second_factor_is_asked_for_it(client, charlie):
    secret = generate_totp_secret()
    TOTP.activate(charlie, secret)
    staff_enrolment_send(user=charlie)
    asked = set_password(client, enrolment_link(CHARLIE))
    assert asked["Location"] == reverse("mfa_authenticate")
    assert "_auth_user_id" not in client.session
    client.post(reverse("mfa_authenticate"), {"code": current_totp_code(secret)})
    assert client.session["_auth_user_id"] == str(charlie.pk)


def test_a_superuser_resets_a_lost_password_and_second_factor(admin_client, charlie):
    TOTP.activate(charlie, generate_totp_secret())
    changelist = reverse("admin:onboarding_user_changelist")
    admin_client.post(
        changelist,
        {"action": "send_enrolment_link_removing_second_factor", "_selected_action": [charlie.pk]},
    )
    charlie.refresh_from_db()
    assert not charlie.has_usable_password()
    assert not Authenticator.objects.filter(user=charlie).exists()
    assert enrolment_link(CHARLIE)


def test_a_password_from_the_link_does_not_open_set_up_in_another_browser(client, charlie):
    staff_enrolment_send(user=charlie)
    set_password(client, enrolment_link(CHARLIE))
    elsewhere = Client()
    elsewhere.post(reverse("account_login"), {"login": CHARLIE, "password": NEW_PASSWORD})
    assert elsewhere.get(reverse("mfa_activate_totp")).status_code == 403


@pytest.mark.parametrize("language", ["fi", "sv", "en"])
def test_the_enrolment_email_is_written_in_every_language(charlie, language):
    context = {"user": charlie, "link": "http://testserver/staff/enrol/x/y/", "hours": 72}
    subject, text, html = render_email("staff_enrolment", context, language)
    assert subject
    assert "http://testserver/staff/enrol/x/y/" in text
    assert 'href="http://testserver/staff/enrol/x/y/"' in html
    assert "72" in text

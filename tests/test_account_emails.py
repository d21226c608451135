"""allauth's emails (sign-in codes, password resets, notices) go through the outbox: the
request writes them and answers at once, the worker sends them on the account queue, and a
code is never sent after its lifetime. The real SMTP server and worker: tests/integration."""

from __future__ import annotations

import smtplib
from collections.abc import Sequence
from datetime import timedelta

import pytest
from allauth.account import app_settings as allauth_account
from django.core.mail import EmailMessage
from django.core.mail.backends.locmem import EmailBackend as LocmemBackend
from django.urls import reverse
from django.utils import timezone, translation

from onboarding import emails
from onboarding.models import OutgoingEmail
from tests.factories import verified_user

pytestmark = pytest.mark.django_db


@pytest.fixture
def client(committing_client):
    return committing_client


class RefusingSmtp(LocmemBackend):
    """An SMTP server that answers every message "421 Service not available"."""

    def send_messages(self, messages: Sequence[EmailMessage]) -> int:
        raise smtplib.SMTPConnectError(421, b"4.3.2 Service not available")


def test_a_sign_in_code_is_written_to_the_outbox_with_its_lifetime_and_sent(client, mailoutbox):
    asked_at = timezone.now()
    response = client.post(reverse("account_request_login_code"), {"email": "Rehtori@Koulu.fi"})
    assert response.status_code == 302
    assert response["Location"] == reverse("account_confirm_login_code")

    [email] = OutgoingEmail.objects.all()
    assert (email.kind, email.to, email.language) == ("sign_in_code", "rehtori@koulu.fi", "en")
    lifetime = timedelta(seconds=allauth_account.LOGIN_BY_CODE_TIMEOUT)
    assert asked_at + lifetime <= email.expires_at <= timezone.now() + lifetime
    [message] = mailoutbox
    assert message.to == ["rehtori@koulu.fi"]
    assert message.subject == email.subject
    assert message.subject.startswith("MPASSid: ")
    assert message.alternatives == [] or message.alternatives[0][1] == "text/html"
    email.refresh_from_db()
    assert email.status == "sent"
    assert (email.body_text, email.body_html) == ("", ""), "the code is not kept once sent"


def test_a_sign_in_code_is_written_in_the_language_of_the_page(client, mailoutbox):
    with translation.override("sv"):
        url = reverse("account_request_login_code")
    client.post(url, {"email": "rektor@skolan.fi"})
    [email] = OutgoingEmail.objects.all()
    assert email.language == "sv"
    with translation.override("sv"):
        assert mailoutbox[0].subject == "MPASSid: " + translation.gettext("Sign-In Code")


def test_with_the_mail_server_refusing_the_sign_in_answers_and_the_code_waits(
    client, mailoutbox, settings
):
    settings.EMAIL_BACKEND = f"{__name__}.{RefusingSmtp.__qualname__}"
    response = client.post(reverse("account_request_login_code"), {"email": "rehtori@koulu.fi"})
    assert response.status_code == 302
    assert response["Location"] == reverse("account_confirm_login_code")
    assert client.get(response["Location"]).status_code == 200
    [email] = OutgoingEmail.objects.all()
    assert (email.status, email.attempts) == ("queued", 1)
    assert "421" in email.last_error
    assert email.next_attempt_at < email.expires_at
    assert email.body_text, "queued, it still carries the code to send"


def test_a_password_reset_link_lives_as_long_as_its_token(client, mailoutbox, settings):
    verified_user("rehtori@koulu.fi")
    asked_at = timezone.now()
    client.post(reverse("account_reset_password"), {"email": "rehtori@koulu.fi"})
    [email] = OutgoingEmail.objects.all()
    assert email.kind == "password_reset"
    lifetime = timedelta(seconds=settings.PASSWORD_RESET_TIMEOUT)
    assert asked_at + lifetime <= email.expires_at <= timezone.now() + lifetime
    [message] = mailoutbox
    assert "/accounts/password/reset/key/" in message.body


def test_a_notice_without_a_code_has_no_lifetime_and_keeps_its_body(client, mailoutbox):
    verified_user("kasittelija@oph.fi", is_staff=True)  # gets how staff sign in, not a code
    client.post(reverse("account_request_login_code"), {"email": "kasittelija@oph.fi"})
    [email] = OutgoingEmail.objects.all()
    assert (email.kind, email.expires_at, email.status) == ("account", None, "sent")
    assert email.body_text
    assert len(mailoutbox) == 1


def test_two_codes_to_one_address_are_two_emails(mailoutbox, django_capture_on_commit_callbacks):
    """No event names an account message: each has a key of its own, and is sent."""
    with django_capture_on_commit_callbacks(execute=True):
        for code in ("4XK9QZ", "7PLM2W"):
            emails.account_message(
                kind=OutgoingEmail.Kind.SIGN_IN_CODE,
                to="rehtori@koulu.fi",
                language="fi",
                subject="MPASSid: Kirjautumiskoodi",
                text=f"Koodisi: {code}",
                html="",
                expires_at=timezone.now() + timedelta(minutes=3),
            )
    assert OutgoingEmail.objects.filter(kind="sign_in_code", status="sent").count() == 2
    assert [m.body for m in mailoutbox] == ["Koodisi: 4XK9QZ", "Koodisi: 7PLM2W"]


def test_staff_do_not_see_a_code_in_the_email_admin(admin_client, mailoutbox, settings):
    settings.EMAIL_BACKEND = f"{__name__}.{RefusingSmtp.__qualname__}"
    email = OutgoingEmail.objects.create(
        key="sign_in_code:x:rehtori@koulu.fi",
        kind="sign_in_code",
        to="rehtori@koulu.fi",
        language="fi",
        subject="MPASSid: Kirjautumiskoodi",
        body_text="Koodisi: 4XK9QZ",
        expires_at=timezone.now() + timedelta(minutes=3),
    )
    page = admin_client.get(reverse("admin:onboarding_outgoingemail_change", args=[email.pk]))
    assert page.status_code == 200
    assert "Kirjautumiskoodi" in page.content.decode()
    assert "4XK9QZ" not in page.content.decode()

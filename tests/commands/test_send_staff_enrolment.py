"""The first superuser's way in: createsuperuser, then an enrolment link from the command."""

from __future__ import annotations

from io import StringIO

import pytest
from django.core.management import CommandError, call_command
from django.test import Client

from onboarding.models import OutgoingEmail
from tests.factories import UserFactory

pytestmark = pytest.mark.django_db


def test_the_first_superuser_gets_an_enrolment_link_that_works():
    superuser = UserFactory(email="paakayttaja@oph.fi", is_staff=True, is_superuser=True)
    out = StringIO()
    call_command("send_staff_enrolment", "Paakayttaja@oph.fi", stdout=out)
    link = out.getvalue().split(": ", 1)[1].strip()
    email = OutgoingEmail.objects.get(to=superuser.email)
    assert email.kind == OutgoingEmail.Kind.STAFF_ENROLMENT
    assert link in email.body_text
    superuser.refresh_from_db()
    assert not superuser.has_usable_password()
    assert Client().get(link.removeprefix("http://testserver")).status_code == 302


def test_only_staff_get_a_link_from_the_command():
    UserFactory(email="rehtori@koulu.fi")
    with pytest.raises(CommandError, match="No active staff member"):
        call_command("send_staff_enrolment", "rehtori@koulu.fi", stdout=StringIO())
    assert not OutgoingEmail.objects.exists()

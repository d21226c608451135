"""Limits a person meets on the notification form: the most notifications an hour (told on the
page, nothing typed lost) and the most drafts one session keeps."""

from __future__ import annotations

import pytest

from onboarding.models import Registration
from tests.factories import LEMPAALA, OrganisationFactory, notification_data, submit
from tests.notification_form import CHECK, FORM, SUBMIT, token_on, valid_post

pytestmark = pytest.mark.django_db


def fill_in(client, form: str = FORM) -> str:
    """Fill in and check the form at `form`; the submission token."""
    token = token_on(client.get(form).content.decode())
    assert client.post(form, valid_post(token))["Location"] == f"{form}check/"
    return token


def test_over_the_limit_the_check_page_says_so_and_keeps_everything_for_later(
    client, person, terms, settings, django_capture_on_commit_callbacks
):
    settings.NOTIFICATIONS_PER_PERSON_PER_HOUR = 1
    oid = OrganisationFactory.build().oid
    submit(terms, user=person, data=notification_data(terms, oid=oid))
    token = fill_in(client)

    with django_capture_on_commit_callbacks(execute=True):
        refused = client.post(SUBMIT, {"token": token}, follow=True)

    assert refused.redirect_chain[-1][0] == CHECK
    page = refused.content.decode()
    assert "You have sent 1 notification in the last hour" in page
    assert "your answers are kept" in page
    assert not Registration.objects.filter(oid=LEMPAALA).exists()

    settings.NOTIFICATIONS_PER_PERSON_PER_HOUR = 2  # or an hour later
    with django_capture_on_commit_callbacks(execute=True):
        client.post(SUBMIT, {"token": token})
    sent = Registration.objects.get(oid=LEMPAALA)
    assert sent.terms_version == terms  # the acceptance was kept too
    assert sent.submitted.acceptance.accepter_name


def test_a_session_keeps_only_the_newest_drafts(client, person, terms, settings):
    settings.NOTIFICATION_DRAFTS_PER_SESSION = 3
    oids = [OrganisationFactory.build().oid for _ in range(4)]
    for oid in oids:
        fill_in(client, f"/en/notify/{oid}/")

    assert list(client.session["notification_drafts"]) == oids[1:]
    oldest = client.get(f"/en/notify/{oids[0]}/check/")
    assert oldest["Location"] == f"/en/notify/{oids[0]}/"  # its draft was forgotten
    assert client.get(f"/en/notify/{oids[-1]}/check/").status_code == 200


def test_a_draft_kept_again_becomes_the_newest(client, person, terms, settings):
    settings.NOTIFICATION_DRAFTS_PER_SESSION = 2
    first, second, third = (OrganisationFactory.build().oid for _ in range(3))
    fill_in(client, f"/en/notify/{first}/")
    fill_in(client, f"/en/notify/{second}/")
    fill_in(client, f"/en/notify/{first}/")  # edited again
    fill_in(client, f"/en/notify/{third}/")
    assert list(client.session["notification_drafts"]) == [first, third]

from __future__ import annotations

import pytest

from onboarding.invitations import invitation_token
from tests.factories import (
    ALICE,
    BOB,
    ContactPersonFactory,
    OrganisationFactory,
    launched_campaign,
)

pytestmark = pytest.mark.django_db


@pytest.fixture
def organisation(lempaala):
    """Lempäälä, a legacy member, with a security contact too (whom campaigns do not invite)."""
    ContactPersonFactory(organisation=lempaala, email="tietoturva@lempaala.fi", role="security")
    return lempaala


@pytest.fixture
def campaign(terms, organisation):
    """A legacy campaign, launched: it has invited alice, Lempäälä's administrative contact."""
    return launched_campaign(terms)


def link(organisation, campaign, email=ALICE):
    token = invitation_token(organisation_id=organisation.pk, campaign_id=campaign.pk, email=email)
    return f"/en/invitations/{token}/"


def test_the_person_invited_gets_the_notification_with_the_organisations_contacts(
    client, alice, organisation, campaign
):
    client.force_login(alice)
    response = client.get(link(organisation, campaign), follow=True)
    assert response.request["PATH_INFO"] == f"/en/notify/{organisation.oid}/"
    assert "tietoturva@lempaala.fi" in response.content.decode()


def test_a_forwarded_link_opens_the_notification_without_the_contacts(
    client, mallory, organisation, campaign
):
    client.force_login(mallory)
    response = client.get(link(organisation, campaign), follow=True)
    page = response.content.decode()
    assert response.request["PATH_INFO"] == f"/en/notify/{organisation.oid}/"
    assert "tietoturva@lempaala.fi" not in page
    assert "sent to another email address" in page


def test_the_link_grants_nothing_for_another_organisation(
    client, alice, organisation, campaign, borga
):
    client.force_login(alice)
    client.get(link(organisation, campaign))
    assert BOB not in client.get(f"/en/notify/{borga.oid}/").content.decode()


def test_a_link_for_an_organisation_outside_the_campaign_grants_nothing(client, alice, campaign):
    outsider = OrganisationFactory()
    ContactPersonFactory(organisation=outsider, email="piilossa@koulu.fi")
    client.force_login(alice)
    response = client.get(link(outsider, campaign), follow=True)
    assert "piilossa@koulu.fi" not in response.content.decode()


def test_a_forged_or_expired_link_is_explained(client, alice, organisation, campaign, settings):
    client.force_login(alice)
    url = link(organisation, campaign)
    forged = client.get(url[:-4] + "xx/", follow=True)
    assert "The link is broken or has expired." in forged.content.decode()
    settings.INVITATION_MAX_AGE_DAYS = -1
    expired = client.get(url, follow=True)
    assert "The link is broken or has expired." in expired.content.decode()


def test_the_link_asks_to_sign_in_first(client, organisation, campaign):
    response = client.get(link(organisation, campaign))
    assert response.status_code == 302
    assert "/accounts/login/" in response["Location"]

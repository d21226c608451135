from __future__ import annotations

from datetime import timedelta

import pytest
from allauth.account.models import EmailAddress
from django.utils import timezone

from onboarding.invitations import invitation_token
from onboarding.services.campaigns import campaign_create, campaign_launch
from tests.factories import (
    ContactPersonFactory,
    OrganisationFactory,
    UserFactory,
    published_terms,
)

pytestmark = pytest.mark.django_db
INVITED = "hallinto@koulu.fi"


@pytest.fixture
def campaign():
    campaign = campaign_create(
        terms_version=published_terms(),
        audience="legacy",
        deadline=timezone.localdate() + timedelta(days=60),
    )
    return campaign


@pytest.fixture
def organisation(campaign):
    organisation = OrganisationFactory(membership="legacy_contract")
    ContactPersonFactory(organisation=organisation, email=INVITED)
    ContactPersonFactory(organisation=organisation, email="tietoturva@koulu.fi", role="security")
    campaign_launch(campaign_id=campaign.pk)
    return organisation


def sign_in(client, email):
    user = UserFactory(email=email)
    EmailAddress.objects.create(user=user, email=email, verified=True, primary=True)
    client.force_login(user)
    return client


def link(organisation, campaign, email=INVITED):
    token = invitation_token(organisation_id=organisation.pk, campaign_id=campaign.pk, email=email)
    return f"/en/invitations/{token}/"


def test_the_person_invited_gets_the_notification_with_the_organisations_contacts(
    client, organisation, campaign
):
    sign_in(client, INVITED)
    response = client.get(link(organisation, campaign), follow=True)
    assert response.request["PATH_INFO"] == f"/en/notify/{organisation.oid}/"
    assert "tietoturva@koulu.fi" in response.content.decode()


def test_a_forwarded_link_opens_the_notification_without_the_contacts(
    client, organisation, campaign
):
    sign_in(client, "joku.muu@koulu.fi")
    response = client.get(link(organisation, campaign), follow=True)
    page = response.content.decode()
    assert response.request["PATH_INFO"] == f"/en/notify/{organisation.oid}/"
    assert "tietoturva@koulu.fi" not in page
    assert "sent to another email address" in page


def test_the_link_grants_nothing_for_another_organisation(client, organisation, campaign):
    other = OrganisationFactory()
    ContactPersonFactory(organisation=other, email="salainen@toinen.fi")
    sign_in(client, INVITED)
    client.get(link(organisation, campaign))
    assert "salainen@toinen.fi" not in client.get(f"/en/notify/{other.oid}/").content.decode()


def test_a_link_for_an_organisation_outside_the_campaign_grants_nothing(client, campaign):
    outsider = OrganisationFactory()
    ContactPersonFactory(organisation=outsider, email="piilossa@koulu.fi")
    sign_in(client, INVITED)
    response = client.get(link(outsider, campaign), follow=True)
    assert "piilossa@koulu.fi" not in response.content.decode()


def test_a_forged_or_expired_link_is_explained(client, organisation, campaign, settings):
    sign_in(client, INVITED)
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

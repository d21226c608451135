from __future__ import annotations

import pytest
from allauth.account.models import EmailAddress

from onboarding.invitations import invitation_token
from tests.factories import ContactPersonFactory, OrganisationFactory, UserFactory

pytestmark = pytest.mark.django_db


@pytest.fixture
def signed_in(client):
    user = UserFactory(email="uusi.rehtori@koulu.fi")
    EmailAddress.objects.create(user=user, email=user.email, verified=True, primary=True)
    client.force_login(user)
    return client


def test_the_personal_link_opens_the_notification_with_the_organisations_contacts(signed_in):
    organisation = OrganisationFactory(membership="legacy_contract")
    ContactPersonFactory(organisation=organisation, email="vanha.yhteys@koulu.fi")
    token = invitation_token(organisation_id=organisation.pk, campaign_id=1)
    response = signed_in.get(f"/en/invitations/{token}/", follow=True)
    assert response.request["PATH_INFO"] == f"/en/notify/{organisation.oid}/"
    assert "vanha.yhteys@koulu.fi" in response.content.decode()


def test_the_link_grants_nothing_for_another_organisation(signed_in):
    invited = OrganisationFactory()
    other = OrganisationFactory()
    ContactPersonFactory(organisation=other, email="salainen@toinen.fi")
    token = invitation_token(organisation_id=invited.pk, campaign_id=1)
    signed_in.get(f"/en/invitations/{token}/")
    page = signed_in.get(f"/en/notify/{other.oid}/").content.decode()
    assert "salainen@toinen.fi" not in page


def test_a_forged_or_expired_link_is_explained(signed_in, settings):
    organisation = OrganisationFactory()
    token = invitation_token(organisation_id=organisation.pk, campaign_id=1)
    forged = signed_in.get(f"/en/invitations/{token[:-2]}xx/", follow=True)
    assert "The link is broken or has expired." in forged.content.decode()
    settings.INVITATION_MAX_AGE_DAYS = -1
    expired = signed_in.get(f"/en/invitations/{token}/", follow=True)
    assert "The link is broken or has expired." in expired.content.decode()


def test_the_link_asks_to_sign_in_first(client):
    token = invitation_token(organisation_id=OrganisationFactory().pk, campaign_id=1)
    response = client.get(f"/en/invitations/{token}/")
    assert response.status_code == 302
    assert "/accounts/login/" in response["Location"]

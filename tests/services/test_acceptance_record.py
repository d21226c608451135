from __future__ import annotations

import pytest
from django.core.exceptions import ValidationError
from django.utils import timezone

from onboarding.models import Organisation, TermsAcceptance
from onboarding.services import acceptance_record
from onboarding.services.acceptances import AcceptanceEvidence
from tests.factories import (
    OrganisationFactory,
    TermsVersionFactory,
    UserFactory,
    published_terms,
)

pytestmark = pytest.mark.django_db


def evidence_for(terms, **changes) -> AcceptanceEvidence:
    values = {
        "accepter_name": "Riikka Rehtori",
        "accepter_title": "Sivistysjohtaja",
        "authority_confirmed": True,
        "accepted_at": timezone.now(),
        "language": "sv",
        "content_sha256": terms.content_sha256,
        "ip_address": "2001:db8::1",
        "user_agent": "Mozilla/5.0",
    } | changes
    return AcceptanceEvidence(**values)


def test_accepting_the_terms_makes_a_legacy_member_a_member_under_the_terms(terms):
    organisation = OrganisationFactory(membership=Organisation.Membership.LEGACY_CONTRACT)
    acceptance = acceptance_record(
        organisation=organisation,
        terms_version=terms,
        user=UserFactory(),
        evidence=evidence_for(terms),
    )
    organisation.refresh_from_db()
    assert organisation.membership == Organisation.Membership.TERMS_ACCEPTED
    assert acceptance.language == "sv"
    assert acceptance.ip_address == "2001:db8::1"
    assert acceptance.content_sha256 == terms.content_sha256


def test_a_draft_cannot_be_accepted():
    draft = TermsVersionFactory()
    with pytest.raises(ValidationError, match="Only a published"):
        acceptance_record(
            organisation=OrganisationFactory(),
            terms_version=draft,
            user=UserFactory(),
            evidence=evidence_for(draft, content_sha256="0" * 64),
        )


def test_the_text_shown_must_be_the_published_text(terms):
    with pytest.raises(ValidationError, match="not the published text"):
        acceptance_record(
            organisation=OrganisationFactory(),
            terms_version=terms,
            user=UserFactory(),
            evidence=evidence_for(terms, content_sha256="f" * 64),
        )
    assert not TermsAcceptance.objects.exists()


def test_the_person_must_confirm_their_authority(terms):
    with pytest.raises(ValidationError, match="may bind the organisation"):
        acceptance_record(
            organisation=OrganisationFactory(),
            terms_version=terms,
            user=UserFactory(),
            evidence=evidence_for(terms, authority_confirmed=False),
        )


def test_accepting_the_same_version_twice_is_refused_with_a_message():
    organisation, terms, user = OrganisationFactory(), published_terms(), UserFactory()
    acceptance_record(
        organisation=organisation, terms_version=terms, user=user, evidence=evidence_for(terms)
    )
    with pytest.raises(ValidationError, match="already accepted"):
        acceptance_record(
            organisation=organisation,
            terms_version=terms,
            user=user,
            evidence=evidence_for(terms),
        )
    assert TermsAcceptance.objects.count() == 1

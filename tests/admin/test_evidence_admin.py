"""Staff read the evidence chain and the evidence checks in the admin, never change them."""

from __future__ import annotations

import pytest
from django.urls import reverse

from onboarding.services.evidence import evidence_verify
from tests.factories import TermsAcceptanceFactory, triggers_off

pytestmark = pytest.mark.django_db


def test_an_acceptance_shows_its_place_in_the_chain_and_its_hashes(admin_client, terms):
    acceptance = TermsAcceptanceFactory(terms_version=terms)

    page = admin_client.get(
        reverse("admin:onboarding_termsacceptance_change", args=[acceptance.pk])
    ).content.decode()

    assert acceptance.record_sha256 in page
    assert acceptance.previous_sha256 in page
    assert 'name="record_sha256"' not in page  # shown, not a form field


def test_a_failed_check_lists_its_problems_for_staff(admin_client, terms):
    acceptance = TermsAcceptanceFactory(terms_version=terms)
    with triggers_off() as cursor:
        cursor.execute(
            "UPDATE onboarding_termsacceptance SET user_agent = 'curl' WHERE id = %s",
            [acceptance.pk],
        )
    check = evidence_verify()

    changelist = admin_client.get(reverse("admin:onboarding_evidencecheck_changelist"))
    detail = admin_client.get(reverse("admin:onboarding_evidencecheck_change", args=[check.pk]))

    assert changelist.status_code == 200
    assert acceptance.organisation.oid in detail.content.decode()
    assert admin_client.get(reverse("admin:onboarding_evidencecheck_add")).status_code == 403

"""Staff find members by what the registry says: the organisation list filters by registry
state ("closed in the registry" is the list to act on), and reviewers read the snapshots and
their history."""

from __future__ import annotations

import pytest
from allauth.mfa.totp.internal.auth import TOTP, generate_totp_secret
from django.contrib.auth.models import Group
from django.urls import reverse
from django.utils import timezone

from onboarding.models import RegistryEntry
from onboarding.permissions import REVIEWERS
from tests.factories import OrganisationFactory

pytestmark = pytest.mark.django_db
ORGANISATIONS = reverse("admin:onboarding_organisation_changelist")


def entry(organisation, **data):
    return RegistryEntry.objects.create(oid=organisation.oid, checked_at=timezone.now(), **data)


@pytest.fixture
def organisations():
    """One organisation in each registry state."""
    active, closed, closing, lost, failed, never = (
        OrganisationFactory(name_fi=name, membership="legacy_contract")
        for name in ("Aktiivinen", "Lakkautettu", "Lakkautuva", "Kadonnut", "Virhe", "Kysymätön")
    )
    entry(active, found=True, status="AKTIIVINEN")
    entry(closed, found=True, status="PASSIIVINEN")
    entry(closing, found=True, status="AKTIIVINEN", closed_on=timezone.localdate())
    entry(lost, found=False)
    RegistryEntry.objects.create(oid=failed.oid, last_failure="timeout")
    return {"active": [active], "closed": [closed, closing], "not_found": [lost]} | {
        "not_verified": [never, failed]
    }


@pytest.mark.parametrize("state", ["active", "closed", "not_found", "not_verified"])
def test_the_organisation_list_filters_by_registry_state(admin_client, organisations, state):
    response = admin_client.get(ORGANISATIONS, {"registry": state})
    listed = list(response.context["cl"].result_list)
    assert sorted(o.name_fi for o in listed) == sorted(o.name_fi for o in organisations[state])


def test_the_list_shows_each_organisations_registry_state(admin_client, organisations):
    page = admin_client.get(ORGANISATIONS, {"registry": "closed"}).content.decode()
    assert "Lakkautettu" in page and "Aktiivinen" not in page
    assert "?registry=closed" in admin_client.get(ORGANISATIONS).content.decode()


def test_the_list_costs_the_same_queries_for_many_rows(admin_client, django_assert_max_num_queries):
    for _ in range(2):
        entry(OrganisationFactory(), found=True, status="PASSIIVINEN")
    with django_assert_max_num_queries(20) as few:
        admin_client.get(ORGANISATIONS, {"registry": "closed"})
    for _ in range(20):
        entry(OrganisationFactory(), found=True, status="PASSIIVINEN")
    with django_assert_max_num_queries(len(few.captured_queries)):
        admin_client.get(ORGANISATIONS, {"registry": "closed"})


@pytest.fixture
def reviewer_client(client, charlie):
    charlie.groups.add(Group.objects.get(name=REVIEWERS))
    TOTP.activate(charlie, generate_totp_secret())
    client.force_login(charlie)
    return client


def test_a_reviewer_reads_snapshots_and_their_history_but_cannot_change_them(
    reviewer_client, organisations
):
    snapshot = RegistryEntry.objects.get(status="PASSIIVINEN")
    pages = [
        reverse("admin:onboarding_registryentry_changelist"),
        reverse("admin:onboarding_registryentry_change", args=[snapshot.pk]),
        reverse("admin:onboarding_registryentry_history", args=[snapshot.pk]),
        reverse("admin:onboarding_registrycheck_changelist"),
    ]
    for url in pages:
        assert reviewer_client.get(url).status_code == 200, url
    change = reverse("admin:onboarding_registryentry_change", args=[snapshot.pk])
    reviewer_client.post(change, {"status": "AKTIIVINEN"})
    snapshot.refresh_from_db()
    assert snapshot.status == "PASSIIVINEN"
    assert reviewer_client.get(reverse("admin:onboarding_registryentry_add")).status_code == 403

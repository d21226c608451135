"""The admin as OPH staff use it: every page renders, evidence stays read-only, lists are cheap."""

from __future__ import annotations

from datetime import timedelta

import pytest
from django.urls import reverse
from django.utils import timezone

from onboarding import services
from onboarding.models import AcceptanceCampaign, TermsAcceptance, TermsVersion
from onboarding.services.campaigns import campaign_create, campaign_launch
from tests.factories import (
    ContactPersonFactory,
    LegacyContractFactory,
    OrganisationFactory,
    TermsAcceptanceFactory,
    TermsVersionFactory,
    notification_data,
    published_terms,
    submit,
)

pytestmark = pytest.mark.django_db

MODELS = [
    "organisation",
    "contactperson",
    "legacycontract",
    "termsversion",
    "termsacceptance",
    "user",
    "registration",
    "pendingregistration",
    "outgoingemail",
    "acceptancecampaign",
    "campaigntarget",
    "campaignmessage",
]


def add_rows() -> TermsAcceptance:
    """One more row of every model: an acceptance with its contacts and contract, a
    notification waiting for review, a campaign that has invited a legacy member."""
    acceptance = TermsAcceptanceFactory()
    ContactPersonFactory(organisation=acceptance.organisation)
    LegacyContractFactory(organisation=acceptance.organisation)
    TermsVersionFactory()
    terms = published_terms()
    submit(terms, data=notification_data(terms, oid=OrganisationFactory.build().oid))
    member = OrganisationFactory(membership="legacy_contract")
    ContactPersonFactory(organisation=member)
    targets = AcceptanceCampaign.Audience.values
    used = set(AcceptanceCampaign.objects.values_list("terms_version", "audience"))
    deadline = timezone.localdate() + timedelta(days=60)
    for target in targets:
        if (terms.pk, target) not in used:
            campaign = campaign_create(terms_version=terms, deadline=deadline, audience=target)
            campaign_launch(campaign_id=campaign.pk)
            break
    return acceptance


@pytest.fixture
def populated():
    return add_rows()


@pytest.mark.parametrize("model", MODELS)
def test_every_list_and_detail_page_renders_for_staff(admin_client, populated, model):
    changelist = admin_client.get(reverse(f"admin:onboarding_{model}_changelist"))
    assert changelist.status_code == 200
    obj = changelist.context["cl"].result_list[0]
    detail = admin_client.get(reverse(f"admin:onboarding_{model}_change", args=[obj.pk]))
    assert detail.status_code == 200


@pytest.mark.parametrize(
    "model", ["organisation", "contactperson", "legacycontract", "termsversion", "user"]
)
def test_add_pages_render(admin_client, model):
    assert admin_client.get(reverse(f"admin:onboarding_{model}_add")).status_code == 200


def test_search_finds_an_organisation_by_contact_email_and_business_id(admin_client):
    contact = ContactPersonFactory(email="it-tuki@lempaala.fi")
    OrganisationFactory(name_fi="Toinen")
    url = reverse("admin:onboarding_organisation_changelist")
    by_email = admin_client.get(url, {"q": "it-tuki@lempaala.fi"})
    assert list(by_email.context["cl"].result_list) == [contact.organisation]
    by_business_id = admin_client.get(url, {"q": contact.organisation.business_id})
    assert list(by_business_id.context["cl"].result_list) == [contact.organisation]


def test_the_test_filter_separates_test_organisations(admin_client):
    real = OrganisationFactory()
    test = OrganisationFactory(oid="1.2.246.562.99.00000000001")
    url = reverse("admin:onboarding_organisation_changelist")
    assert list(admin_client.get(url, {"test": "yes"}).context["cl"].result_list) == [test]
    assert list(admin_client.get(url, {"test": "no"}).context["cl"].result_list) == [real]


def test_the_organisation_list_shows_contacts_and_latest_terms(admin_client):
    acceptance = TermsAcceptanceFactory()
    ContactPersonFactory.create_batch(2, organisation=acceptance.organisation)
    ContactPersonFactory(organisation=acceptance.organisation, is_active=False)
    response = admin_client.get(reverse("admin:onboarding_organisation_changelist"))
    row = response.context["cl"].result_list[0]
    assert row.active_contact_count == 2
    assert row.latest_terms_version == acceptance.terms_version.version
    assert acceptance.terms_version.version in response.content.decode()


@pytest.mark.parametrize("model", MODELS)
def test_list_pages_cost_the_same_queries_for_many_rows(
    admin_client, django_assert_max_num_queries, model
):
    url = reverse(f"admin:onboarding_{model}_changelist")
    for _ in range(2):
        add_rows()
    with django_assert_max_num_queries(14) as few:
        assert admin_client.get(url).status_code == 200
    for _ in range(10):
        add_rows()
    with django_assert_max_num_queries(len(few.captured_queries)):
        assert admin_client.get(url).status_code == 200


def test_a_published_version_is_shown_read_only_without_delete(admin_client, terms):
    response = admin_client.get(reverse("admin:onboarding_termsversion_change", args=[terms.pk]))
    page = response.content.decode()
    assert "can no longer be changed or deleted" in page
    assert 'name="_save"' not in page
    assert reverse("admin:onboarding_termsversion_delete", args=[terms.pk]) not in page
    assert terms.content_sha256 in page


def test_posting_a_change_to_a_published_version_changes_nothing(admin_client, terms):
    url = reverse("admin:onboarding_termsversion_change", args=[terms.pk])
    response = admin_client.post(url, {"version": terms.version, "text_fi": "Muutettu"})
    assert response.status_code == 409  # told, with what was typed
    delete = admin_client.post(
        reverse("admin:onboarding_termsversion_delete", args=[terms.pk]), {"post": "yes"}
    )
    assert delete.status_code == 409
    terms.refresh_from_db()
    assert terms.text_fi != "Muutettu"


def test_a_draft_can_be_edited_and_published_from_the_admin(admin_client):
    draft = TermsVersionFactory()
    response = admin_client.post(
        reverse("admin:onboarding_termsversion_changelist"),
        {"action": "publish", "_selected_action": [draft.pk]},
        follow=True,
    )
    response = admin_client.post(
        response.redirect_chain[-1][0],
        {
            "content_sha256": response.context["content_sha256"],
            "announcement_sha256": response.context["announcement_sha256"],
        },
        follow=True,
    )
    assert f"Version {draft.version} was published." in response.content.decode()
    draft.refresh_from_db()
    assert draft.is_published and draft.content_sha256


def test_an_incomplete_draft_is_not_published_and_staff_are_told_why(admin_client):
    draft = TermsVersionFactory(text_sv="")
    response = admin_client.post(
        reverse("admin:onboarding_termsversion_publish", args=[draft.pk]),
        {
            "content_sha256": draft.compute_content_sha256(),
            "announcement_sha256": services.terms_announcement_sha256(draft),
        },
    )
    assert draft.version in response.content.decode()
    assert not TermsVersion.objects.get(pk=draft.pk).is_published


def test_acceptances_can_be_read_but_not_added_changed_or_deleted(admin_client):
    acceptance = TermsAcceptanceFactory()
    change_url = reverse("admin:onboarding_termsacceptance_change", args=[acceptance.pk])
    page = admin_client.get(change_url).content.decode()
    assert acceptance.accepter_name in page
    assert 'name="_save"' not in page
    assert admin_client.get(reverse("admin:onboarding_termsacceptance_add")).status_code == 403
    assert admin_client.post(change_url, {"accepter_name": "X"}).status_code == 403
    delete_url = reverse("admin:onboarding_termsacceptance_delete", args=[acceptance.pk])
    assert admin_client.post(delete_url, {"post": "yes"}).status_code == 403
    assert TermsAcceptance.objects.get(pk=acceptance.pk).accepter_name == "Riikka Rehtori"


def test_the_admin_needs_a_staff_account(client):
    response = client.get(reverse("admin:onboarding_organisation_changelist"))
    assert response.status_code == 302


def admin_object_urls():
    """(name, object id) of every page of one object, for every model in the admin."""
    from django.contrib import admin

    for model in admin.site._registry:
        prefix = f"admin:{model._meta.app_label}_{model._meta.model_name}"
        for page in ("change", "history", "delete"):
            for object_id in ("abc", "0", "99999999999999999999", "1 OR 1=1", "²"):
                yield pytest.param(f"{prefix}_{page}", object_id, id=f"{prefix}_{page}-{object_id}")


@pytest.mark.parametrize(("name", "object_id"), list(admin_object_urls()))
def test_an_admin_page_for_no_such_object_answers_never_a_server_error(
    admin_client, name, object_id
):
    response = admin_client.get(reverse(name, args=[object_id]))
    assert response.status_code in (302, 403, 404)


def test_an_organisations_page_costs_the_same_queries_for_many_acceptances(
    admin_client, django_assert_max_num_queries
):
    organisation = ContactPersonFactory().organisation
    TermsAcceptanceFactory(organisation=organisation)
    url = reverse("admin:onboarding_organisation_change", args=[organisation.pk])
    with django_assert_max_num_queries(40) as few:
        assert admin_client.get(url).status_code == 200
    for _ in range(10):
        TermsAcceptanceFactory(organisation=organisation)
        ContactPersonFactory(organisation=organisation)
    with django_assert_max_num_queries(len(few.captured_queries)):
        assert admin_client.get(url).status_code == 200


def inline_post(organisation, contacts: list[dict]) -> dict:
    post = {
        field: getattr(organisation, field)
        for field in ("oid", "name_fi", "name_sv", "name_en", "business_id", "kind")
    }
    for prefix, total in (("contacts", len(contacts)), ("legacy_contracts", 0)):
        post |= {f"{prefix}-TOTAL_FORMS": total, f"{prefix}-INITIAL_FORMS": 0}
    post |= {"acceptances-TOTAL_FORMS": 0, "acceptances-INITIAL_FORMS": 0}
    for i, contact in enumerate(contacts):
        post |= {f"contacts-{i}-{key}": value for key, value in contact.items()}
    return post


def test_the_same_person_twice_in_one_role_is_an_error_at_the_row(admin_client):
    organisation = OrganisationFactory()
    row = {"name": "Riikka", "role": "administrative", "language": "fi", "is_active": "on"}
    post = inline_post(
        organisation,
        [{**row, "email": "riikka@koulu.fi"}, {**row, "email": "Riikka@Koulu.fi"}],
    )
    url = reverse("admin:onboarding_organisation_change", args=[organisation.pk])
    response = admin_client.post(url, post)
    assert response.status_code == 200
    assert "already an active contact in the same role" in response.content.decode()
    assert organisation.contacts.count() == 0

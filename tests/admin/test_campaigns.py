"""Staff follow a campaign in the admin: figures, chart, failures, the pending list as CSV."""

from __future__ import annotations

import csv
import io
from datetime import timedelta

import pytest
from django.urls import reverse
from django.utils import timezone

from onboarding import services
from onboarding.models import AcceptanceCampaign, OutgoingEmail
from onboarding.services.campaigns import campaign_create, campaign_launch
from tests.factories import (
    ContactPersonFactory,
    OrganisationFactory,
    TermsAcceptanceFactory,
    TermsVersionFactory,
    launched_campaign,
    legacy_member,
)

pytestmark = pytest.mark.django_db
DEADLINE = timezone.localdate() + timedelta(days=90)


@pytest.fixture
def launched(terms):
    """A legacy campaign that has invited three members (Jäsen 0, 1 and 2, whose administrative
    contacts are admin0, admin1 and admin2@koulu.fi); another organisation has accepted."""
    for n in range(3):
        legacy_member(f"Jäsen {n}", f"admin{n}@koulu.fi")
    campaign = launched_campaign(terms, deadline=DEADLINE)
    TermsAcceptanceFactory(organisation__name_fi="x", terms_version=terms)
    return campaign


def test_staff_create_and_launch_a_campaign_from_the_admin(admin_client, terms):
    OrganisationFactory(membership="legacy_contract")
    response = admin_client.post(
        reverse("admin:onboarding_acceptancecampaign_add"),
        {
            "terms_version": terms.pk,
            "audience": "legacy",
            "deadline": DEADLINE.isoformat(),
            "reminder_offsets": "30, 7, 60",
        },
    )
    assert response.status_code == 302
    campaign = AcceptanceCampaign.objects.get()
    assert campaign.reminder_offsets == [60, 30, 7]
    response = admin_client.post(
        reverse("admin:onboarding_acceptancecampaign_changelist"),
        {"action": "launch", "_selected_action": [campaign.pk]},
        follow=True,
    )
    assert "1 organisation invited." in response.content.decode()
    campaign.refresh_from_db()
    assert campaign.is_launched


def test_bad_reminder_days_and_a_past_deadline_are_refused_with_messages(admin_client, terms):
    response = admin_client.post(
        reverse("admin:onboarding_acceptancecampaign_add"),
        {
            "terms_version": terms.pk,
            "audience": "legacy",
            "deadline": (timezone.localdate() - timedelta(days=1)).isoformat(),
            "reminder_offsets": "30, viikko",
        },
    )
    page = response.content.decode()
    assert "The deadline must be in the future." in page
    assert "Write whole numbers of days separated by commas." in page
    assert 'value="30, viikko"' in page


@pytest.mark.parametrize(
    ("changes", "message"),
    [
        ({"reminder_offsets": "400, 30"}, "Reminder days must be between 1 and 365."),
        ({"audience": "legacy"}, "already has a campaign for this audience"),  # a second one
    ],
)
def test_a_campaign_the_rules_refuse_is_an_error_on_the_form(admin_client, changes, message, terms):
    deadline = (timezone.localdate() + timedelta(days=60)).isoformat()
    post = {"terms_version": terms.pk, "audience": "members", "deadline": deadline}
    post |= {"reminder_offsets": "30, 7"}
    url = reverse("admin:onboarding_acceptancecampaign_add")
    if changes.get("audience") == "legacy":
        admin_client.post(url, {**post, "audience": "legacy"})
    response = admin_client.post(url, {**post, **changes})
    assert response.status_code == 200
    assert message in response.content.decode()


def test_editing_a_campaign_not_yet_launched_keeps_to_the_rules(admin_client, terms):
    deadline = timezone.localdate() + timedelta(days=60)
    campaign = campaign_create(terms_version=terms, deadline=deadline, audience="legacy")
    url = reverse("admin:onboarding_acceptancecampaign_change", args=[campaign.pk])
    post = {"terms_version": terms.pk, "audience": "legacy", "deadline": deadline.isoformat()}
    response = admin_client.post(url, {**post, "reminder_offsets": "500"})
    assert "Reminder days must be between 1 and 365." in response.content.decode()
    assert admin_client.post(url, {**post, "reminder_offsets": "20, 10"}).status_code == 302
    campaign.refresh_from_db()
    assert campaign.reminder_offsets == [20, 10]


def test_only_published_versions_can_be_chosen(admin_client):
    draft = TermsVersionFactory(version="luonnos")
    page = admin_client.get(reverse("admin:onboarding_acceptancecampaign_add")).content.decode()
    assert draft.version not in page


def test_the_report_shows_figures_chart_and_failures(admin_client, launched):
    failed = OutgoingEmail.objects.filter(kind=OutgoingEmail.Kind.CAMPAIGN_INVITATION).first()
    OutgoingEmail.objects.filter(pk=failed.pk).update(
        status="failed", last_error="550 no such user"
    )
    response = admin_client.get(
        reverse("admin:onboarding_acceptancecampaign_report", args=[launched.pk])
    )
    page = response.content.decode()
    report = response.context["report"]
    assert (report.targets, report.pending) == (3, 3)
    assert dict(report.reminders_per_step)["invitation"] == 3
    assert "<svg" in page and "<polyline" in page
    assert "550 no such user" in page
    assert "<td>60 days before</td>" in page and "<td>1 day before</td>" in page


def test_the_pending_list_downloads_as_csv_with_contacts(admin_client, launched):
    response = admin_client.get(
        reverse("admin:onboarding_acceptancecampaign_pending_csv", args=[launched.pk])
    )
    text = response.content.decode("utf-8-sig")
    rows = list(csv.DictReader(io.StringIO(text), delimiter=";"))
    assert {(row["contact_email"], row["contact_role"]) for row in rows} == {
        *((f"admin{n}@koulu.fi", "administrative") for n in range(3)),
        *((f"it.admin{n}@koulu.fi", "technical") for n in range(3)),
    }
    assert response["Content-Type"].startswith("text/csv")


def test_after_the_lapse_the_csv_and_the_page_still_list_who_has_not_accepted(
    admin_client, launched
):
    from onboarding.services.campaigns import reminders_send_due

    reminders_send_due(today=DEADLINE + timedelta(days=1))
    url = reverse("admin:onboarding_acceptancecampaign_pending_csv", args=[launched.pk])
    text = admin_client.get(url).content.decode("utf-8-sig")
    rows = list(csv.DictReader(io.StringIO(text), delimiter=";"))
    assert {(row["contact_email"], row["membership"]) for row in rows} == {
        (f"{who}{n}@koulu.fi", "lapsed") for n in range(3) for who in ("admin", "it.admin")
    }
    report = reverse("admin:onboarding_acceptancecampaign_report", args=[launched.pk])
    assert admin_client.get(report).content.decode().count("– lapsed</li>") == 3


def test_a_launched_campaign_cannot_be_changed_or_deleted(admin_client, launched):
    url = reverse("admin:onboarding_acceptancecampaign_change", args=[launched.pk])
    assert admin_client.post(url, {"deadline": "2030-01-01"}).status_code == 403
    delete = reverse("admin:onboarding_acceptancecampaign_delete", args=[launched.pk])
    assert admin_client.post(delete, {"post": "yes"}).status_code == 403


def test_the_report_costs_the_same_queries_for_many_targets(
    admin_client, django_assert_max_num_queries, terms
):
    small = campaign_create(terms_version=terms, deadline=DEADLINE, audience="legacy")
    for _ in range(2):
        ContactPersonFactory(organisation=OrganisationFactory(membership="legacy_contract"))
    campaign_launch(campaign_id=small.pk)
    url = reverse("admin:onboarding_acceptancecampaign_report", args=[small.pk])
    with django_assert_max_num_queries(15) as few:
        admin_client.get(url)
    for _ in range(20):
        ContactPersonFactory(organisation=OrganisationFactory(membership="legacy_contract"))
    big = campaign_create(terms_version=terms, deadline=DEADLINE, audience="members")
    campaign_launch(campaign_id=big.pk)
    with django_assert_max_num_queries(len(few.captured_queries)):
        admin_client.get(reverse("admin:onboarding_acceptancecampaign_report", args=[big.pk]))


def test_publishing_a_version_that_needs_re_acceptance_offers_a_campaign(admin_client):
    draft = TermsVersionFactory(requires_reacceptance=True)
    response = admin_client.post(
        reverse("admin:onboarding_termsversion_publish", args=[draft.pk]),
        {
            "content_sha256": draft.compute_content_sha256(),
            "announcement_sha256": services.terms_announcement_sha256(draft),
        },
        follow=True,
    )
    page = response.content.decode()
    assert "Start an acceptance campaign" in page
    assert f"terms_version={draft.pk}" in page


def test_publishing_a_minor_version_tells_members_what_changed(admin_client):
    member = OrganisationFactory(membership="terms_accepted")
    ContactPersonFactory(organisation=member, email="hallinto@jasen.fi", language="sv")
    ContactPersonFactory(
        organisation=OrganisationFactory(membership="none"), email="ulkopuolinen@muu.fi"
    )
    draft = TermsVersionFactory(change_summary_sv="Ny kontaktadress.")
    admin_client.post(
        reverse("admin:onboarding_termsversion_publish", args=[draft.pk]),
        {
            "content_sha256": draft.compute_content_sha256(),
            "announcement_sha256": services.terms_announcement_sha256(draft),
        },
    )
    told = OutgoingEmail.objects.get(kind=OutgoingEmail.Kind.TERMS_CHANGED)
    assert (told.to, told.language) == ("hallinto@jasen.fi", "sv")
    assert "Ny kontaktadress." in told.body_text


def test_the_csv_keeps_typed_formulas_as_text(admin_client, launched):
    from onboarding.models import ContactPerson

    ContactPerson.objects.filter(email="admin0@koulu.fi").update(name='=HYPERLINK("x")')
    response = admin_client.get(
        reverse("admin:onboarding_acceptancecampaign_pending_csv", args=[launched.pk])
    )
    assert "'=HYPERLINK" in response.content.decode("utf-8-sig")


def test_the_chart_is_drawn_with_plain_numbers_in_finnish_too(client, admin_user, launched):
    client.force_login(admin_user)
    page = client.get(
        f"/admin/onboarding/acceptancecampaign/{launched.pk}/report/"
    ).content.decode()
    assert 'x1="640.0"' in page  # the deadline line, not "640,0"


def test_a_campaign_that_would_give_organisations_a_second_deadline_is_refused(admin_client, terms):
    OrganisationFactory(name_fi="Aaltola", membership="legacy_contract")
    running = campaign_create(terms_version=terms, deadline=DEADLINE, audience="legacy")
    draft = campaign_create(
        terms_version=terms, deadline=DEADLINE + timedelta(days=30), audience="members"
    )
    campaign_launch(campaign_id=running.pk)

    launched = admin_client.post(
        reverse("admin:onboarding_acceptancecampaign_changelist"),
        {"action": "launch", "_selected_action": [draft.pk]},
        follow=True,
    ).content.decode()
    edited = admin_client.post(
        reverse("admin:onboarding_acceptancecampaign_change", args=[draft.pk]),
        {
            "terms_version": terms.pk,
            "audience": "members",
            "deadline": (DEADLINE + timedelta(days=30)).isoformat(),
            "reminder_offsets": "30, 7",
        },
    ).content.decode()

    for page in (launched, edited):
        assert "The running campaign “2024-1 – " in page
        assert "already asks 1 organisation of these to accept version 2024-1" in page
        assert "Aaltola" in page
    draft.refresh_from_db()
    assert not draft.is_launched


def test_staff_add_the_members_imported_since_the_launch(admin_client, launched):
    legacy_member("Myöhäinen", "myoha@koulu.fi")
    action = {"action": "add_late_targets", "_selected_action": [launched.pk]}
    url = reverse("admin:onboarding_acceptancecampaign_changelist")

    page = admin_client.post(url, action, follow=True).content.decode()

    assert "1 organisation added and invited: Myöhäinen." in page
    assert OutgoingEmail.objects.filter(
        to="myoha@koulu.fi", kind=OutgoingEmail.Kind.CAMPAIGN_INVITATION
    ).exists()
    again = admin_client.post(url, action, follow=True).content.decode()
    assert "it already asks every organisation it would ask today." in again
    assert OutgoingEmail.objects.filter(to="myoha@koulu.fi").count() == 1

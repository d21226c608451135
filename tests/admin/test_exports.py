"""Staff export what an admin list shows, with its filters and search, to CSV and XLSX:
exactly the listed rows, headers in the admin's language, nothing that runs as a formula."""

from __future__ import annotations

import csv
import io
from datetime import date

import pytest
from allauth.mfa.totp.internal.auth import TOTP, generate_totp_secret
from django.contrib.auth.models import Group
from django.urls import reverse
from django.utils import timezone, translation
from openpyxl import load_workbook

from onboarding.models import CampaignTarget, ContactPerson, Organisation, TermsAcceptance
from onboarding.permissions import REVIEWERS
from tests.factories import (
    ALICE,
    BOB,
    ContactPersonFactory,
    OrganisationFactory,
    TermsAcceptanceFactory,
    UserFactory,
    launched_campaign,
    legacy_member,
)

pytestmark = pytest.mark.django_db

BOM = "\ufeff"
FORMULAS = ['=HYPERLINK("http://evil")', "+358 40 123", "-2+3", "@SUM(A1)", "\tx", "\rx"]


def export(client, model: str, file_format: str, query: str = "", language: str = "fi"):
    """The export of the `model` admin's list, in the admin of `language` (/sv/admin/...)."""
    with translation.override(language):
        url = reverse(f"admin:onboarding_{model}_export", args=[file_format])
    return client.get(f"{url}?{query}" if query else url)


def csv_rows(response) -> list[list[str]]:
    text = response.content.decode("utf-8")
    assert text.startswith(BOM)
    return list(csv.reader(io.StringIO(text[1:], newline=""), delimiter=";"))


def xlsx_cells(response):
    """The XLSX's cells, as openpyxl reads the file back (values and data types)."""
    sheet = load_workbook(io.BytesIO(response.content)).active
    return [list(row) for row in sheet.iter_rows()]


def column(rows: list[list[str]], header: str) -> list[str]:
    index = rows[0].index(header)
    return [row[index] for row in rows[1:]]


def header(model, name: str, language: str = "en") -> str:
    with translation.override(language):
        return str(model._meta.get_field(name).verbose_name)


@pytest.fixture
def reviewer_client(client, charlie):
    """charlie, in the Reviewers group, signed in to the admin with a second factor."""
    charlie.groups.add(Group.objects.get(name=REVIEWERS))
    TOTP.activate(charlie, generate_totp_secret())
    client.force_login(charlie)
    return client


def test_organisations_export_exactly_the_filtered_rows_as_csv(reviewer_client, lempaala):
    OrganisationFactory(name_fi="Uusi jäsen", membership="terms_accepted")
    OrganisationFactory(name_fi="Toinen jäsen", membership="terms_accepted")
    response = export(reviewer_client, "organisation", "csv", "membership__exact=terms_accepted")
    assert response.status_code == 200
    assert response["Content-Type"] == "text/csv; charset=utf-8"
    assert "attachment" in response["Content-Disposition"]
    rows = csv_rows(response)
    names = column(rows, header(Organisation, "name_fi", "fi"))
    assert sorted(names) == ["Toinen jäsen", "Uusi jäsen"]  # not Lempäälä (a contract member)


def test_the_export_follows_the_search_too(admin_client, lempaala, borga):
    rows = csv_rows(export(admin_client, "organisation", "csv", "q=Lemp"))
    assert column(rows, header(Organisation, "oid", "fi")) == [lempaala.oid]


def test_headers_are_in_the_admins_language(admin_client, lempaala):
    for language in ("fi", "sv", "en"):
        response = export(admin_client, "organisation", "csv", language=language)
        assert csv_rows(response)[0][:2] == [
            header(Organisation, "name_fi", language),
            header(Organisation, "name_sv", language),
        ]
    assert header(Organisation, "name_fi", "fi") != header(Organisation, "name_fi", "en")


def test_contacts_export_the_filtered_rows_as_xlsx(admin_client, lempaala, borga):
    response = export(admin_client, "contactperson", "xlsx", "role__exact=administrative&o=2")
    assert response.status_code == 200
    assert response["Content-Type"].startswith("application/vnd.openxmlformats")
    rows = [[cell.value for cell in row] for row in xlsx_cells(response)]
    # alice and bob, by email; not Lempäälä's technical contact
    assert column(rows, header(ContactPerson, "email", "fi")) == [ALICE, BOB]


def test_acceptances_export_their_evidence(admin_client, terms, lempaala):
    TermsAcceptanceFactory(
        organisation=lempaala,
        terms_version=terms,
        accepter_name="Riikka Rehtori",
        ip_address="192.0.2.7",
        user_agent="Firefox/140",
        in_force_from=date(2024, 8, 1),
    )
    TermsAcceptanceFactory(in_force_from=date(2025, 1, 1))  # another version: filtered out
    response = export(
        admin_client,
        "termsacceptance",
        "csv",
        f"terms_version__id__exact={terms.pk}",
        language="en",
    )
    rows = csv_rows(response)
    assert rows[0] == [
        "organisation",
        "organisation OID",
        header(TermsAcceptance, "terms_version"),
        "accepted at",
        header(TermsAcceptance, "accepter_name"),
        header(TermsAcceptance, "accepter_title"),
        header(TermsAcceptance, "authority_confirmed"),
        header(TermsAcceptance, "language"),
        header(TermsAcceptance, "content_sha256"),
        "IP address",
        "user agent",
        "in force from",
    ]
    assert len(rows) == 2
    evidence = dict(zip(rows[0], rows[1], strict=True))
    assert evidence["organisation"] == "Lempäälän kunta"
    assert evidence["organisation OID"] == lempaala.oid
    assert evidence[header(TermsAcceptance, "terms_version")] == "2024-1"
    assert evidence[header(TermsAcceptance, "accepter_name")] == "Riikka Rehtori"
    assert evidence[header(TermsAcceptance, "authority_confirmed")] == "yes"
    assert evidence[header(TermsAcceptance, "content_sha256")] == terms.content_sha256
    assert evidence["IP address"] == "192.0.2.7"
    assert evidence["user agent"] == "Firefox/140"
    assert evidence["in force from"] == "2024-08-01"


def test_campaign_targets_export_the_filtered_campaign(admin_client, terms):
    for n in range(2):
        legacy_member(f"Jäsen {n}", f"admin{n}@koulu.fi")
    campaign = launched_campaign(terms)
    CampaignTarget.objects.filter(organisation__name_fi="Jäsen 1").update(lapsed_at=timezone.now())
    response = export(
        admin_client,
        "campaigntarget",
        "xlsx",
        f"campaign={campaign.pk}&lapsed_at__isempty=1",
        language="en",
    )
    rows = [[cell.value for cell in row] for row in xlsx_cells(response)]
    assert column(rows, "organisation") == ["Jäsen 0"]
    assert column(rows, header(CampaignTarget, "campaign")) == [str(campaign)]


@pytest.fixture
def typed_formulas(terms):
    """Text people typed that a spreadsheet would run: in names, titles and user agents."""
    for text in FORMULAS:
        organisation = OrganisationFactory(name_fi=text, membership="terms_accepted")
        TermsAcceptanceFactory(
            organisation=organisation,
            terms_version=terms,
            accepter_name=text,
            accepter_title=text,
            user_agent=text,
            in_force_from=date(2024, 8, 1),
        )


def test_formula_cells_are_inert_in_csv(admin_client, typed_formulas):
    rows = csv_rows(export(admin_client, "termsacceptance", "csv", language="en"))
    for name in ("organisation", "user agent", header(TermsAcceptance, "accepter_name")):
        assert sorted(column(rows, name)) == sorted(f"'{text}" for text in FORMULAS)


def test_formula_cells_are_inert_in_xlsx(admin_client, typed_formulas):
    cells = xlsx_cells(export(admin_client, "organisation", "xlsx", language="en"))
    names = [row[0] for row in cells[1:]]
    # XML reads a carriage return back as a line feed; the apostrophe before it stays.
    inert = [f"'{text}".replace("\r", "\n") for text in FORMULAS]
    assert sorted(cell.value for cell in names) == sorted(inert)
    assert {cell.data_type for cell in names} == {"s"}  # text, not "f" (a formula)


def test_a_staff_member_without_view_permission_is_refused(client, lempaala):
    staff = UserFactory(email="intern@oph.fi", is_staff=True)
    TOTP.activate(staff, generate_totp_secret())
    client.force_login(staff)
    for model in ("organisation", "contactperson", "termsacceptance", "campaigntarget"):
        assert export(client, model, "csv").status_code == 403, model


def test_a_person_who_is_not_staff_gets_no_file(client, alice, lempaala):
    client.force_login(alice)
    response = export(client, "contactperson", "csv")
    assert response.status_code == 302
    assert "/admin/login/" in response["Location"]


def test_reviewers_export_what_they_may_view(reviewer_client, terms, lempaala):
    launched_campaign(terms)
    for model in ("organisation", "contactperson", "termsacceptance", "campaigntarget"):
        for file_format in ("csv", "xlsx"):
            assert export(reviewer_client, model, file_format).status_code == 200, model


def test_an_unknown_format_is_not_found(admin_client):
    assert export(admin_client, "organisation", "exe").status_code == 404


@pytest.mark.parametrize(
    "model", ["organisation", "contactperson", "termsacceptance", "campaigntarget"]
)
def test_exports_read_a_bounded_number_of_queries(
    admin_client, django_assert_max_num_queries, terms, model
):
    for n in range(12):
        organisation = legacy_member(f"Jäsen {n}", f"admin{n}@koulu.fi")
        TermsAcceptanceFactory(
            organisation=organisation, terms_version=terms, in_force_from=date(2024, 8, 1)
        )
    launched_campaign(terms, audience="members")
    for file_format in ("csv", "xlsx"):
        with django_assert_max_num_queries(12):
            assert export(admin_client, model, file_format).status_code == 200


def test_the_changelists_link_to_their_exports_with_the_filters(admin_client, lempaala):
    ContactPersonFactory(organisation=lempaala, role="security")
    changelist = reverse("admin:onboarding_contactperson_changelist")
    page = admin_client.get(f"{changelist}?role__exact=security").content.decode()
    csv_url = reverse("admin:onboarding_contactperson_export", args=["csv"])
    assert f'href="{csv_url}?role__exact=security"' in page
    organisations = admin_client.get(reverse("admin:onboarding_organisation_changelist"))
    xlsx_url = reverse("admin:onboarding_organisation_export", args=["xlsx"])
    assert xlsx_url in organisations.content.decode()
    assert reverse("admin:onboarding_organisation_import") in organisations.content.decode()

"""`manage.py import_legacy_members`: what it writes, what it leaves, and what it refuses."""

from __future__ import annotations

import io
from datetime import date

import pytest
from django.core.management import CommandError, call_command
from django.db import connection
from django.test.utils import CaptureQueriesContext

from onboarding.models import ContactPerson, LegacyContract, Organisation
from tests.factories import (
    ContactPersonFactory,
    LegacyContractFactory,
    OrganisationFactory,
    launched_campaign,
)
from tests.importing import (
    LEMPAALA,
    OPPIMISALUSTA,
    csv_bytes,
    lempaala_rows,
    many_rows,
    row,
    xlsx_bytes,
)

pytestmark = pytest.mark.django_db

MODELS = (Organisation, ContactPerson, LegacyContract)


@pytest.fixture
def write(tmp_path):
    def write(data: bytes, name: str = "members.csv"):
        path = tmp_path / name
        path.write_bytes(data)
        return path

    return write


def run(path, *args) -> str:
    out = io.StringIO()
    call_command("import_legacy_members", str(path), "--no-progress", *args, stdout=out)
    return out.getvalue()


def snapshot() -> dict[str, list[tuple]]:
    """Every row of the imported tables and their history tables."""
    return {
        model.__name__: sorted(model.objects.values_list(), key=str)
        + sorted(model.history.values_list("history_id", "history_type"), key=str)
        for model in MODELS
    }


def history_counts() -> tuple[int, int, int]:
    return tuple(model.history.count() for model in MODELS)


def test_it_imports_a_file_and_prints_the_counts(write):
    out = run(write(csv_bytes(lempaala_rows())))
    assert "Organisations: 2 created, 0 updated, 0 unchanged." in out
    assert "Contact persons: 3 created, 0 updated, 0 unchanged." in out
    assert "Joining agreements: 2 created, 0 updated, 0 unchanged." in out

    lempaala = Organisation.objects.get(oid=LEMPAALA)
    assert (lempaala.name_fi, lempaala.name_sv, lempaala.business_id, lempaala.kind) == (
        "Lempäälän kunta",
        "Lempäälä kommun",
        "0150783-1",
        "education_provider",
    )
    assert lempaala.membership == "legacy_contract"
    assert sorted(lempaala.contacts.values_list("email", "role", "language", "is_active")) == [
        ("it@lempaala.fi", "technical", "fi", True),
        ("riikka@lempaala.fi", "administrative", "fi", True),
    ]
    contract = lempaala.legacy_contracts.get()
    assert (contract.contract_reference, contract.signed_on, contract.ends_on) == (
        "OPH-MPASS-0001",
        date(2019, 1, 15),
        date(2024, 8, 1),
    )
    other = Organisation.objects.get(oid=OPPIMISALUSTA)
    assert other.legacy_contracts.get().signed_on is None
    assert other.contacts.get().language == "sv"


def test_what_it_creates_has_history(write):
    run(write(csv_bytes(lempaala_rows())))
    assert history_counts() == (2, 3, 2)
    record = Organisation.history.get(oid=LEMPAALA)
    assert record.history_type == "+"
    assert record.history_change_reason == "import_legacy_members"


def test_the_empty_ends_on_is_the_end_of_legacy_contracts(write, settings):
    settings.LEGACY_CONTRACTS_END = date(2025, 7, 31)
    run(write(csv_bytes([row(ends_on="")])))
    assert LegacyContract.objects.get().ends_on == date(2025, 7, 31)


def test_it_imports_an_xlsx_workbook(write):
    rows = [row(signed_on=date(2019, 1, 15)), row(contact_email="it@lempaala.fi")]
    rows[1]["signed_on"] = "15.1.2019"
    out = run(write(xlsx_bytes(rows), "members.xlsx"))
    assert "Contact persons: 2 created" in out
    assert LegacyContract.objects.get().signed_on == date(2019, 1, 15)


def test_importing_the_same_file_again_changes_nothing(write):
    path = write(csv_bytes(lempaala_rows(), delimiter=";", bom=True))
    run(path)
    before = snapshot()
    with CaptureQueriesContext(connection) as queries:
        out = run(path)
    assert "Organisations: 0 created, 0 updated, 2 unchanged." in out
    assert "Contact persons: 0 created, 0 updated, 3 unchanged." in out
    assert "Joining agreements: 0 created, 0 updated, 2 unchanged." in out
    writes = [q["sql"] for q in queries if q["sql"].startswith(("INSERT", "UPDATE", "DELETE"))]
    assert writes == []
    assert snapshot() == before


def test_an_updated_file_updates_what_changed_and_only_that(write):
    run(write(csv_bytes(lempaala_rows())))
    history = history_counts()
    untouched = Organisation.objects.get(oid=OPPIMISALUSTA).updated_at
    rows = lempaala_rows()
    for lempaala_row in rows[:2]:
        lempaala_row.update(
            name_fi="Lempäälän kunta, sivistys", kind="Molemmat", ends_on="31.7.2025"
        )
    rows[1].update(contact_name="Teemu Tekninen-Virtanen", contact_language="en")

    out = run(write(csv_bytes(rows)))

    assert "Organisations: 0 created, 1 updated, 1 unchanged." in out
    assert "Contact persons: 0 created, 1 updated, 2 unchanged." in out
    assert "Joining agreements: 0 created, 1 updated, 1 unchanged." in out
    lempaala = Organisation.objects.get(oid=LEMPAALA)
    assert (lempaala.name_fi, lempaala.kind) == ("Lempäälän kunta, sivistys", "both")
    assert lempaala.legacy_contracts.get().ends_on == date(2025, 7, 31)
    teemu = lempaala.contacts.get(role="technical")
    assert (teemu.name, teemu.language) == ("Teemu Tekninen-Virtanen", "en")
    assert teemu.updated_at > teemu.created_at
    assert Organisation.objects.get(oid=OPPIMISALUSTA).updated_at == untouched
    assert history_counts() == (history[0] + 1, history[1] + 1, history[2] + 1)
    assert lempaala.history.latest().history_type == "~"


def test_the_file_decides_names_business_id_and_kind_but_not_the_rest(write):
    organisation = OrganisationFactory(
        oid=LEMPAALA,
        name_fi="Vanha nimi",
        name_en="Municipality of Lempäälä",
        business_id="2345671-3",
        kind="service_provider",
        test_learner_number_use="testing",
    )
    out = run(write(csv_bytes([row(name_sv="")])))
    assert "Organisations: 0 created, 1 updated, 0 unchanged." in out
    organisation.refresh_from_db()
    assert (organisation.name_fi, organisation.name_sv, organisation.business_id) == (
        "Lempäälän kunta",
        "",
        "0150783-1",
    )
    assert organisation.kind == "education_provider"
    assert organisation.name_en == "Municipality of Lempäälä"
    assert organisation.test_learner_number_use == "testing"


def test_an_organisation_that_was_not_a_member_becomes_a_legacy_member(write):
    organisation = OrganisationFactory(oid=LEMPAALA, membership="none")
    run(write(csv_bytes([row()])))
    organisation.refresh_from_db()
    assert organisation.membership == "legacy_contract"


@pytest.mark.parametrize("membership", ["terms_accepted", "lapsed", "legacy_contract"])
def test_other_members_keep_their_membership(write, membership):
    organisation = OrganisationFactory(
        oid=LEMPAALA,
        membership=membership,
        name_fi="Lempäälän kunta",
        name_sv="Lempäälä kommun",
        business_id="0150783-1",
    )
    out = run(write(csv_bytes([row()])))
    organisation.refresh_from_db()
    assert organisation.membership == membership
    assert "Organisations: 0 created, 0 updated, 1 unchanged." in out


def test_contacts_are_found_by_email_in_any_case_and_role_among_active_ones(write):
    organisation = OrganisationFactory(oid=LEMPAALA)
    same = ContactPersonFactory(
        organisation=organisation,
        email="Riikka@Lempaala.fi",
        role="administrative",
        name="Riikka Rehtori",
        language="fi",
    )
    other_role = ContactPersonFactory(
        organisation=organisation, email="it@lempaala.fi", role="administrative"
    )
    inactive = ContactPersonFactory(
        organisation=organisation, email="it@lempaala.fi", role="technical", is_active=False
    )
    not_in_file = ContactPersonFactory(organisation=organisation, email="vanha@lempaala.fi")

    out = run(write(csv_bytes(lempaala_rows()[:2])))

    assert "Contact persons: 1 created, 0 updated, 1 unchanged." in out
    active = organisation.contacts.filter(is_active=True)
    assert active.count() == 4
    created = active.get(email="it@lempaala.fi", role="technical")
    assert created.pk not in (other_role.pk, inactive.pk)
    same.refresh_from_db()
    assert same.email == "Riikka@Lempaala.fi"  # matched, and left as it was written
    inactive.refresh_from_db()
    assert inactive.is_active is False
    not_in_file.refresh_from_db()
    assert not_in_file.is_active  # an import never deactivates


def test_a_contract_is_found_by_its_reference(write):
    organisation = OrganisationFactory(oid=LEMPAALA, membership="legacy_contract")
    existing = LegacyContractFactory(
        organisation=organisation, contract_reference="OPH-MPASS-0001", signed_on=None
    )
    older = LegacyContractFactory(organisation=organisation, contract_reference="OPH-2015-7")
    out = run(write(csv_bytes([row()])))
    assert "Joining agreements: 0 created, 1 updated, 0 unchanged." in out
    existing.refresh_from_db()
    assert existing.signed_on == date(2019, 1, 15)
    assert LegacyContract.objects.filter(pk=older.pk).exists()

    run(write(csv_bytes([row(contract_reference="OPH-MPASS-0002")])))
    assert organisation.legacy_contracts.count() == 3


def test_a_dry_run_reports_what_the_import_would_do_and_writes_nothing(write):
    OrganisationFactory(oid=LEMPAALA, name_fi="Vanha nimi")
    before = snapshot()
    path = write(csv_bytes(lempaala_rows()))

    dry = run(path, "--dry-run")

    assert "Dry run: nothing was written." in dry
    assert "Organisations: 1 created, 1 updated, 0 unchanged." in dry
    assert "Contact persons: 3 created, 0 updated, 0 unchanged." in dry
    assert snapshot() == before
    real = run(path)
    assert [line for line in dry.splitlines() if "created" in line] == [
        line for line in real.splitlines() if "created" in line
    ]


def test_a_file_with_errors_writes_nothing_and_lists_every_error(write):
    rows = [
        *lempaala_rows(),
        {**lempaala_rows()[2], "contact_email": "x"},
        row(business_id="0150783-2", contact_email="kolmas@lempaala.fi"),
        row(name_fi="Lempäälä", contact_email="neljas@lempaala.fi"),
    ]
    with pytest.raises(CommandError) as raised:
        run(write(csv_bytes(rows)))
    lines = str(raised.value).splitlines()
    assert lines[0].startswith("3 errors in ")
    assert lines[0].endswith("members.csv; nothing was imported.")
    assert lines[1:] == [
        "row 5, contact_email: Enter a valid email address.",
        "row 6, business_id: The check digit of the business ID is wrong: check it for typing "
        "errors.",
        "row 7, name_fi: Row 2 of the same organisation says “Lempäälän kunta”: an "
        "organisation's columns must be the same on each of its rows.",
    ]
    assert raised.value.returncode == 1
    assert all(not model.objects.exists() for model in MODELS)


def test_missing_columns_are_named(write):
    header = ["oid", "name_fi", "kind", "contract_reference", "contact_name", "contact_email"]
    with pytest.raises(CommandError, match="Columns missing from the header row: contact_role."):
        run(write(csv_bytes([row()], header=header)))


def test_a_file_that_is_not_there_is_an_error(tmp_path):
    with pytest.raises(CommandError, match="Cannot read"):
        run(tmp_path / "missing.csv")


def test_many_organisations_in_a_few_queries(write):
    """The queries do not grow with the rows: the same number for 10 as for 300 rows."""

    def queries_for(rows) -> int:
        path = write(csv_bytes(rows))
        with CaptureQueriesContext(connection) as queries:
            run(path)
        return len(queries)

    first_small, first_large = queries_for(many_rows(5)), queries_for(many_rows(150, start=100))
    assert first_small == first_large
    again_small, again_large = queries_for(many_rows(5)), queries_for(many_rows(150, start=100))
    assert again_small == again_large


class Terminal(io.StringIO):
    def isatty(self) -> bool:
        return True


def test_a_progress_bar_shows_on_a_terminal_unless_turned_off(write, monkeypatch):
    path = write(csv_bytes(many_rows(20)))
    terminal = Terminal()
    monkeypatch.setattr("sys.stderr", terminal)
    call_command("import_legacy_members", str(path), "--dry-run", stdout=io.StringIO())
    assert "Checking rows" in terminal.getvalue()

    terminal = Terminal()
    monkeypatch.setattr("sys.stderr", terminal)
    call_command("import_legacy_members", str(path), "--no-progress", stdout=io.StringIO())
    assert terminal.getvalue() == ""


def test_no_progress_bar_when_standard_error_is_not_a_terminal(write, monkeypatch):
    not_a_terminal = io.StringIO()
    monkeypatch.setattr("sys.stderr", not_a_terminal)
    call_command("import_legacy_members", str(write(csv_bytes([row()]))), stdout=io.StringIO())
    assert not_a_terminal.getvalue() == ""


@pytest.fixture
def running_campaign(terms):
    return launched_campaign(terms)


def test_with_a_campaign_the_new_members_join_it_and_are_invited(write, running_campaign):
    from onboarding.models import OutgoingEmail

    path = write(csv_bytes([row()]))
    dry = run(path, "--dry-run", "--campaign", str(running_campaign.pk))
    assert "1 organisation joins and is invited at once." in dry
    assert not OutgoingEmail.objects.exists()

    assert "1 organisation joins and is invited at once." in run(
        path, "--campaign", str(running_campaign.pk)
    )
    assert OutgoingEmail.objects.get().to == "riikka@lempaala.fi"
    assert "0 organisations join" in run(path, "--campaign", str(running_campaign.pk))
    with pytest.raises(CommandError, match="There is no campaign 999"):
        run(path, "--campaign", "999")

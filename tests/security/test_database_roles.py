"""The application's database role, made by deploy/roles.sql, writes the portal's rows and
nothing more: it cannot switch the evidence triggers off, truncate a table or change an
acceptance, as a process running as it (gunicorn, Celery) could be made to try."""

from __future__ import annotations

import re
import secrets
from datetime import date
from pathlib import Path

import pytest
from django.db import ProgrammingError, connection, transaction
from django.utils import timezone
from psycopg import sql

from onboarding import services
from onboarding.models import Registration, TermsAcceptance, TermsVersion
from onboarding.services.evidence import evidence_verify
from tests.factories import (
    OrganisationFactory,
    TermsAcceptanceFactory,
    TermsVersionFactory,
    UserFactory,
    notification,
    published_terms,
)

pytestmark = pytest.mark.django_db

ROLES_SQL = Path(__file__).resolve().parents[2] / "deploy" / "roles.sql"
VARIABLE = re.compile(r""":(['"])(\w+)\1""")


def run_psql_script(path: Path, variables: dict[str, str]) -> None:
    """Run a psql script as psql runs it, for the little of psql it uses: `:'name'` (a
    literal), `:"name"` (an identifier), statements that end in `;`, and `\\gexec` (run the
    query, then each value it answers as a statement)."""
    connection.ensure_connection()
    raw = connection.connection  # psycopg's, to quote as psql does

    def substitute(match: re.Match) -> str:
        value = variables[match[2]]
        quoted = sql.Literal(value) if match[1] == "'" else sql.Identifier(value)
        return quoted.as_string(raw)

    statement: list[str] = []
    with connection.cursor() as cursor:
        for line in path.read_text().splitlines():
            if not statement and (not line.strip() or line.lstrip().startswith("--")):
                continue
            statement.append(VARIABLE.sub(substitute, line))
            text = "\n".join(statement).strip()
            if text.endswith("\\gexec"):
                cursor.execute(text.removesuffix("\\gexec"))
                generated = [value for row in cursor.fetchall() for value in row if value]
                for each in generated:
                    cursor.execute(each)
                statement = []
            elif text.endswith(";"):
                cursor.execute(text)
                statement = []
    assert not statement, f"unterminated statement in {path.name}: {statement}"


@pytest.fixture
def app_role():
    """The two roles of deploy/roles.sql under names no other test run uses (roles belong to
    the whole cluster); the test connection acts as the application's role until the end."""
    suffix = secrets.token_hex(4)
    owner, app = f"mpassid_test_owner_{suffix}", f"mpassid_test_app_{suffix}"
    try:
        run_psql_script(ROLES_SQL, {"owner": owner, "app": app})
        with connection.cursor() as cursor:
            cursor.execute(
                sql.SQL("SET ROLE {}").format(sql.Identifier(app)).as_string(connection.connection)
            )
            cursor.execute(
                "SELECT current_user, rolsuper FROM pg_roles WHERE rolname = current_user"
            )
            assert cursor.fetchone() == (app, False)
        yield app
    finally:
        with connection.cursor() as cursor:
            cursor.execute("RESET ROLE")
            for role in (app, owner):
                cursor.execute("SELECT 1 FROM pg_roles WHERE rolname = %s", [role])
                if cursor.fetchone():
                    name = sql.Identifier(role).as_string(connection.connection)
                    cursor.execute(f"DROP OWNED BY {name}")
                    cursor.execute(f"DROP ROLE {name}")


def refused(statement: str, params=(), *, match: str = "permission denied|must be owner"):
    with (
        pytest.raises(ProgrammingError, match=match),
        transaction.atomic(),
        connection.cursor() as cursor,
    ):
        cursor.execute(statement, params)


@pytest.fixture
def evidence(terms):
    """An acceptance and a waiting notification, written before the application's role acts."""
    return TermsAcceptanceFactory(terms_version=terms), notification(terms)


def test_the_application_role_cannot_switch_the_evidence_triggers_off(evidence, app_role):
    for table, trigger in [
        ("onboarding_termsacceptance", "acceptances_are_append_only"),
        ("onboarding_termsversion", "published_terms_are_immutable"),
        ("onboarding_registration", "submission_is_evidence"),
    ]:
        refused(f"ALTER TABLE {table} DISABLE TRIGGER {trigger}", match="must be owner")
    refused("ALTER TABLE onboarding_termsacceptance DISABLE TRIGGER ALL", match="must be owner")
    refused("DROP TRIGGER acceptances_are_append_only ON onboarding_termsacceptance")
    refused("DROP TABLE onboarding_termsacceptance CASCADE")
    refused("SET LOCAL session_replication_role = replica")


@pytest.mark.parametrize(
    "table", ["onboarding_termsacceptance", "onboarding_termsversion", "onboarding_registration"]
)
def test_the_application_role_cannot_truncate_an_evidence_table(evidence, app_role, table):
    refused(f"TRUNCATE {table} CASCADE")


def test_the_application_role_cannot_change_or_delete_an_acceptance(evidence, app_role):
    acceptance, _registration = evidence
    refused(
        "UPDATE onboarding_termsacceptance SET accepter_name = 'Mallory' WHERE id = %s",
        [acceptance.pk],
    )
    refused("DELETE FROM onboarding_termsacceptance WHERE id = %s", [acceptance.pk])
    refused("DELETE FROM onboarding_evidencecheck")


def test_the_portals_own_writes_work_as_the_application_role(evidence, app_role, terms):
    _acceptance, registration = evidence
    organisation, person = OrganisationFactory(), UserFactory()

    accepted = services.acceptance_record(
        organisation=organisation,
        terms_version=terms,
        user=person,
        evidence=services.AcceptanceEvidence(
            accepter_name="Riikka Rehtori",
            accepter_title="Sivistysjohtaja",
            authority_confirmed=True,
            accepted_at=timezone.now(),
            language="fi",
            content_sha256=terms.content_sha256,
        ),
        approved_on=date(2025, 1, 1),
    )
    Registration.objects.filter(pk=registration.pk).update(status="rejected")
    draft = TermsVersionFactory()
    draft.text_fi = "Luonnos muuttuu"
    draft.save()
    published_terms()
    draft.delete()
    check = evidence_verify()

    assert TermsAcceptance.objects.get(pk=accepted.pk).sequence == 2
    assert Registration.objects.get(pk=registration.pk).status == "rejected"
    assert not TermsVersion.objects.filter(pk=draft.pk).exists()
    assert check.ok, check.problem_lines

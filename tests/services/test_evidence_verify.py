"""The evidence check finds what a superuser (or a restored backup) changed behind the
portal's back: altered, deleted or inserted acceptances and altered published terms."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path
from urllib.parse import quote

import pytest
from django.core.management import call_command
from django.db import connection
from django.utils import translation
from django.utils.html import escape

from onboarding import tasks
from onboarding.models import EvidenceCheck, OutgoingEmail, TermsAcceptance
from onboarding.models.evidence import acceptance_sha256
from onboarding.services.evidence import evidence_verify
from tests.factories import (
    OrganisationFactory,
    TermsAcceptanceFactory,
    published_terms,
    triggers_off,
)

pytestmark = pytest.mark.django_db

PROJECT = Path(__file__).resolve().parents[2]


@pytest.fixture
def chain(terms) -> list[TermsAcceptance]:
    """Four acceptances of the terms, numbered 1 to 4 in the chain."""
    return [TermsAcceptanceFactory(terms_version=terms) for _ in range(4)]


def lines(check: EvidenceCheck) -> list[str]:
    return check.problem_lines


def test_an_intact_chain_passes_and_is_remembered(chain):
    check = evidence_verify()

    assert check.ok
    assert check.problems == []
    assert (check.records, check.head_sequence) == (4, 4)
    assert check.head_sha256 == chain[-1].record_sha256
    assert EvidenceCheck.objects.get() == check


def test_no_acceptances_yet_is_intact():
    check = evidence_verify()

    assert check.ok
    assert (check.records, check.head_sequence, check.head_sha256) == (0, None, "")


def test_an_altered_acceptance_is_found(chain):
    with triggers_off() as cursor:
        cursor.execute(
            "UPDATE onboarding_termsacceptance SET accepter_name = 'Mallory' WHERE id = %s",
            [chain[1].pk],
        )

    check = evidence_verify()

    assert not check.ok
    assert lines(check) == [
        f"Acceptance no. 2 ({chain[1].organisation.oid}, terms 2024-1) no longer matches "
        "its hash: its content was changed."
    ]


def test_an_acceptance_deleted_from_the_middle_is_found(chain):
    with triggers_off() as cursor:
        cursor.execute("DELETE FROM onboarding_termsacceptance WHERE id = %s", [chain[1].pk])

    check = evidence_verify()

    assert lines(check) == ["Acceptance no. 2 is missing from the chain: it was deleted."]


def test_several_acceptances_deleted_together_are_named_as_one_gap(chain):
    with triggers_off() as cursor:
        cursor.execute(
            "DELETE FROM onboarding_termsacceptance WHERE id IN (%s, %s)",
            [chain[1].pk, chain[2].pk],
        )

    check = evidence_verify()

    assert lines(check) == ["Acceptances no. 2 to 3 are missing from the chain: they were deleted."]


def test_acceptances_deleted_from_the_end_are_found_by_the_last_good_check(chain):
    assert evidence_verify().ok
    with triggers_off() as cursor:
        cursor.execute(
            "DELETE FROM onboarding_termsacceptance WHERE id IN (%s, %s)",
            [chain[2].pk, chain[3].pk],
        )

    check = evidence_verify()

    assert not check.ok
    assert len(lines(check)) == 1
    assert lines(check)[0].startswith("Acceptance no. 4, the last one the check of ")
    assert lines(check)[0].endswith(
        "found intact, is missing: acceptances were deleted from the end of the chain."
    )


def test_a_forged_acceptance_inserted_into_the_chain_is_found(chain):
    """Mallory's organisation never accepted: a superuser copies an acceptance for it."""
    forged = OrganisationFactory(oid="1.2.246.562.10.66666666666")
    with triggers_off() as cursor:
        cursor.execute(
            "INSERT INTO onboarding_termsacceptance"
            " (organisation_id, organisation_oid, terms_version_id, accepted_by_id,"
            "  accepted_by_email, accepter_name, accepter_title, authority_confirmed,"
            "  accepted_at, ip_address, user_agent, language, content_sha256, in_force_from,"
            "  sequence, previous_sha256, record_sha256)"
            " SELECT %s, %s, terms_version_id, accepted_by_id, accepted_by_email,"
            "  'Mallory', accepter_title, authority_confirmed, accepted_at, ip_address,"
            "  user_agent, language, content_sha256, in_force_from, 5, record_sha256,"
            "  record_sha256"
            " FROM onboarding_termsacceptance WHERE id = %s",
            [forged.pk, forged.oid, chain[1].pk],
        )

    check = evidence_verify()

    assert lines(check) == [
        f"Acceptance no. 5 ({forged.oid}, terms 2024-1) no longer matches its hash: its "
        "content was changed.",
        f"Acceptance no. 5 ({forged.oid}, terms 2024-1) does not follow the one before it: "
        "a record was inserted, deleted or replaced.",
    ]


def test_a_chain_rewritten_since_the_last_good_check_is_found(chain):
    """A forger who recomputes the last record's hashes leaves every link whole, but not the
    head the last check remembered, nor the terms' hash."""
    assert evidence_verify().ok
    last = chain[-1]
    last.content_sha256 = "f" * 64
    rewritten = acceptance_sha256(last)
    with triggers_off() as cursor:
        cursor.execute(
            "UPDATE onboarding_termsacceptance SET content_sha256 = %s, record_sha256 = %s"
            " WHERE id = %s",
            [last.content_sha256, rewritten, last.pk],
        )

    check = evidence_verify()

    assert lines(check)[0] == (
        f"Acceptance no. 4 ({last.organisation.oid}) records a text hash that is not the one "
        "of terms version 2024-1."
    )
    assert lines(check)[1].startswith("Acceptance no. 4 is no longer the one the check of ")
    assert len(lines(check)) == 2


def test_an_altered_published_terms_text_is_found(chain, terms):
    with triggers_off() as cursor:
        cursor.execute(
            "UPDATE onboarding_termsversion SET text_fi = text_fi || ' Ja vähän lisää.'"
            " WHERE id = %s",
            [terms.pk],
        )

    check = evidence_verify()

    assert lines(check) == [
        "The published text of terms version 2024-1 no longer matches its SHA-256: it was changed."
    ]


def test_a_draft_may_change_freely(chain):
    published_terms()  # another version, and drafts are no evidence
    assert evidence_verify().ok


# The command ----------------------------------------------------------------------------------


def test_the_command_says_the_evidence_is_intact(chain, capsys):
    call_command("verify_evidence")

    assert capsys.readouterr().out == (
        "Evidence intact: 4 acceptances in an unbroken chain, every published terms text as "
        "published.\n"
    )


def test_the_command_prints_each_problem_and_exits_1(chain, terms, capsys):
    with triggers_off() as cursor:
        cursor.execute(
            "UPDATE onboarding_termsacceptance SET ip_address = '203.0.113.66' WHERE id = %s",
            [chain[0].pk],
        )
        cursor.execute(
            "UPDATE onboarding_termsversion SET text_sv = 'Annat' WHERE id = %s", [terms.pk]
        )

    with pytest.raises(SystemExit) as exit:
        call_command("verify_evidence")

    assert exit.value.code == 1
    assert capsys.readouterr().out.splitlines() == [
        f"Acceptance no. 1 ({chain[0].organisation.oid}, terms 2024-1) no longer matches its "
        "hash: its content was changed.",
        "The published text of terms version 2024-1 no longer matches its SHA-256: it was changed.",
        "Evidence check failed: 2 problems found.",
    ]


@pytest.mark.django_db(transaction=True)
def test_the_command_exits_non_zero_in_a_shell(terms):
    """As an operator or a cron job runs it: its own process and connection."""
    acceptance = TermsAcceptanceFactory(terms_version=terms)
    db = connection.settings_dict
    env = os.environ | {
        "DJANGO_SETTINGS_MODULE": "tests.settings",
        "DATABASE_URL": (
            f"postgres://{quote(db['USER'])}:{quote(db['PASSWORD'] or '')}"
            f"@{db['HOST'] or '127.0.0.1'}:{db['PORT'] or 5432}/{db['NAME']}"
        ),
    }
    command = [sys.executable, "manage.py", "verify_evidence"]

    intact = subprocess.run(command, cwd=PROJECT, env=env, capture_output=True, text=True)
    with triggers_off() as cursor:
        cursor.execute("DELETE FROM onboarding_termsacceptance WHERE id = %s", [acceptance.pk])
    deleted = subprocess.run(command, cwd=PROJECT, env=env, capture_output=True, text=True)

    assert intact.returncode == 0, intact.stdout + intact.stderr
    assert deleted.returncode == 1, deleted.stdout + deleted.stderr
    assert "1" in deleted.stdout.splitlines()[0]  # the number of the acceptance gone


# The nightly task -----------------------------------------------------------------------------


def test_the_task_emails_staff_once_when_the_check_fails(chain, charlie):
    with triggers_off() as cursor:
        cursor.execute(
            "UPDATE onboarding_termsacceptance SET accepter_title = 'Toimitusjohtaja'"
            " WHERE id = %s",
            [chain[2].pk],
        )

    assert tasks.verify_evidence() is False

    alert = OutgoingEmail.objects.get(kind=OutgoingEmail.Kind.EVIDENCE_ALERT)
    assert alert.to == charlie.email
    assert alert.evidence_check == EvidenceCheck.objects.get()
    with translation.override("fi"):  # staff emails are in Finnish
        [line] = alert.evidence_check.problem_lines
    assert chain[2].organisation.oid in line
    assert line in alert.body_text
    assert escape(line) in alert.body_html


def test_each_failed_check_alerts_again(chain, charlie):
    with triggers_off() as cursor:
        cursor.execute("DELETE FROM onboarding_termsacceptance WHERE id = %s", [chain[0].pk])

    tasks.verify_evidence()
    tasks.verify_evidence()

    assert OutgoingEmail.objects.filter(kind=OutgoingEmail.Kind.EVIDENCE_ALERT).count() == 2


def test_the_task_writes_to_nobody_when_the_evidence_is_intact(chain, charlie):
    assert tasks.verify_evidence() is True

    assert not OutgoingEmail.objects.filter(kind=OutgoingEmail.Kind.EVIDENCE_ALERT).exists()


def test_a_check_run_by_hand_alerts_nobody(chain, charlie):
    with triggers_off() as cursor:
        cursor.execute("DELETE FROM onboarding_termsacceptance WHERE id = %s", [chain[0].pk])

    with pytest.raises(SystemExit):
        call_command("verify_evidence")

    assert not OutgoingEmail.objects.filter(kind=OutgoingEmail.Kind.EVIDENCE_ALERT).exists()

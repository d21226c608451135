"""The database's own guard of the evidence (migration 0014): acceptances, published terms and
submitted notifications, whatever the session sets, short of a superuser."""

from __future__ import annotations

import pytest
from django.db import ProgrammingError, connection, transaction

from onboarding.models import OutgoingEmail, Registration, TermsAcceptance, TermsVersion
from onboarding.models.registrations import DELETABLE_STATUSES, SUBMISSION_FIELDS
from tests.factories import TermsAcceptanceFactory, notification

pytestmark = pytest.mark.django_db

IGNORE_EVERYTHING = (
    "SET LOCAL pgtrigger.ignore = "
    "'{onboarding_termsacceptance:pgtrigger_acceptances_are_append_only_9e1d4,"
    "onboarding_termsversion:pgtrigger_published_terms_are_immutable_af48d,"
    "onboarding_registration:pgtrigger_submission_is_evidence_27623,"
    "onboarding_registration:pgtrigger_registrations_are_kept_6eac8}'"
)


def refused(statement: str, params=(), *, match: str, before: str = ""):
    """Run `statement` (after `before`, in the same transaction) and expect the database to
    refuse it with `match`."""
    with (
        pytest.raises(ProgrammingError, match=match),
        transaction.atomic(),
        connection.cursor() as cursor,
    ):
        if before:
            cursor.execute(before)
        cursor.execute(statement, params)


def test_the_pgtrigger_ignore_setting_no_longer_lets_an_acceptance_change(terms):
    acceptance = TermsAcceptanceFactory(terms_version=terms)
    for statement in (
        "UPDATE onboarding_termsacceptance SET accepter_name = 'Mallory' WHERE id = %s",
        "DELETE FROM onboarding_termsacceptance WHERE id = %s",
    ):
        refused(
            statement,
            [acceptance.pk],
            before=IGNORE_EVERYTHING,
            match="Acceptances of the terms are evidence",
        )
    acceptance.refresh_from_db()
    assert acceptance.accepter_name == "Riikka Rehtori"


def test_the_pgtrigger_ignore_setting_no_longer_lets_a_published_version_change(terms):
    refused(
        "UPDATE onboarding_termsversion SET text_fi = 'Muutettu' WHERE id = %s",
        [terms.pk],
        before=IGNORE_EVERYTHING,
        match="Published terms version 2024-1 is evidence: UPDATE is refused",
    )
    refused(
        "DELETE FROM onboarding_termsversion WHERE id = %s",
        [terms.pk],
        before=IGNORE_EVERYTHING,
        match="Published terms version 2024-1 is evidence: DELETE is refused",
    )
    terms.refresh_from_db()
    assert terms.text_fi != "Muutettu"


@pytest.mark.parametrize("field", SUBMISSION_FIELDS)
def test_no_submitted_field_of_a_notification_can_be_changed(terms, field):
    registration = notification(terms)
    column = Registration._meta.get_field(field).column
    other = registration.pk if field == "corrects" else None  # a change from what it was
    refused(
        f"UPDATE onboarding_registration SET {column} = %s WHERE id = %s",
        [other, registration.pk],
        before=IGNORE_EVERYTHING,
        match=f"Notification {registration.pk} is evidence: what was submitted cannot be changed",
    )


def test_the_review_of_a_notification_may_still_be_written(terms):
    registration = notification(terms)
    with connection.cursor() as cursor:
        cursor.execute(
            "UPDATE onboarding_registration SET status = 'rejected', decision_reason = 'No'"
            " WHERE id = %s",
            [registration.pk],
        )
    registration.refresh_from_db()
    assert registration.status == "rejected"


@pytest.mark.parametrize("status", ["submitted", "approved", "changes_requested", "replaced"])
def test_a_notification_that_is_not_rejected_or_withdrawn_cannot_be_deleted(terms, status):
    registration = notification(terms)
    Registration.objects.filter(pk=registration.pk).update(status=status)
    refused(
        "DELETE FROM onboarding_registration WHERE id = %s",
        [registration.pk],
        before=IGNORE_EVERYTHING,
        match=f"Notification {registration.pk} is {status}: only a rejected or withdrawn",
    )
    assert Registration.objects.filter(pk=registration.pk).exists()


@pytest.mark.parametrize("status", DELETABLE_STATUSES)
def test_a_rejected_or_withdrawn_notification_can_be_deleted(terms, status):
    registration = notification(terms)
    Registration.objects.filter(pk=registration.pk).update(
        status=status,
        withdrawn_at=registration.submitted_at if status == "withdrawn" else None,
    )
    OutgoingEmail.objects.filter(registration=registration).delete()  # its receipt, sent

    Registration.objects.filter(pk=registration.pk).delete()

    assert not Registration.objects.filter(pk=registration.pk).exists()


# Transactional: TRUNCATE waits for no deferred check of rows written in the same transaction.
@pytest.mark.django_db(transaction=True)
@pytest.mark.parametrize("model", [TermsAcceptance, TermsVersion, Registration])
def test_an_evidence_table_cannot_be_truncated(terms, model):
    TermsAcceptanceFactory(terms_version=terms)
    notification(terms)
    table = model._meta.db_table
    refused(
        f"TRUNCATE {table} CASCADE",
        before=IGNORE_EVERYTHING,
        match=f"{table} holds evidence: TRUNCATE is refused",
    )
    assert model.objects.exists()


def test_the_evidence_triggers_are_our_own_with_no_ignore_hook():
    with connection.cursor() as cursor:
        cursor.execute(
            "SELECT tgname, p.prosrc FROM pg_trigger t JOIN pg_proc p ON p.oid = t.tgfoid"
            " WHERE tgrelid::regclass::text IN"
            " ('onboarding_termsacceptance', 'onboarding_termsversion', 'onboarding_registration')"
            " AND NOT tgisinternal"
        )
        triggers = dict(cursor.fetchall())
    assert set(triggers) == {
        "acceptances_are_append_only",
        "acceptances_are_not_truncated",
        "published_terms_are_immutable",
        "terms_versions_are_not_truncated",
        "submission_is_evidence",
        "registrations_are_kept",
        "registrations_are_not_truncated",
    }
    assert not any("ignore" in source for source in triggers.values())

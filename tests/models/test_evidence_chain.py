"""Every acceptance is chained to the one before it by SHA-256, whichever way it is written."""

from __future__ import annotations

import hashlib
import json
import threading

import pytest
from django.core.management import call_command
from django.db import DatabaseError, connection, transaction

from onboarding.models import Organisation, TermsAcceptance, User
from onboarding.models.evidence import GENESIS_SHA256
from onboarding.services.evidence import evidence_verify
from tests.concurrency import at_once, until_another_waits_for_a_lock
from tests.factories import LEMPAALA, TermsAcceptanceFactory, notification

EVIDENCE_FIELDS = {
    "sequence",
    "organisation_id",
    "organisation_oid",
    "terms_version_id",
    "terms_version",
    "content_sha256",
    "accepted_by_id",
    "accepted_by_email",
    "accepter_name",
    "accepter_title",
    "authority_confirmed",
    "accepted_at",
    "ip_address",
    "user_agent",
    "language",
    "registration_id",
    "in_force_from",
    "previous_sha256",
}


@pytest.mark.django_db
def test_each_acceptance_is_linked_to_the_one_before_it(terms):
    first, second, third = (TermsAcceptanceFactory(terms_version=terms) for _ in range(3))

    assert [first.sequence, second.sequence, third.sequence] == [1, 2, 3]
    assert first.previous_sha256 == GENESIS_SHA256
    assert second.previous_sha256 == first.record_sha256
    assert third.previous_sha256 == second.record_sha256
    assert len({first.record_sha256, second.record_sha256, third.record_sha256}) == 3


@pytest.mark.django_db
def test_anyone_can_recompute_the_hash_from_the_stored_row(terms, lempaala):
    """Canonical JSON (sorted keys, no spaces, UTF-8) of the evidence as the database holds it."""
    registration = notification(terms)
    acceptance = TermsAcceptanceFactory(
        terms_version=terms,
        organisation=lempaala,
        registration=registration,
        accepter_name="Äiti Öberg",
        ip_address="2001:DB8::1",
    )
    row = TermsAcceptance.objects.select_related("terms_version").get(pk=acceptance.pk)
    document = {
        "sequence": row.sequence,
        "organisation_id": lempaala.pk,
        "organisation_oid": LEMPAALA,
        "terms_version_id": terms.pk,
        "terms_version": "2024-1",
        "content_sha256": terms.content_sha256,
        "accepted_by_id": row.accepted_by_id,
        "accepted_by_email": row.accepted_by.email,
        "accepter_name": "Äiti Öberg",
        "accepter_title": "Sivistysjohtaja",
        "authority_confirmed": True,
        "accepted_at": row.accepted_at.strftime("%Y-%m-%dT%H:%M:%S.%fZ"),
        "ip_address": "2001:db8::1",
        "user_agent": "pytest",
        "language": "fi",
        "registration_id": registration.pk,
        "in_force_from": row.in_force_from.isoformat(),
        "previous_sha256": GENESIS_SHA256,
    }
    canonical = json.dumps(document, sort_keys=True, ensure_ascii=False, separators=(",", ":"))

    assert set(document) == EVIDENCE_FIELDS
    assert row.accepted_at.utcoffset().total_seconds() == 0
    assert hashlib.sha256(canonical.encode()).hexdigest() == row.record_sha256


@pytest.mark.django_db
def test_the_evidence_keeps_the_oid_and_the_address_it_was_accepted_with(terms, lempaala):
    acceptance = TermsAcceptanceFactory(terms_version=terms, organisation=lempaala)
    User.objects.filter(pk=acceptance.accepted_by_id).update(email="renamed@lempaala.fi")
    Organisation.objects.filter(pk=lempaala.pk).update(oid="1.2.246.562.10.99999999999")

    acceptance.refresh_from_db()

    assert acceptance.organisation_oid == LEMPAALA
    assert acceptance.accepted_by_email != "renamed@lempaala.fi"
    assert evidence_verify().ok


@pytest.mark.django_db
def test_the_chain_fields_are_not_the_callers_to_give(terms):
    acceptance = TermsAcceptanceFactory(
        terms_version=terms, sequence=99, previous_sha256="a" * 64, record_sha256="b" * 64
    )

    assert (acceptance.sequence, acceptance.previous_sha256) == (1, GENESIS_SHA256)
    assert evidence_verify().ok


@pytest.mark.django_db(transaction=True)
def test_an_acceptance_waits_for_the_one_being_written_and_follows_it(terms):
    """Two approvals at once: the second reads the chain's end only after the first commits."""
    written = threading.Event()

    def first() -> TermsAcceptance:
        with transaction.atomic():
            acceptance = TermsAcceptanceFactory(terms_version=terms)
            written.set()
            until_another_waits_for_a_lock("the second acceptance")
        return acceptance

    def second() -> TermsAcceptance:
        assert written.wait(timeout=10)
        return TermsAcceptanceFactory(terms_version=terms)

    outcomes = at_once(first, second)

    assert all(isinstance(o, TermsAcceptance) for o in outcomes), outcomes
    assert outcomes[1].sequence == outcomes[0].sequence + 1
    assert outcomes[1].previous_sha256 == outcomes[0].record_sha256
    assert evidence_verify().ok


@pytest.mark.django_db(transaction=True)
def test_the_migration_chains_existing_acceptances_in_id_order(terms):
    acceptances = [TermsAcceptanceFactory(terms_version=terms) for _ in range(3)]
    try:
        call_command("migrate", "onboarding", "0012", verbosity=0)  # drops the chain
    finally:
        call_command("migrate", "onboarding", verbosity=0)

    rows = TermsAcceptance.objects.order_by("id")
    assert [row.sequence for row in rows] == [1, 2, 3]
    assert [row.record_sha256 for row in rows] == [a.record_sha256 for a in acceptances]
    assert evidence_verify().ok
    with (  # and the acceptances' trigger is on again
        pytest.raises(DatabaseError, match="Acceptances of the terms are evidence"),
        connection.cursor() as cursor,
    ):
        cursor.execute("DELETE FROM onboarding_termsacceptance WHERE id = %s", [acceptances[0].pk])

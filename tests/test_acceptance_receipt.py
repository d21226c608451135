"""The receipt of a notification that accepts the terms carries the evidence of the acceptance,
as the submitter receives it, in their language: the organisation, who accepted, when (UTC and
Helsinki time), which version and its SHA-256, and from which address."""

from __future__ import annotations

from zoneinfo import ZoneInfo

import pytest
from django.utils import timezone

from tests.factories import ALICE, LEMPAALA, submit

pytestmark = pytest.mark.django_db

NAMES = {"fi": "Lempäälän kunta", "sv": "Lembois kommun", "en": "Municipality of Lempäälä"}


def received(mailoutbox, django_capture_on_commit_callbacks, terms, alice, language):
    with django_capture_on_commit_callbacks(execute=True):
        registration, _created = submit(
            terms, user=alice, language=language, ip_address="198.51.100.23"
        )
    [message] = [m for m in mailoutbox if m.to == [ALICE]]
    [(html, _type)] = message.alternatives
    return registration, message.body, html


@pytest.mark.parametrize("language", ["fi", "sv", "en"])
def test_the_receipt_carries_the_evidence_of_the_acceptance(
    language, terms, alice, mailoutbox, django_capture_on_commit_callbacks
):
    registration, text, html = received(
        mailoutbox, django_capture_on_commit_callbacks, terms, alice, language
    )
    at = registration.submitted_at
    utc = timezone.localtime(at, ZoneInfo("UTC")).strftime("%Y-%m-%d %H:%M:%S")
    helsinki = timezone.localtime(at, ZoneInfo("Europe/Helsinki")).strftime("%Y-%m-%d %H:%M:%S")
    offset = timezone.localtime(at, ZoneInfo("Europe/Helsinki")).isoformat()[-6:]  # +02:00
    acceptance = registration.submitted.acceptance
    for body in (text, html):
        assert NAMES[language] in body
        assert f"OID {LEMPAALA}" in body
        assert acceptance.accepter_name in body
        assert acceptance.accepter_title in body
        assert ALICE in body
        assert f"{utc} UTC" in body
        assert f"{helsinki} (UTC{offset})" in body
        assert terms.version in body
        assert terms.content_sha256 in body
        assert "198.51.100.23" in body


def test_the_evidence_is_in_the_recipients_language(
    terms, alice, mailoutbox, django_capture_on_commit_callbacks
):
    _registration, english, _html = received(
        mailoutbox, django_capture_on_commit_callbacks, terms, alice, "en"
    )
    assert "Accepted at (Helsinki time)" in english
    assert "SHA-256 of the text accepted" in english


def test_a_notification_that_accepts_nothing_has_no_evidence_in_its_receipt(
    alice, mailoutbox, django_capture_on_commit_callbacks
):
    with django_capture_on_commit_callbacks(execute=True):
        submit(None, user=alice, language="en")
    [message] = [m for m in mailoutbox if m.to == [ALICE]]
    assert "SHA-256" not in message.body
    assert "Accepted by" not in message.body

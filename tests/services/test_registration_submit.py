"""Submitting a notification: kept exactly as sent, once per submission token, only against the
current terms, with a receipt to the submitter and a review request to each active reviewer."""

from __future__ import annotations

import uuid
from datetime import date

import pytest
from django.core.exceptions import PermissionDenied, ValidationError

from onboarding.emails import render_email
from onboarding.models import OutgoingEmail, Registration
from tests.factories import (
    ALICE,
    BROWSER,
    CHARLIE,
    LEMPAALA,
    UserFactory,
    notification_data,
    published_terms,
    submit,
)

pytestmark = pytest.mark.django_db


def test_the_registration_keeps_exactly_what_was_submitted_and_by_whom(terms, alice):
    data = notification_data(terms)
    registration, created = submit(
        terms, user=alice, data=data, ip_address="2001:db8::7", language="sv"
    )
    assert created
    registration.refresh_from_db()
    assert registration.data == data.to_json()
    assert registration.submitted == data
    assert registration.oid == LEMPAALA
    assert registration.status == Registration.Status.SUBMITTED
    assert registration.submitted_by == alice
    assert registration.ip_address == "2001:db8::7"
    assert registration.user_agent == BROWSER
    assert registration.language == "sv"
    assert registration.terms_version == terms
    assert registration.content_sha256 == terms.content_sha256
    assert registration.organisation is None


def test_a_notification_of_a_known_organisation_is_linked_to_it(terms, lempaala):
    registration, _created = submit(terms)
    assert registration.organisation == lempaala


def test_a_notification_without_acceptance_keeps_no_hash(terms):
    registration, created = submit(None, data=notification_data(None), content_sha256="")
    assert created
    registration.refresh_from_db()
    assert registration.terms_version is None
    assert registration.content_sha256 == ""
    assert not registration.accepts_terms


def test_the_same_token_gives_the_same_registration_and_sends_nothing_more(
    terms, alice, mailoutbox, django_capture_on_commit_callbacks
):
    token = uuid.uuid4()
    with django_capture_on_commit_callbacks(execute=True):
        first, _created = submit(terms, user=alice, token=token)
    emails, messages = OutgoingEmail.objects.count(), len(mailoutbox)

    with django_capture_on_commit_callbacks(execute=True) as callbacks:
        again, created = submit(terms, user=alice, token=token)

    assert again == first
    assert not created
    assert Registration.objects.count() == 1
    assert callbacks == []
    assert OutgoingEmail.objects.count() == emails
    assert len(mailoutbox) == messages


def test_the_same_token_from_another_user_is_refused(terms, alice, mallory):
    token = uuid.uuid4()
    submit(terms, user=alice, token=token)
    with pytest.raises(PermissionDenied):
        submit(terms, user=mallory, token=token)
    assert Registration.objects.count() == 1


def test_a_hash_of_another_text_is_refused_and_nothing_is_kept(
    terms, django_capture_on_commit_callbacks
):
    with (
        django_capture_on_commit_callbacks() as callbacks,
        pytest.raises(ValidationError, match="terms of use changed"),
    ):
        submit(terms, content_sha256="f" * 64)
    assert not Registration.objects.exists()
    assert not OutgoingEmail.objects.exists()
    assert callbacks == []


def test_terms_no_longer_current_are_refused_and_nothing_is_kept(terms):
    published_terms(effective_from=date(2025, 1, 1))
    with pytest.raises(ValidationError, match="terms of use changed"):
        submit(terms)
    assert not Registration.objects.exists()
    assert not OutgoingEmail.objects.exists()


def test_terms_still_current_until_a_newer_version_takes_effect_are_accepted(terms):
    published_terms(effective_from=date(2999, 1, 1))
    _registration, created = submit(terms)
    assert created


def test_the_receipt_goes_to_the_submitter_in_their_language(
    terms, alice, mailoutbox, django_capture_on_commit_callbacks
):
    with django_capture_on_commit_callbacks(execute=True):
        registration, _created = submit(terms, user=alice, language="sv")
    receipt = registration.emails.get(kind=OutgoingEmail.Kind.RECEIPT)
    expected_subject, _text, _html = render_email(
        "registration_receipt", {"registration": registration}, "sv"
    )
    assert receipt.to == ALICE
    assert receipt.language == "sv"
    assert receipt.subject == expected_subject
    assert receipt.status == OutgoingEmail.Status.SENT
    [message] = [m for m in mailoutbox if m.to == [ALICE]]
    assert message.subject == expected_subject
    assert LEMPAALA in message.body
    assert f"/registrations/{registration.pk}/" in message.body


def test_the_receipt_reads_differently_in_finnish_swedish_and_english(terms):
    registration, _created = submit(terms)
    context = {"registration": registration}
    subjects = {
        language: render_email("registration_receipt", context, language)[0]
        for language in ("fi", "sv", "en")
    }
    assert len(set(subjects.values())) == 3, subjects


def test_an_unknown_language_falls_back_to_finnish(terms):
    registration, _created = submit(terms, language="de")
    assert registration.emails.get(kind=OutgoingEmail.Kind.RECEIPT).language == "fi"


def test_each_active_reviewer_gets_one_review_email_and_inactive_ones_none(
    terms, charlie, mailoutbox, django_capture_on_commit_callbacks
):
    UserFactory(email="toinen@oph.fi", is_staff=True)
    UserFactory(email="lahtenyt@oph.fi", is_staff=True, is_active=False)
    UserFactory(email="tavallinen@example.fi")
    with django_capture_on_commit_callbacks(execute=True):
        registration, _created = submit(terms)

    reviews = registration.emails.filter(kind=OutgoingEmail.Kind.TO_REVIEW)
    assert sorted(reviews.values_list("to", flat=True)) == [CHARLIE, "toinen@oph.fi"]
    review_messages = [m for m in mailoutbox if m.to != [registration.submitted_by.email]]
    assert sorted(m.to[0] for m in review_messages) == [CHARLIE, "toinen@oph.fi"]
    assert all(registration.oid in m.subject for m in review_messages)  # never typed text
    assert all("Lempäälän kunta" in m.body for m in review_messages)
    assert all(f"/onboarding/registration/{registration.pk}/" in m.body for m in review_messages)


def test_each_email_is_an_outbox_row_with_its_own_key(
    terms, charlie, mailoutbox, django_capture_on_commit_callbacks
):
    UserFactory(email="toinen@oph.fi", is_staff=True)
    with django_capture_on_commit_callbacks(execute=True):
        registration, _created = submit(terms)
    rows = OutgoingEmail.objects.filter(registration=registration)
    assert sorted(rows.values_list("kind", "to")) == [
        ("receipt", registration.submitted_by.email),
        ("to_review", CHARLIE),
        ("to_review", "toinen@oph.fi"),
    ]
    keys = set(OutgoingEmail.objects.values_list("key", flat=True))
    assert len(keys) == OutgoingEmail.objects.count() == len(mailoutbox) == 3
    assert set(OutgoingEmail.objects.values_list("status", flat=True)) == {"sent"}

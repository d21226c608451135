from __future__ import annotations

from datetime import UTC, datetime

import pytest
from django.core.exceptions import ValidationError

from onboarding import emails, register, services
from onboarding.models import OutgoingEmail
from onboarding.services import terms_publish
from tests.factories import (
    ContactPersonFactory,
    OrganisationFactory,
    TermsVersionFactory,
    published_terms,
)

pytestmark = pytest.mark.django_db


def publish(draft, **kwargs):
    """`terms_publish` as the confirmation page calls it, with the hash of the text shown."""
    return terms_publish(
        terms_version=draft, expected_sha256=draft.compute_content_sha256(), **kwargs
    )


def test_publishing_records_the_time_and_the_hash():
    when = datetime(2024, 5, 2, 9, 0, tzinfo=UTC)
    terms = publish(TermsVersionFactory(), now=when)
    terms.refresh_from_db()
    assert terms.published_at == when
    assert terms.content_sha256 == terms.compute_content_sha256()


def test_the_text_changed_after_it_was_shown_is_not_published():
    draft = TermsVersionFactory(text_fi="Luettu teksti", change_summary_fi="Pieni muutos.")
    shown = draft.compute_content_sha256()
    draft.text_fi = "Toisen muuttama teksti"
    draft.save()

    with pytest.raises(services.TermsTextChanged, match="check it again"):
        terms_publish(terms_version=draft, expected_sha256=shown)

    draft.refresh_from_db()
    assert not draft.is_published
    assert not OutgoingEmail.objects.exists()  # nobody was told of a text nobody checked


def test_a_change_of_what_members_are_told_after_it_was_shown_is_not_published():
    draft = TermsVersionFactory(requires_reacceptance=False)
    announcement = services.terms_announcement_sha256(draft)
    draft.requires_reacceptance = True
    draft.save()

    with pytest.raises(services.TermsTextChanged):
        terms_publish(
            terms_version=draft,
            expected_sha256=draft.compute_content_sha256(),
            expected_announcement_sha256=announcement,
        )
    draft.refresh_from_db()
    assert not draft.is_published


def test_the_published_hash_is_the_one_that_was_shown():
    draft = TermsVersionFactory()
    shown = draft.compute_content_sha256()
    assert terms_publish(terms_version=draft, expected_sha256=shown).content_sha256 == shown


def test_a_version_without_swedish_text_cannot_be_published():
    draft = TermsVersionFactory(text_sv="")
    with pytest.raises(ValidationError) as error:
        publish(draft)
    assert "text_sv" in error.value.message_dict
    draft.refresh_from_db()
    assert not draft.is_published


def test_english_is_optional():
    terms = publish(TermsVersionFactory(title_en="", text_en=""))
    assert terms.is_published
    assert b'"en"' not in terms.canonical_content()


def test_a_version_is_published_only_once():
    terms = published_terms()
    with pytest.raises(ValidationError, match="already published"):
        publish(terms)


# Announcing ---------------------------------------------------------------------------------


@pytest.fixture
def members():
    """Two members with administrative contacts, and people who are not told."""
    aalto = OrganisationFactory(name_fi="Aaltola", membership="terms_accepted")
    ContactPersonFactory(organisation=aalto, email="rehtori@aaltola.fi", language="fi")
    ContactPersonFactory(organisation=aalto, email="hallinto@aaltola.fi", language="sv")
    ContactPersonFactory(organisation=aalto, email="it@aaltola.fi", role="technical")
    ContactPersonFactory(organisation=aalto, email="entinen@aaltola.fi", is_active=False)
    borga = OrganisationFactory(name_fi="Borgå", membership="legacy_contract")
    ContactPersonFactory(organisation=borga, email="rektor@borga.fi", language="sv")
    ContactPersonFactory(
        organisation=OrganisationFactory(membership="none"), email="ulkopuolinen@muu.fi"
    )
    ContactPersonFactory(
        organisation=OrganisationFactory(membership="lapsed"), email="rauennut@muu.fi"
    )
    return aalto, borga


def announced(terms) -> list[tuple[str, str, str]]:
    return sorted(
        (email.organisation.name_fi, email.to, email.language)
        for email in OutgoingEmail.objects.filter(kind="terms_changed", terms_version=terms)
    )


def test_publishing_tells_each_administrative_contact_of_each_member_once(
    members, django_capture_on_commit_callbacks
):
    draft = TermsVersionFactory(change_summary_sv="Ny kontaktadress.")
    with django_capture_on_commit_callbacks() as enqueued:
        terms = publish(draft)

    assert announced(terms) == [
        ("Aaltola", "hallinto@aaltola.fi", "sv"),
        ("Aaltola", "rehtori@aaltola.fi", "fi"),
        ("Borgå", "rektor@borga.fi", "sv"),
    ]
    # Each sent after the commit; and the public pages are refreshed (onboarding.page_cache).
    assert len([job for job in enqueued if job is not register.invalidate]) == 3
    assert OutgoingEmail.objects.count() == 3
    assert "Ny kontaktadress." in OutgoingEmail.objects.get(to="rektor@borga.fi").body_text
    with pytest.raises(ValidationError, match="already published"):
        publish(terms)
    assert OutgoingEmail.objects.count() == 3


def test_a_version_that_needs_acceptance_is_not_announced_but_left_to_a_campaign(members):
    terms = publish(TermsVersionFactory(requires_reacceptance=True))
    assert terms.is_published
    assert not services.terms_announced_when_published(terms)
    assert not OutgoingEmail.objects.exists()


@pytest.mark.django_db(transaction=True)
def test_a_failure_while_announcing_leaves_neither_the_publication_nor_any_announcement(
    members, monkeypatch
):
    draft = TermsVersionFactory()
    real = emails._write
    written = []

    def failing_on_the_second(*args, **kwargs):
        if written:
            raise ConnectionError("the database connection was lost")
        written.append(real(*args, **kwargs))
        return written[-1]

    monkeypatch.setattr(emails, "_write", failing_on_the_second)
    with pytest.raises(ConnectionError):
        publish(draft)

    assert len(written) == 1  # one announcement was written before the failure
    draft.refresh_from_db()
    assert not draft.is_published
    assert not OutgoingEmail.objects.exists()

    monkeypatch.setattr(emails, "_write", real)
    terms = publish(draft)  # publishing again announces to everyone
    assert len(announced(terms)) == 3

from __future__ import annotations

import pytest
from django.db import ProgrammingError, connection, transaction
from django.db.models import ProtectedError

from onboarding.models import ImmutableRecordError, TermsAcceptance, TermsVersion
from tests.factories import TermsAcceptanceFactory, TermsVersionFactory, published_terms

pytestmark = pytest.mark.django_db


def test_a_draft_can_be_edited_and_deleted():
    draft = TermsVersionFactory()
    draft.text_fi = "Uusi teksti"
    draft.save()
    draft.delete()
    assert not TermsVersion.objects.exists()


def test_publishing_fixes_the_hash_of_the_canonical_text(terms):
    assert terms.published_at is not None
    assert len(terms.content_sha256) == 64
    assert terms.content_sha256 == terms.compute_content_sha256()


def test_the_hash_ignores_line_endings_but_not_words():
    unix = TermsVersionFactory.build(version="x", text_fi="Rivi 1\nRivi 2")
    windows = TermsVersionFactory.build(version="x", text_fi="Rivi 1\r\nRivi 2")
    changed = TermsVersionFactory.build(version="x", text_fi="Rivi 1\nRivi 3")
    assert unix.compute_content_sha256() == windows.compute_content_sha256()
    assert unix.compute_content_sha256() != changed.compute_content_sha256()


def test_a_published_version_refuses_to_be_saved_with_a_clear_message(terms):
    terms.text_fi = "Muutettu jälkikäteen"
    with pytest.raises(ImmutableRecordError, match="published and can no longer be changed"):
        terms.save()
    terms.refresh_from_db()
    assert terms.text_fi != "Muutettu jälkikäteen"


def test_a_published_version_refuses_to_be_deleted(terms):
    with pytest.raises(ImmutableRecordError, match="cannot be deleted"):
        terms.delete()
    assert TermsVersion.objects.filter(pk=terms.pk).exists()


def test_the_database_refuses_to_update_a_published_version_even_in_raw_sql(terms):
    with (
        pytest.raises(ProgrammingError, match="is evidence"),
        transaction.atomic(),
        connection.cursor() as cursor,
    ):
        cursor.execute(
            "UPDATE onboarding_termsversion SET text_fi = 'Muutettu' WHERE id = %s", [terms.pk]
        )
    with (
        pytest.raises(ProgrammingError, match="is evidence"),
        transaction.atomic(),
        connection.cursor() as cursor,
    ):
        cursor.execute("DELETE FROM onboarding_termsversion WHERE id = %s", [terms.pk])
    terms.refresh_from_db()
    assert terms.text_fi != "Muutettu"


def test_the_database_lets_a_draft_be_updated():
    draft = TermsVersionFactory()
    TermsVersion.objects.filter(pk=draft.pk).update(text_fi="Luonnos muuttuu")
    draft.refresh_from_db()
    assert draft.text_fi == "Luonnos muuttuu"


def test_an_acceptance_refuses_to_be_changed_or_deleted():
    acceptance = TermsAcceptanceFactory()
    acceptance.accepter_name = "Joku muu"
    with pytest.raises(ImmutableRecordError):
        acceptance.save()
    with pytest.raises(ImmutableRecordError):
        acceptance.delete()
    with pytest.raises(ImmutableRecordError):
        TermsAcceptance.objects.filter(pk=acceptance.pk).update(accepter_name="Joku muu")
    with pytest.raises(ImmutableRecordError):
        TermsAcceptance.objects.all().delete()
    acceptance.refresh_from_db()
    assert acceptance.accepter_name == "Riikka Rehtori"


def test_the_database_refuses_to_change_or_delete_an_acceptance_in_raw_sql():
    acceptance = TermsAcceptanceFactory()
    for statement in (
        "UPDATE onboarding_termsacceptance SET accepter_name = 'X' WHERE id = %s",
        "DELETE FROM onboarding_termsacceptance WHERE id = %s",
    ):
        with (
            pytest.raises(ProgrammingError, match="Acceptances of the terms are evidence"),
            transaction.atomic(),
            connection.cursor() as cursor,
        ):
            cursor.execute(statement, [acceptance.pk])
    acceptance.refresh_from_db()
    assert acceptance.accepter_name == "Riikka Rehtori"


def test_an_organisation_with_an_acceptance_cannot_be_deleted():
    acceptance = TermsAcceptanceFactory()
    with pytest.raises(ProtectedError):
        acceptance.organisation.delete()


def test_bulk_writes_refuse_published_versions_with_a_clear_message_but_not_drafts():
    terms, draft = published_terms(), TermsVersionFactory()
    with pytest.raises(ImmutableRecordError, match="can no longer be changed"):
        TermsVersion.objects.update(text_fi="Muutettu")
    with pytest.raises(ImmutableRecordError, match="cannot be deleted"):
        TermsVersion.objects.filter(pk=terms.pk).delete()
    assert TermsVersion.objects.filter(pk=draft.pk).update(text_fi="Luonnos") == 1
    TermsVersion.objects.filter(pk=draft.pk).delete()
    terms.refresh_from_db()
    assert terms.text_fi != "Muutettu"


def test_a_version_label_that_would_break_its_address_is_refused():
    from django.core.exceptions import ValidationError

    with pytest.raises(ValidationError, match="letters, digits"):
        TermsVersionFactory.build(version="2024/1").full_clean()
    TermsVersionFactory.build(version="2024-1.b_2").full_clean()

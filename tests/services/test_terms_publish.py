from __future__ import annotations

from datetime import UTC, datetime

import pytest
from django.core.exceptions import ValidationError

from onboarding.services import terms_publish
from tests.factories import TermsVersionFactory, published_terms

pytestmark = pytest.mark.django_db


def test_publishing_records_the_time_and_the_hash():
    when = datetime(2024, 5, 2, 9, 0, tzinfo=UTC)
    terms = terms_publish(terms_version=TermsVersionFactory(), now=when)
    terms.refresh_from_db()
    assert terms.published_at == when
    assert terms.content_sha256 == terms.compute_content_sha256()


def test_a_version_without_swedish_text_cannot_be_published():
    draft = TermsVersionFactory(text_sv="")
    with pytest.raises(ValidationError) as error:
        terms_publish(terms_version=draft)
    assert "text_sv" in error.value.message_dict
    draft.refresh_from_db()
    assert not draft.is_published


def test_english_is_optional():
    terms = terms_publish(terms_version=TermsVersionFactory(title_en="", text_en=""))
    assert terms.is_published
    assert b'"en"' not in terms.canonical_content()


def test_a_version_is_published_only_once():
    terms = published_terms()
    with pytest.raises(ValidationError, match="already published"):
        terms_publish(terms_version=terms)

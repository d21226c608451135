"""The committed catalogues: complete in Finnish and Swedish, compiled from what is committed."""

from __future__ import annotations

import re
from pathlib import Path

import polib
import pytest

LOCALE = Path(__file__).resolve().parent.parent / "locale"
LANGUAGES = ["fi", "sv", "en"]


def entries(catalogue) -> dict[tuple[str | None, str], object]:
    translated = {}
    for entry in catalogue:
        if entry.obsolete or "fuzzy" in entry.flags or not entry.msgid:
            continue
        value = dict(entry.msgstr_plural) if entry.msgid_plural else entry.msgstr
        if value:
            translated[(entry.msgctxt, entry.msgid)] = (
                {int(k): v for k, v in value.items()} if entry.msgid_plural else value
            )
    return translated


@pytest.mark.parametrize("language", LANGUAGES)
def test_the_committed_mo_file_matches_its_po_file(language):
    po = polib.pofile(str(LOCALE / language / "LC_MESSAGES" / "django.po"))
    mo = polib.mofile(str(LOCALE / language / "LC_MESSAGES" / "django.mo"))
    assert entries(mo) == entries(po), f"run `make messages` and commit locale/{language}"


@pytest.mark.parametrize("language", ["fi", "sv"])
def test_every_string_is_translated(language):
    po = polib.pofile(str(LOCALE / language / "LC_MESSAGES" / "django.po"))
    missing = [entry.msgid for entry in po.untranslated_entries()]
    fuzzy = [entry.msgid for entry in po.fuzzy_entries()]
    assert not missing, f"untranslated in {language}: {missing[:5]}"
    assert not fuzzy, f"fuzzy in {language}: {fuzzy[:5]}"


@pytest.mark.parametrize("language", ["fi", "sv"])
def test_placeholders_survive_translation(language):
    po = polib.pofile(str(LOCALE / language / "LC_MESSAGES" / "django.po"))
    placeholder = re.compile(r"%\(\w+\)[sd]|\{\{ ?\w+ ?\}\}")
    for entry in po.translated_entries():
        expected = sorted(placeholder.findall(entry.msgid))
        translations = entry.msgstr_plural.values() if entry.msgid_plural else [entry.msgstr]
        for text in translations:
            if entry.msgid_plural and not expected:
                continue
            assert sorted(set(placeholder.findall(text))) == sorted(set(expected)), entry.msgid


@pytest.mark.parametrize("language", ["fi", "sv"])
def test_every_plural_has_its_singular_and_plural_forms(language):
    po = polib.pofile(str(LOCALE / language / "LC_MESSAGES" / "django.po"))
    for entry in po:
        if entry.msgid_plural and not entry.obsolete:
            forms = entry.msgstr_plural
            assert forms.get(0) and forms.get(1), entry.msgid


def test_a_count_reads_right_in_finnish_and_swedish():
    from django.utils import translation
    from django.utils.translation import ngettext

    def published(count: int, language: str) -> str:
        with translation.override(language):
            text = ngettext("%(count)d version published.", "%(count)d versions published.", count)
        return text % {"count": count}

    assert published(1, "fi") != published(3, "fi").replace("3", "1")
    assert published(3, "sv").startswith("3 ")

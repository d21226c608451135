from __future__ import annotations

import pytest
from django.core.management import CommandError, call_command

from onboarding.models import (
    ContactPerson,
    Organisation,
    TermsAcceptance,
    TermsVersion,
    User,
)

pytestmark = pytest.mark.django_db


def counts() -> dict[str, int]:
    return {
        model.__name__: model.objects.count()
        for model in (Organisation, ContactPerson, TermsVersion, TermsAcceptance, User)
    }


def test_demo_data_has_published_terms_and_organisations_in_every_state(settings, capsys):
    settings.DEBUG = True
    call_command("seed_demo")
    terms = TermsVersion.objects.get()
    assert terms.is_published and terms.text_fi and terms.text_sv and terms.text_en
    assert set(Organisation.objects.values_list("membership", flat=True)) == set(
        Organisation.Membership.values
    )
    assert Organisation.objects.test().exists()
    accepted = Organisation.objects.filter(membership="terms_accepted")
    assert all(org.acceptances.exists() for org in accepted)
    output = capsys.readouterr().out
    staff = User.objects.get(is_staff=True)
    assert staff.email in output
    password = output.split(f"{staff.email} / ")[1].split()[0]
    assert staff.check_password(password)


def test_running_it_again_changes_nothing(settings):
    settings.DEBUG = True
    call_command("seed_demo")
    before = counts()
    call_command("seed_demo")
    assert counts() == before


def test_it_refuses_to_run_with_debug_off(settings):
    settings.DEBUG = False
    with pytest.raises(CommandError, match="DEBUG"):
        call_command("seed_demo")
    assert not Organisation.objects.exists()


def test_demo_data_shows_every_case_of_when_the_terms_are_in_force(settings):
    from datetime import date

    from onboarding.services import membership

    settings.DEBUG = True
    call_command("seed_demo")
    organisations = membership.with_basis(Organisation.objects.all())
    bases = {org.name_fi: membership.basis_of(org, today=date(2026, 1, 1)) for org in organisations}

    new_joiner = bases["Järvikylän kunta"]
    assert (new_joiner.basis, new_joiner.in_force_from) == ("terms", date(2025, 2, 12))
    assert new_joiner.member_since == date(2025, 2, 12)
    accepted_before_the_end = bases["Lempäälän kunta"]
    assert accepted_before_the_end.in_force_from == date(2024, 8, 1)
    assert accepted_before_the_end.member_since == date(2018, 5, 2)
    accepted_after_the_end = bases["Koskelan ammattiopisto"]
    assert accepted_after_the_end.in_force_from == date(2024, 9, 18)
    not_accepted = bases["Oppimisalusta Oy"]
    assert (not_accepted.basis, not_accepted.in_force_from, not_accepted.terms_version) == (
        "contract",
        None,
        None,
    )
    assert bases["Kustannus Kirjava Oy"] is None  # lapsed
    assert bases["Testiorganisaatio"].basis == "terms"
    assert Organisation.objects.test().get().sectors == ["basic"]
    assert all(org.sectors for org in Organisation.objects.all())

from __future__ import annotations

from datetime import date

import factory
from django.utils import timezone

from onboarding.identifiers import business_id_check_digit
from onboarding.models import (
    ContactPerson,
    LegacyContract,
    Organisation,
    TermsAcceptance,
    TermsVersion,
    User,
)


def _business_id(n: int) -> str:
    body = f"{1000000 + n * 7:07d}"
    while business_id_check_digit(body) is None:
        body = f"{int(body) + 1:07d}"
    return f"{body}-{business_id_check_digit(body)}"


class UserFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = User
        django_get_or_create = ["email"]

    email = factory.Sequence(lambda n: f"person{n}@example.fi")
    password = factory.django.Password("correct horse battery staple")


class OrganisationFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = Organisation

    oid = factory.Sequence(lambda n: f"1.2.246.562.10.{30000000000 + n}")
    name_fi = factory.Sequence(lambda n: f"Koulutustoimija {n}")
    name_sv = factory.Sequence(lambda n: f"Utbildningsaktör {n}")
    business_id = factory.Sequence(_business_id)
    kind = Organisation.Kind.EDUCATION_PROVIDER


class ContactPersonFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = ContactPerson

    organisation = factory.SubFactory(OrganisationFactory)
    name = factory.Sequence(lambda n: f"Yhteys Henkilö {n}")
    email = factory.Sequence(lambda n: f"contact{n}@example.fi")
    phone = "+358401234567"
    role = ContactPerson.Role.ADMINISTRATIVE
    language = "fi"


class LegacyContractFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = LegacyContract

    organisation = factory.SubFactory(OrganisationFactory, membership="legacy_contract")
    contract_reference = factory.Sequence(lambda n: f"OPH-MPASS-{n:04d}")
    signed_on = date(2019, 1, 15)


class TermsVersionFactory(factory.django.DjangoModelFactory):
    """A draft; use `published_terms()` for a published one."""

    class Meta:
        model = TermsVersion

    version = factory.Sequence(lambda n: f"2024-{n + 1}")
    title_fi = "MPASSid-palvelun käyttöehdot"
    title_sv = "Användarvillkor för MPASSid"
    title_en = "Terms of use of MPASSid"
    text_fi = "1. Palvelu\nMPASSid on tunnistuksenvälityspalvelu."
    text_sv = "1. Tjänsten\nMPASSid är en identifieringsförmedlingstjänst."
    text_en = "1. The service\nMPASSid is an identity brokering service."
    effective_from = date(2023, 12, 19)


def published_terms(**kwargs) -> TermsVersion:
    from onboarding.services import terms_publish

    return terms_publish(terms_version=TermsVersionFactory(**kwargs))


class TermsAcceptanceFactory(factory.django.DjangoModelFactory):
    """Writes evidence directly: for tests of the evidence itself, not of the acceptance rules."""

    class Meta:
        model = TermsAcceptance

    organisation = factory.SubFactory(OrganisationFactory, membership="terms_accepted")
    terms_version = factory.LazyFunction(published_terms)
    accepted_by = factory.SubFactory(UserFactory)
    accepter_name = "Riikka Rehtori"
    accepter_title = "Sivistysjohtaja"
    authority_confirmed = True
    accepted_at = factory.LazyFunction(timezone.now)
    ip_address = "192.0.2.1"
    user_agent = "pytest"
    language = "fi"
    content_sha256 = factory.LazyAttribute(lambda o: o.terms_version.content_sha256)


def current_totp_code(secret: str) -> str:
    """The code an authenticator app shows now for `secret` (30-second steps)."""
    import time

    from allauth.mfa.totp.internal.auth import format_hotp_value, hotp_value

    return format_hotp_value(hotp_value(secret, int(time.time()) // 30))


def backdate(registration, submitted_at) -> None:
    """Move a submission into the past, as tests of waiting times need; the database keeps
    submissions read-only otherwise."""
    import pgtrigger

    from onboarding.models import Registration

    with pgtrigger.ignore("onboarding.Registration:submission_is_evidence"):
        Registration.objects.filter(pk=registration.pk).update(submitted_at=submitted_at)
    registration.refresh_from_db()

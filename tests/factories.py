"""Test data, made as the portal makes it: model factories for what has no rules of its own,
and the services (submitting, publishing, launching) for what has.

The named people and organisations the tests share (alice, bob, charlie, Lempäälä, Borgå)
are fixtures in tests/conftest.py; their addresses are here, for assertions."""

from __future__ import annotations

import uuid
from contextlib import contextmanager
from dataclasses import replace
from datetime import date, datetime, timedelta
from typing import Any

import factory
from allauth.account.models import EmailAddress
from django.db import connection, transaction
from django.db.models import F
from django.utils import timezone

from onboarding import services
from onboarding.identifiers import business_id_check_digit
from onboarding.models import (
    AcceptanceCampaign,
    CampaignMessage,
    ContactPerson,
    LegacyContract,
    Organisation,
    OutgoingEmail,
    Registration,
    TermsAcceptance,
    TermsVersion,
    User,
)
from onboarding.notification_data import (
    AcceptanceDetails,
    ContactDetails,
    Declarations,
    NotificationData,
    OrganisationDetails,
)
from onboarding.services.campaigns import campaign_create, campaign_launch

LEMPAALA = "1.2.246.562.10.74484103937"  # Lempäälän kunta, an education provider
BORGA = "1.2.246.562.10.10000000001"  # Borgå stad
ALICE = "alice@lempaala.fi"  # Lempäälä's administrative contact, who sends its notification
LEMPAALA_IT = "it@lempaala.fi"  # Lempäälä's technical contact
BOB = "bob@borga.fi"  # Borgå's administrative contact
CHARLIE = "charlie@oph.fi"  # OPH staff who review notifications
MALLORY = "mallory@example.fi"  # a contact of nothing, who sent nothing
BROWSER = "Mozilla/5.0 (X11; Linux x86_64; rv:128.0) Gecko/20100101 Firefox/128.0"


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


def verified_user(email: str, **extra: Any) -> User:
    """A person signed up with `email`, the address verified (as after the emailed code)."""
    user = UserFactory(email=email, **extra)
    EmailAddress.objects.create(user=user, email=email, verified=True, primary=True)
    return user


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


def legacy_member(name: str, *administrative: str, language: str = "fi") -> Organisation:
    """A member by a joining agreement, as legacy campaigns ask them: `name`, an administrative
    contact at each address of `administrative` who reads `language`, and a technical contact
    at it.<the first address> (campaigns write to it only at the lapse)."""
    organisation = OrganisationFactory(name_fi=name, membership="legacy_contract")
    for email in administrative:
        ContactPersonFactory(organisation=organisation, email=email, language=language)
    if administrative:
        ContactPersonFactory(
            organisation=organisation, email=f"it.{administrative[0]}", role="technical"
        )
    return organisation


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

    # Never a label a test writes out, such as the `terms` fixture's 2024-1.
    version = factory.Sequence(lambda n: f"2023-{n + 100}")
    title_fi = "MPASSid-palvelun käyttöehdot"
    title_sv = "Användarvillkor för MPASSid"
    title_en = "Terms of use of MPASSid"
    text_fi = "1. Palvelu\nMPASSid on tunnistuksenvälityspalvelu."
    text_sv = "1. Tjänsten\nMPASSid är en identifieringsförmedlingstjänst."
    text_en = "1. The service\nMPASSid is an identity brokering service."
    effective_from = date(2023, 12, 19)


def published_terms(**kwargs) -> TermsVersion:
    draft = TermsVersionFactory(**kwargs)
    return services.terms_publish(
        terms_version=draft, expected_sha256=draft.compute_content_sha256()
    )


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
    """The code an authenticator app shows now for `secret` (30-second steps). Within the
    last 5 seconds of a step it waits for the next one, as a person would, so that a busy
    machine does not check the code after it has changed."""
    import time

    from allauth.mfa.totp.internal.auth import format_hotp_value, hotp_value

    if (left := 30 - time.time() % 30) < 5:
        time.sleep(left + 0.05)
    return format_hotp_value(hotp_value(secret, int(time.time()) // 30))


def backdate(registration, submitted_at) -> None:
    """Move a submission into the past, as tests of waiting times need; the database keeps
    submissions read-only otherwise. Tests connect as a superuser, who may switch the trigger
    off for one transaction; the portal's own database role may not."""
    with triggers_off():
        Registration.objects.filter(pk=registration.pk).update(submitted_at=submitted_at)
    registration.refresh_from_db()


@contextmanager
def triggers_off():
    """Every trigger off inside one transaction, as only a superuser can (tampering with
    evidence, or moving test data into the past); the portal's own database role cannot."""
    with transaction.atomic(), connection.cursor() as cursor:
        cursor.execute("SELECT current_setting('session_replication_role')")
        (before,) = cursor.fetchone()
        cursor.execute("SET LOCAL session_replication_role = replica")
        yield cursor
        cursor.execute("SELECT set_config('session_replication_role', %s, true)", [before])


# Notifications ---------------------------------------------------------------------------------


def contact(
    email: str,
    role: str = "administrative",
    *,
    name: str = "",
    phone: str = "+358401234567",
    language: str = "fi",
) -> ContactDetails:
    """A contact person as the form makes one; unless given, the name is the address's:
    alice@lempaala.fi is Alice."""
    name = name or email.split("@")[0].replace(".", " ").title()
    return ContactDetails(name=name, email=email, phone=phone, role=role, language=language)


def notification_data(
    terms: TermsVersion | None,
    *,
    oid: str = LEMPAALA,
    contacts: list[ContactDetails] | None = None,
    declarations: dict[str, Any] | None = None,
    language: str = "fi",
    **organisation: str,
) -> NotificationData:
    """Lempäälä's notification as the form makes it: alice its administrative contact, its
    IT support the technical one; `terms` None accepts nothing, `language` is that of the
    terms' text read. `organisation` changes the organisation's details."""
    details = OrganisationDetails(
        oid=oid,
        name_fi="Lempäälän kunta",
        name_sv="Lembois kommun",
        name_en="Municipality of Lempäälä",
        business_id="0150783-1",
        kind="education_provider",
    )
    return NotificationData(
        organisation=replace(details, **organisation),
        contacts=tuple(
            contacts
            if contacts is not None
            else [
                contact(ALICE, name="Alice Aaltonen"),
                contact(LEMPAALA_IT, "technical", name="Teemu Tekninen", language="sv"),
            ]
        ),
        declarations=Declarations(learner_numbers_confirmed=True, **(declarations or {})),
        acceptance=None
        if terms is None
        else AcceptanceDetails(
            terms_version=terms.version,
            content_sha256=terms.content_sha256,
            accepter_name="Alice Aaltonen",
            accepter_title="Sivistysjohtaja",
            authority_confirmed=True,
            language=language,
        ),
    )


def submit(
    terms: TermsVersion | None,
    *,
    user: User | None = None,
    data: NotificationData | None = None,
    token: uuid.UUID | None = None,
    content_sha256: str | None = None,
    language: str = "fi",
    ip_address: str | None = "192.0.2.7",
    user_agent: str = BROWSER,
) -> tuple[Registration, bool]:
    """Submit a notification as the view does: (registration, created). Without `data`,
    Lempäälä's (`notification_data`), accepting `terms`."""
    return services.registration_submit(
        user=user or UserFactory(),
        token=token or uuid.uuid4(),
        data=data if data is not None else notification_data(terms),
        terms_version=terms,
        content_sha256=content_sha256
        if content_sha256 is not None
        else (terms.content_sha256 if terms else ""),
        meta=services.RequestMeta(ip_address=ip_address, user_agent=user_agent, language=language),
    )


def notification(
    terms: TermsVersion | None, *, submitted_at: datetime | None = None, **kwargs: Any
) -> Registration:
    """A notification waiting for review, submitted through the service (`submit`'s
    arguments); `submitted_at` moves its submission into the past."""
    if terms is None:
        kwargs.setdefault("data", notification_data(None))
    registration, _created = submit(terms, **kwargs)
    if submitted_at is not None:
        backdate(registration, submitted_at)
    return registration


# Campaigns -------------------------------------------------------------------------------------


def launched_campaign(
    terms: TermsVersion,
    *,
    deadline: date | None = None,
    audience: str = "legacy",
    offsets: list[int] | None = None,
    launched_days_ago: int = 0,
) -> AcceptanceCampaign:
    """A campaign asking for `terms` by `deadline` (in 60 days unless given), launched through
    the service: its targets fixed and invited. With `launched_days_ago`, as if launched and
    invited that many days ago, so that the reminder steps since are owed."""
    campaign = campaign_create(
        terms_version=terms,
        deadline=deadline or timezone.localdate() + timedelta(days=60),
        audience=audience,
        offsets=offsets,
    )
    campaign_launch(campaign_id=campaign.pk)
    if launched_days_ago:
        backdate_launch(campaign, days=launched_days_ago)
    campaign.refresh_from_db()
    return campaign


def backdate_launch(campaign: AcceptanceCampaign, *, days: int) -> None:
    """Move a campaign's launch and its invitations `days` days into the past."""
    AcceptanceCampaign.objects.filter(pk=campaign.pk).update(
        launched_at=F("launched_at") - timedelta(days=days)
    )
    CampaignMessage.objects.filter(campaign=campaign, step=CampaignMessage.INVITATION).update(
        created_at=F("created_at") - timedelta(days=days)
    )


def queued_email(**changes: object) -> OutgoingEmail:
    """A receipt waiting in the outbox, to Alice unless `changes` say otherwise."""
    values: dict[str, object] = {
        "key": f"receipt:1:{ALICE}",
        "kind": OutgoingEmail.Kind.RECEIPT,
        "to": ALICE,
        "language": "fi",
        "subject": "MPASSid: we received your notification",
        "body_text": "Thank you. We received your MPASSid notification.",
        "body_html": "<p>Thank you. We received your MPASSid notification.</p>",
    } | changes
    return OutgoingEmail.objects.create(**values)

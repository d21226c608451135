"""Load demo data for local use: a published terms version and organisations in every state.

Every case of when the terms are in force: a new joiner (Järvikylä), a contract member that
accepted before its contract ended (Lempäälä, terms from 1.8.2024), one that accepted after it
ended (Koskela, terms from its approval), a contract member that has not accepted
(Oppimisalusta), a lapsed one (Kirjava), a non-member and a test organisation, each with sectors.

Idempotent: running it again leaves the data as it was. Refuses to run with DEBUG off.
"""

from __future__ import annotations

from datetime import date, datetime
from pathlib import Path
from zoneinfo import ZoneInfo

from allauth.account.models import EmailAddress
from django.conf import settings
from django.core.management.base import BaseCommand, CommandError
from django.db import transaction

from onboarding import services
from onboarding.models import (
    ContactPerson,
    LegacyContract,
    Organisation,
    TermsAcceptance,
    TermsVersion,
    User,
)
from onboarding.services.acceptances import AcceptanceEvidence

DEMO_DIR = Path(__file__).resolve().parents[2] / "demo"
HELSINKI = ZoneInfo("Europe/Helsinki")
STAFF_EMAIL = "staff@demo.mpassid.test"
STAFF_PASSWORD = "demo-staff-only"  # development data only: the command refuses DEBUG off
MEMBER_EMAIL = "rehtori@lempaala.demo.test"

Kind = Organisation.Kind
Membership = Organisation.Membership
Role = ContactPerson.Role

Sector = Organisation.Sector

ORGANISATIONS = [
    # oid, names (fi, sv, en), business ID, kind, membership, sectors, contacts
    (  # a contract member that accepted before its contract ended: terms from 1.8.2024
        "1.2.246.562.10.74484103937",
        ("Lempäälän kunta", "Lempäälä kommun", "Municipality of Lempäälä"),
        "0150783-1",
        Kind.EDUCATION_PROVIDER,
        Membership.TERMS_ACCEPTED,
        [Sector.EARLY_CHILDHOOD, Sector.PRE_PRIMARY, Sector.BASIC, Sector.GENERAL_UPPER_SECONDARY],
        [
            ("Riikka Rehtori", MEMBER_EMAIL, Role.ADMINISTRATIVE, "fi"),
            ("Teemu Tekninen", "it@lempaala.demo.test", Role.TECHNICAL, "fi"),
        ],
    ),
    (  # a contract member that has not accepted: still on its contract
        "1.2.246.562.10.20000000011",
        ("Oppimisalusta Oy", "Lärplattform Ab", "Learning Platform Ltd"),
        "2345671-3",
        Kind.SERVICE_PROVIDER,
        Membership.LEGACY_CONTRACT,
        [Sector.BASIC, Sector.GENERAL_UPPER_SECONDARY],
        [
            ("Sara Sopimus", "sopimukset@oppimisalusta.demo.test", Role.ADMINISTRATIVE, "fi"),
            ("Tor Teknik", "tech@oppimisalusta.demo.test", Role.TECHNICAL, "sv"),
        ],
    ),
    (  # a contract member that never accepted: lapsed
        "1.2.246.562.10.20000000022",
        ("Kustannus Kirjava Oy", "Förlaget Kirjava Ab", ""),
        "1234567-1",
        Kind.SERVICE_PROVIDER,
        Membership.LAPSED,
        [Sector.BASIC],
        [("Kaisa Kirjava", "kaisa@kirjava.demo.test", Role.ADMINISTRATIVE, "fi")],
    ),
    (  # not a member
        "1.2.246.562.10.20000000033",
        (
            "Rannikon koulutuskuntayhtymä",
            "Kustens utbildningssamkommun",
            "Coastal Education Consortium",
        ),
        "1618033-3",
        Kind.BOTH,
        Membership.NONE,
        [Sector.VOCATIONAL, Sector.LIBERAL_ADULT],
        [("Stina Strand", "stina@kusten.demo.test", Role.ADMINISTRATIVE, "sv")],
    ),
    (  # a new joiner: terms from its approval
        "1.2.246.562.10.20000000044",
        ("Järvikylän kunta", "Järvby kommun", "Municipality of Järvikylä"),
        "2718281-8",
        Kind.EDUCATION_PROVIDER,
        Membership.TERMS_ACCEPTED,
        [Sector.EARLY_CHILDHOOD, Sector.PRE_PRIMARY, Sector.BASIC],
        [
            ("Jaana Järvinen", "jaana@jarvikyla.demo.test", Role.ADMINISTRATIVE, "fi"),
            ("Jussi Järvinen", "it@jarvikyla.demo.test", Role.TECHNICAL, "fi"),
        ],
    ),
    (  # a contract member that accepted after its contract ended: terms from its approval
        "1.2.246.562.10.20000000055",
        ("Koskelan ammattiopisto", "Koskela yrkesinstitut", "Koskela Vocational College"),
        "3141592-6",
        Kind.EDUCATION_PROVIDER,
        Membership.TERMS_ACCEPTED,
        [Sector.VOCATIONAL],
        [
            ("Kalle Koskela", "kalle@koskela.demo.test", Role.ADMINISTRATIVE, "fi"),
            ("Kirsi Koskela", "it@koskela.demo.test", Role.TECHNICAL, "fi"),
        ],
    ),
    (  # a test organisation (node 99): never in the register
        "1.2.246.562.99.00000000001",
        ("Testiorganisaatio", "Testorganisation", "Test organisation"),
        "",
        Kind.EDUCATION_PROVIDER,
        Membership.TERMS_ACCEPTED,
        [Sector.BASIC],
        [("Testi Testaaja", "testi@demo.mpassid.test", Role.TECHNICAL, "fi")],
    ),
]
LEGACY_CONTRACTS = {  # reference, signed on; all end on settings.LEGACY_CONTRACTS_END
    "1.2.246.562.10.74484103937": ("OPH-MPASS-2018-007", date(2018, 5, 2)),
    "1.2.246.562.10.20000000011": ("OPH-MPASS-2019-014", date(2019, 3, 12)),
    "1.2.246.562.10.20000000022": ("OPH-MPASS-2020-031", date(2020, 9, 1)),
    "1.2.246.562.10.20000000055": ("OPH-MPASS-2019-022", date(2019, 8, 20)),
}
ACCEPTANCES = {  # accepted (the notification sent), approved on
    "1.2.246.562.10.74484103937": (datetime(2024, 3, 4, 10, 15, tzinfo=HELSINKI), date(2024, 3, 6)),
    "1.2.246.562.10.20000000044": (
        datetime(2025, 2, 10, 9, 30, tzinfo=HELSINKI),
        date(2025, 2, 12),
    ),
    "1.2.246.562.10.20000000055": (
        datetime(2024, 9, 16, 14, 0, tzinfo=HELSINKI),
        date(2024, 9, 18),
    ),
    "1.2.246.562.99.00000000001": (datetime(2025, 5, 5, 12, 0, tzinfo=HELSINKI), date(2025, 5, 5)),
}


class Command(BaseCommand):
    help = "Load demo data (development only): terms, organisations in every state, a staff user."

    def handle(self, *args, **options):
        if not settings.DEBUG:
            raise CommandError("seed_demo loads demo data and runs only with DEBUG on.")
        with transaction.atomic():
            terms = self.seed_terms()
            self.seed_organisations(terms)
            self.seed_staff()
        self.stdout.write(self.style.SUCCESS("Demo data is in place."))
        self.stdout.write(
            f"Staff sign-in at {settings.SITE_URL}/admin/: {STAFF_EMAIL} / {STAFF_PASSWORD}"
        )
        self.stdout.write(f"Member contact (sign in by emailed code): {MEMBER_EMAIL}")

    def seed_terms(self) -> TermsVersion:
        terms, _created = TermsVersion.objects.get_or_create(
            version="2023-1",
            defaults={
                "title_fi": "MPASSid-palvelun käyttöehdot",
                "title_sv": "Användarvillkor för tjänsten MPASSid",
                "title_en": "Terms of use of the MPASSid service",
                "text_fi": (DEMO_DIR / "terms_fi.txt").read_text(encoding="utf-8"),
                "text_sv": (DEMO_DIR / "terms_sv.txt").read_text(encoding="utf-8"),
                "text_en": (DEMO_DIR / "terms_en.txt").read_text(encoding="utf-8"),
                "change_summary_fi": "Ensimmäinen versio: korvaa liittymissopimukset.",
                "change_summary_sv": "Första versionen: ersätter anslutningsavtalen.",
                "change_summary_en": "First version: replaces the joining agreements.",
                "effective_from": date(2023, 12, 19),
            },
        )
        if not terms.is_published:
            terms = services.terms_publish(
                terms_version=terms,
                expected_sha256=terms.compute_content_sha256(),
                now=datetime(2023, 12, 19, 9, 0, tzinfo=HELSINKI),
            )
        return terms

    def seed_organisations(self, terms: TermsVersion) -> None:
        for oid, names, business_id, kind, membership, sectors, contacts in ORGANISATIONS:
            organisation, _created = Organisation.objects.get_or_create(
                oid=oid,
                defaults={
                    "name_fi": names[0],
                    "name_sv": names[1],
                    "name_en": names[2],
                    "business_id": business_id,
                    "kind": kind,
                    "membership": membership,
                    "sectors": [str(sector) for sector in sectors],
                },
            )
            for name, email, role, language in contacts:
                ContactPerson.objects.get_or_create(
                    organisation=organisation,
                    email=email,
                    role=role,
                    defaults={"name": name, "language": language},
                )
            if oid in LEGACY_CONTRACTS:
                reference, signed_on = LEGACY_CONTRACTS[oid]
                LegacyContract.objects.get_or_create(
                    organisation=organisation,
                    contract_reference=reference,
                    defaults={"signed_on": signed_on},
                )
            if oid in ACCEPTANCES:
                self.seed_acceptance(organisation, terms, contacts[0], *ACCEPTANCES[oid])

    def seed_acceptance(self, organisation, terms, contact, accepted_at, approved_on) -> None:
        if TermsAcceptance.objects.filter(organisation=organisation, terms_version=terms).exists():
            return
        name, email, _role, language = contact
        user = self.verified_user(email)
        services.acceptance_record(
            organisation=organisation,
            terms_version=terms,
            user=user,
            approved_on=approved_on,
            evidence=AcceptanceEvidence(
                accepter_name=name,
                accepter_title="Sivistysjohtaja",
                authority_confirmed=True,
                accepted_at=accepted_at,
                language=language,
                content_sha256=terms.content_sha256,
                ip_address="192.0.2.10",
                user_agent="seed_demo",
            ),
        )

    def verified_user(self, email: str, **extra) -> User:
        user, _created = User.objects.get_or_create(email=email, defaults=extra)
        EmailAddress.objects.get_or_create(
            user=user, email=email, defaults={"verified": True, "primary": True}
        )
        return user

    def seed_staff(self) -> None:
        staff = self.verified_user(STAFF_EMAIL, is_staff=True, is_superuser=True)
        if not staff.check_password(STAFF_PASSWORD):
            staff.set_password(STAFF_PASSWORD)
            staff.save(update_fields=["password"])

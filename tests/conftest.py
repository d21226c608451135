from __future__ import annotations

from datetime import date

import pytest

from onboarding.models import Organisation, TermsVersion, User
from tests.environment import CHROMIUM, POSTGRES, REDIS, available, in_ci
from tests.factories import (
    ALICE,
    BOB,
    BORGA,
    CHARLIE,
    LEMPAALA,
    LEMPAALA_IT,
    MALLORY,
    ContactPersonFactory,
    OrganisationFactory,
    UserFactory,
    published_terms,
    verified_user,
)

# Which marker or fixture needs which outside service.
DB_FIXTURES = {
    "db",
    "transactional_db",
    "django_db_setup",
    "live_server",
    "admin_client",
    "admin_user",
    "django_user_model",
}


def _needs(item: pytest.Item):
    fixtures = set(getattr(item, "fixturenames", ()))
    if item.get_closest_marker("django_db") or fixtures & DB_FIXTURES:
        yield POSTGRES
    if item.get_closest_marker("redis"):
        yield REDIS
    if item.get_closest_marker("browser"):
        yield CHROMIUM


def pytest_collection_modifyitems(config, items):
    missing = {}
    for item in items:
        for service in _needs(item):
            if not available(service):
                missing.setdefault(service, []).append(item)
    if not missing:
        return
    if in_ci():
        lines = "\n".join(f"- {service.missing_message()}" for service in missing)
        raise pytest.UsageError(f"CI=true and services the tests need are missing:\n{lines}")
    for service, needing in missing.items():
        skip = pytest.mark.skip(reason=service.missing_message())
        for item in needing:
            item.add_marker(skip)


def pytest_report_header(config):
    return [
        f"{service.name}: {'available' if available(service) else 'MISSING'}"
        for service in (POSTGRES, REDIS, CHROMIUM)
    ]


@pytest.fixture(scope="session", autouse=True)
def _flush_past_the_evidence_triggers():
    """Transactional tests empty the database with TRUNCATE, which the evidence tables refuse
    (migration 0014); the tests' superuser switches the triggers off for that one transaction,
    as only a superuser can."""
    from django.db.backends.postgresql.operations import DatabaseOperations

    sql_flush = DatabaseOperations.sql_flush

    def flush_without_triggers(self, style, tables, **kwargs):
        statements = sql_flush(self, style, tables, **kwargs)
        return ["SET LOCAL session_replication_role = replica", *statements] if statements else []

    DatabaseOperations.sql_flush = flush_without_triggers
    yield
    DatabaseOperations.sql_flush = sql_flush


@pytest.fixture(autouse=True)
def _empty_cache():
    """Each test starts with an empty cache: allauth's rate-limit counters (one address asking
    for many codes in the fuzz tests) and cached pages must not carry over to the next test."""
    from django.core.cache import cache

    cache.clear()


@pytest.fixture(autouse=True)
def _english_outside_requests():
    """Messages raised outside a request read in English in assertions; requests still get
    the language that LocaleMiddleware picks (Finnish by default)."""
    from django.utils import translation

    with translation.override("en"):
        yield


@pytest.fixture
def admin_user(admin_user):
    """OPH staff as production has them: with a second factor (TOTP) set up."""
    from allauth.mfa.totp.internal.auth import TOTP, generate_totp_secret

    TOTP.activate(admin_user, generate_totp_secret())
    return admin_user


@pytest.fixture
def committing_client(client, django_capture_on_commit_callbacks):
    """`client` whose requests end as in production: what waits for the request's commit
    (the sending of an email it wrote) runs when it answers. The test's own transaction,
    around every request, never commits."""
    request = client.request

    def committing(**kwargs):
        with django_capture_on_commit_callbacks(execute=True):
            return request(**kwargs)

    client.request = committing
    return client


# The people and organisations the tests share ---------------------------------------------------
# Their addresses are in tests/factories.py, for assertions.


@pytest.fixture
def terms() -> TermsVersion:
    """The terms of use in force: version 2024-1, published, in effect since 1 January 2024."""
    return published_terms(version="2024-1", effective_from=date(2024, 1, 1))


@pytest.fixture
def alice() -> User:
    """Alice, Lempäälä's principal: she sends its notification, naming herself its
    administrative contact (`notification_data`); with `lempaala`, she is that contact."""
    return verified_user(ALICE)


@pytest.fixture
def lempaala() -> Organisation:
    """Lempäälän kunta, an education provider, a member by its joining agreement: its active
    contacts are alice (administrative, Finnish) and its IT support (technical, Swedish)."""
    organisation = OrganisationFactory(
        oid=LEMPAALA,
        name_fi="Lempäälän kunta",
        name_sv="Lembois kommun",
        name_en="Municipality of Lempäälä",
        business_id="0150783-1",
        membership="legacy_contract",
    )
    ContactPersonFactory(organisation=organisation, email=ALICE, name="Alice Aaltonen")
    ContactPersonFactory(
        organisation=organisation,
        email=LEMPAALA_IT,
        name="Teemu Tekninen",
        role="technical",
        language="sv",
    )
    return organisation


@pytest.fixture
def borga() -> Organisation:
    """Borgå stad, another member by its joining agreement: bob is its administrative
    contact (Swedish)."""
    organisation = OrganisationFactory(
        oid=BORGA, name_fi="Porvoon kaupunki", name_sv="Borgå stad", membership="legacy_contract"
    )
    ContactPersonFactory(organisation=organisation, email=BOB, name="Bob Berg", language="sv")
    return organisation


@pytest.fixture
def bob(borga) -> User:
    """Bob, the administrative contact of Borgå: another organisation's."""
    return verified_user(BOB)


@pytest.fixture
def charlie() -> User:
    """Charlie, OPH staff who review notifications (and are told of them)."""
    return UserFactory(email=CHARLIE, is_staff=True)


@pytest.fixture
def mallory() -> User:
    """Mallory, signed up with a verified address: a contact of nothing, who sent nothing."""
    return verified_user(MALLORY)

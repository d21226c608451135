from __future__ import annotations

import pytest

from tests.environment import CHROMIUM, POSTGRES, REDIS, available, in_ci

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

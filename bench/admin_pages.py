"""Staff's lists and the review page at 10,000 organisations.

Seeds 10,000 organisations with two contacts each (bulk inserts), ACCEPTANCES of them with an
acceptance (each saved through TermsAcceptance.save, so the evidence's hash chain holds),
NOTIFICATIONS notifications waiting for review (through the submit service, with their emails)
and an email to every organisation (bulk inserted, sent). Then times each page with Django's
test client, signed in as staff with a second factor, beside a minimal view (a constant
answer) requested the same way through the same middleware in the same run: the median of
RUNS requests each, after one to warm up, and the queries of one. All of it in one
transaction, rolled back at the end (only GETs are timed).
"""

from __future__ import annotations

import os
import statistics
import time

from django.http import HttpResponse
from django.urls import path

ORGANISATIONS = int(os.environ.get("BENCH_ADMIN_ORGANISATIONS", "10000"))
ACCEPTANCES = int(os.environ.get("BENCH_ADMIN_ACCEPTANCES", "2000"))
NOTIFICATIONS = 100
RUNS = 7
GOAL = 3.0  # times the minimal view's time


def minimal(request):
    return HttpResponse("ok", content_type="text/plain")


def _urlpatterns():
    from portal.urls import urlpatterns

    return [path("bench/minimal/", minimal), *urlpatterns]


def __getattr__(name):  # the URLconf of the run: the site's and the minimal view
    if name == "urlpatterns":
        return _urlpatterns()
    raise AttributeError(name)


def _seed() -> int:
    """The data; returns the id of a notification to review."""
    import uuid

    from django.test.utils import override_settings
    from django.utils import timezone

    from bench import acceptance, education_providers
    from onboarding import services
    from onboarding.models import ContactPerson, OutgoingEmail, User
    from tests.factories import notification_data, published_terms

    terms = published_terms(
        version="2024-1",
        effective_from=timezone.localdate(),
    )
    organisations = education_providers(
        range(ORGANISATIONS),
        oid_base=40_000_000_000,
        membership=lambda n: "terms_accepted" if n < ACCEPTANCES else "legacy_contract",
    )
    ContactPerson.objects.bulk_create(
        ContactPerson(
            organisation=organisation,
            name=f"Yhteys Henkilö {organisation.pk}-{c}",
            email=f"yhteys.{c}@koulutustoimija{organisation.pk}.fi",
            phone="+358401234567",
            role=["administrative", "technical"][c],
            language="fi",
        )
        for organisation in organisations
        for c in range(2)
    )
    accepter = User.objects.create_user(email="rehtori@example.fi", password=None)
    for organisation in organisations[:ACCEPTANCES]:
        acceptance(organisation, terms, accepter, accepted_at=timezone.now())
    OutgoingEmail.objects.bulk_create(
        OutgoingEmail(
            key=f"bench:{organisation.pk}",
            kind="campaign_invitation",
            organisation=organisation,
            to=f"yhteys.0@koulutustoimija{organisation.pk}.fi",
            language="fi",
            subject="MPASSid: hyväksykää käyttöehdot",
            body_text="Hyvä vastaanottaja, " * 40,
            status="sent",
            sent_at=timezone.now(),
            next_attempt_at=None,
        )
        for organisation in organisations
    )
    submitter = User.objects.create_user(email="hakija@example.fi", password=None)
    with override_settings(NOTIFICATIONS_PER_PERSON_PER_HOUR=NOTIFICATIONS):
        for n in range(NOTIFICATIONS):
            registration, _created = services.registration_submit(
                user=submitter,
                token=uuid.uuid4(),
                data=notification_data(None, oid=f"1.2.246.562.10.{50_000_000_000 + n}"),
                terms_version=None,
                content_sha256="",
                meta=services.RequestMeta(
                    ip_address="192.0.2.7", user_agent="bench", language="fi"
                ),
            )
    return registration.pk


def _client():
    from allauth.mfa.totp.internal.auth import TOTP, generate_totp_secret
    from django.test import Client

    from onboarding.models import User

    staff = User.objects.create_superuser(email="charlie@oph.fi", password="bench-only-password")
    TOTP.activate(staff, generate_totp_secret())
    client = Client()
    client.force_login(staff)
    return client


def _measure(client, url: str) -> tuple[float, int]:
    """The median seconds of RUNS requests (after one to warm up) and one's queries."""
    from django.db import connection

    from bench import _QueryCounter

    assert client.get(url).status_code == 200, url
    counter = _QueryCounter()
    with connection.execute_wrapper(counter):
        client.get(url)
    times = []
    for _ in range(RUNS):
        started = time.perf_counter()
        response = client.get(url)
        times.append(time.perf_counter() - started)
        assert response.status_code == 200, url
    return statistics.median(times), counter.count


def run() -> None:
    from django.db import transaction

    from portal.celery import app

    app.conf.task_always_eager = False  # the notifications' emails wait in the broker, unsent
    # All in one transaction, rolled back at the end: the next benchmark (import_legacy) needs
    # an empty database, and the evidence tables refuse deletes. Only GETs are timed.
    with transaction.atomic():
        results, seeded, review = _seed_and_measure()
        transaction.set_rollback(True)
    _print(results, seeded)


def _seed_and_measure():
    from django.test.utils import override_settings
    from django.urls import reverse

    started = time.perf_counter()
    review = _seed()
    seeded = time.perf_counter() - started
    with override_settings(ROOT_URLCONF=__name__):
        client = _client()
        pages = [("minimal view", "/bench/minimal/")]
        for model in (
            "organisation",
            "contactperson",
            "termsacceptance",
            "pendingregistration",
            "registration",
            "outgoingemail",
        ):
            pages.append((f"{model} list", reverse(f"admin:onboarding_{model}_changelist")))
        pages.append(
            (
                "organisation list, searched",
                reverse("admin:onboarding_organisation_changelist") + "?q=Koulutustoimija+99",
            )
        )
        pages.append(
            ("review page", reverse("admin:onboarding_registration_change", args=[review]))
        )
        results = [(label, *_measure(client, url)) for label, url in pages]
    return results, seeded, review


def _print(results, seeded: float) -> None:
    print(
        f"Admin pages at {ORGANISATIONS:,} organisations ({2 * ORGANISATIONS:,} contacts, "
        f"{ACCEPTANCES:,} acceptances, {NOTIFICATIONS} notifications to review, "
        f"{ORGANISATIONS + 3 * NOTIFICATIONS:,}+ emails; seeded in {seeded:.0f} s); "
        f"test client, median of {RUNS}"
    )
    width = max(len(label) for label, *_ in results)
    baseline = results[0][1]
    print(f"{'':{width}}  {'median':>9}  {'× minimal':>9}  {'queries':>7}  goal ≤ {GOAL:.0f}×")
    for label, seconds, queries in results:
        ratio = seconds / baseline
        mark = "" if label == "minimal view" else ("met" if ratio <= GOAL else "missed")
        print(f"{label:{width}}  {seconds * 1000:>6.1f} ms  {ratio:>8.1f}×  {queries:>7}  {mark}")


if __name__ == "__main__":
    from bench import run_alone

    run_alone(run)

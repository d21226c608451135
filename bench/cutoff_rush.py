"""The cutoff rush: 500 people sign in and each sends one notification within a minute.

gunicorn (2 sync workers) serves the portal with production settings (DEBUG off, the
benchmark's PostgreSQL database, the Redis cache of `bench.public_pages`, a Celery broker on a
Redis database no test uses and no worker reads: the emails stay queued in the outbox, as the
web process leaves them in production). 500 members with a password and a verified address are
made in bulk; each client, on its own httpx session, signs in as members do, with a code sent
by email (read from the outbox, where the web process wrote it), or with RUSH_SIGN_IN=password
through allauth's password form, and sends a notification of its own new organisation (a
distinct node-10 OID) as a browser does: the start page, the OID, the form, check your
answers, submit, each redirect followed. CLIENTS sessions run at once, their starts spread
evenly over SPREAD_SECONDS.

Each client sends a distinct X-Forwarded-For (as nginx would, TRUSTED_PROXY_COUNT=1), else
allauth's limits per address would refuse most of them, and X-Forwarded-Proto: https. The
cookies are __Host- and Secure, which an HTTP client keeps to HTTPS: each session keeps its
own and sends them itself.

Afterwards the database is asked how many notifications were stored and whether any OID came
twice. `python -m bench.cutoff_rush` runs this one alone.
"""

from __future__ import annotations

import os
import re
import statistics
import time
from collections import Counter
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from datetime import date
from http.cookies import SimpleCookie

from bench import machine
from bench.public_pages import served

PEOPLE = int(os.environ.get("RUSH_PEOPLE", "500"))
CLIENTS = 32
SPREAD_SECONDS = 50.0  # the last client starts here, leaving ten seconds of the minute
BROKER_URL = "redis://127.0.0.1:6379/9"  # no test uses it and no worker reads it
PASSWORD = "cutoff-rush-" + "p" * 16  # noqa: S105 (the benchmark's own users)
OID_BASE = 60_000_000_000  # 1.2.246.562.10.6xxxxxxxxxx: real-shaped, 11 digits, no other bench's
LOGIN = "/en/accounts/login/"
LOGIN_CODE = "/en/accounts/login/code/"
# How people sign in: "code" (an emailed code, every member's way) or "password".
SIGN_IN = os.environ.get("RUSH_SIGN_IN", "code")


def oid_of(n: int) -> str:
    return f"1.2.246.562.10.{OID_BASE + n * 7907}"


def email_of(n: int) -> str:
    return f"rehtori{n:03d}@koulu{n:03d}.example.fi"


def address_of(n: int) -> str:
    return f"198.18.{n // 250}.{n % 250 + 1}"  # the benchmarking range, one per person


@dataclass
class Flow:
    """One person's sign-in and notification: what the server answered and how long it took."""

    person: int
    requests: int = 0
    statuses: Counter = field(default_factory=Counter)
    failure: str = ""
    sign_in_seconds: float = 0.0
    submit_seconds: float = 0.0
    flow_seconds: float = 0.0
    finished_at: float = 0.0


def run() -> None:
    seed()
    _flush_broker()
    try:
        with served(
            CELERY_BROKER_URL=BROKER_URL,
            TRUSTED_PROXY_COUNT="1",
            ORGANISATION_SERVICE_URL="",  # no lookups in OPH's registry from a benchmark
        ) as base:
            flows, seconds = rush(base)
    finally:
        queued = _flush_broker()
    print_results(flows, seconds=seconds, queued=queued)


def seed() -> None:
    """The terms in force (published unless another benchmark did) and PEOPLE members who
    signed up with a password and verified their address, made in bulk."""
    from allauth.account.models import EmailAddress
    from django.contrib.auth.hashers import PBKDF2PasswordHasher

    from onboarding import selectors
    from onboarding.models import User
    from tests.factories import published_terms

    if selectors.current_terms() is None:
        published_terms(
            version="cutoff-rush",  # public_pages, run after it by `make bench`, makes 2024-1
            effective_from=date(2023, 1, 1),
        )
    # Production's hasher (Django's default, PBKDF2): tests.settings hashes with MD5, which the
    # server under production settings would not know. One hash serves all: one password.
    password = PBKDF2PasswordHasher().encode(PASSWORD, PBKDF2PasswordHasher().salt())
    users = User.objects.bulk_create(
        [User(email=email_of(n), password=password) for n in range(PEOPLE)]
    )
    EmailAddress.objects.bulk_create(
        [EmailAddress(user=u, email=u.email, verified=True, primary=True) for u in users]
    )


def rush(base: str) -> tuple[list[Flow], float]:
    started = time.monotonic()
    starts = [started + SPREAD_SECONDS * n / max(PEOPLE - 1, 1) for n in range(PEOPLE)]

    def person(n: int) -> Flow:
        delay = starts[n] - time.monotonic()
        if delay > 0:
            time.sleep(delay)
        return sign_in_and_notify(base, n)

    with ThreadPoolExecutor(max_workers=CLIENTS) as pool:
        flows = list(pool.map(person, range(PEOPLE)))
    return flows, max(f.finished_at for f in flows) - started


class Session:
    """One browser: its own cookies (sent by hand, being Secure), its forwarded address."""

    def __init__(self, base: str, n: int, flow: Flow):
        import httpx

        self.base = base
        self.flow = flow
        self.cookies: dict[str, str] = {}
        self.client = httpx.Client(
            base_url=base,
            timeout=120,
            follow_redirects=False,
            headers={
                "X-Forwarded-For": address_of(n),
                "X-Forwarded-Proto": "https",
                "Origin": "https://" + base.removeprefix("http://"),
                "User-Agent": "bench.cutoff_rush",
            },
        )

    def request(self, method: str, path: str, data: dict | None = None):
        """The answer at the end of the redirects, as a browser follows them."""
        while True:
            cookie = "; ".join(f"{k}={v}" for k, v in self.cookies.items())
            response = self.client.request(
                method, path, data=data, headers={"Cookie": cookie} if cookie else {}
            )
            self.flow.requests += 1
            self.flow.statuses[response.status_code] += 1
            for header in response.headers.get_list("set-cookie"):
                for name, morsel in SimpleCookie(header).items():
                    if morsel["max-age"] == "0" or not morsel.value:
                        self.cookies.pop(name, None)
                    else:
                        self.cookies[name] = morsel.value
            if response.status_code in (301, 302, 303):
                method, path, data = "GET", response.headers["location"], None
                continue
            if response.status_code != 200:
                raise RuntimeError(f"{method} {path} answered {response.status_code}")
            return response

    def csrf(self, html: str) -> str:
        return re.search(r'name="csrfmiddlewaretoken" value="([^"]+)"', html)[1]


def sign_in_and_notify(base: str, n: int) -> Flow:
    flow = Flow(person=n)
    session = Session(base, n, flow)
    oid = oid_of(n)
    began = time.monotonic()
    try:
        page = (sign_in_with_a_code if SIGN_IN == "code" else sign_in_with_a_password)(session, n)
        if "/organisations/" not in str(page.url):
            raise RuntimeError(f"the sign-in ended at {page.url}")
        flow.sign_in_seconds = time.monotonic() - began
        page = session.request("GET", "/en/notify/").text
        page = session.request(
            "POST", "/en/notify/", {"csrfmiddlewaretoken": session.csrf(page), "oid": oid}
        )
        form_path = f"/en/notify/{oid}/"
        if str(page.url.path) != form_path:
            raise RuntimeError(f"the OID led to {page.url}")
        page = page.text
        terms_version = re.search(r'name="terms_version" value="([^"]*)"', page)[1]
        token = re.search(r'name="token" value="([^"]+)"', page)[1]
        page = session.request(
            "POST",
            form_path,
            notification_post(n, token, terms_version, session.csrf(page)),
        )
        if str(page.url.path) != f"{form_path}check/":
            raise RuntimeError(f"the form did not go to the check page: {page.url}")
        submitting = time.monotonic()
        page = session.request(
            "POST",
            f"{form_path}submit/",
            {"csrfmiddlewaretoken": session.csrf(page.text), "token": token},
        )
        flow.submit_seconds = time.monotonic() - submitting  # with the receipt page it leads to
        if not str(page.url.path).startswith("/en/registrations/"):
            raise RuntimeError(f"the submit ended at {page.url}")
    except Exception as error:  # noqa: BLE001 (counted and reported, the rush goes on)
        flow.failure = f"{type(error).__name__}: {error}"
    finally:
        session.client.close()
    flow.finished_at = time.monotonic()
    flow.flow_seconds = flow.finished_at - began
    return flow


def sign_in_with_a_password(session: Session, n: int):
    """The login page, the password posted: the way of the few members who set one."""
    page = session.request("GET", LOGIN).text
    return session.request(
        "POST",
        LOGIN,
        {"csrfmiddlewaretoken": session.csrf(page), "login": email_of(n), "password": PASSWORD},
    )


def sign_in_with_a_code(session: Session, n: int):
    """The login page, the address posted, the code from the email posted: every member's way
    (README). The code is read from its email in the outbox, where the web process wrote it
    (no worker sends it here)."""
    page = session.request("GET", LOGIN).text
    page = session.request(
        "POST", LOGIN_CODE, {"csrfmiddlewaretoken": session.csrf(page), "email": email_of(n)}
    )
    if not str(page.url.path).endswith("/login/code/confirm/"):
        raise RuntimeError(f"asking for a code ended at {page.url}")
    return session.request(
        "POST",
        str(page.url.path),
        {"csrfmiddlewaretoken": session.csrf(page.text), "code": _code_sent_to(email_of(n))},
    )


CODE = re.compile(r"^\s*([A-Z0-9]{4}-?[A-Z0-9]{2,4})\s*$", re.MULTILINE)


def _code_sent_to(address: str) -> str:
    from django.db import connection

    from onboarding.models import OutgoingEmail

    try:
        email = OutgoingEmail.objects.filter(kind="sign_in_code", to=address).latest("pk")
        return CODE.search(email.body_text).group(1)
    finally:
        connection.close()  # this client thread's own connection


def notification_post(n: int, token: str, terms_version: str, csrf: str) -> dict[str, str]:
    """What a browser posts: the fields of tests/notification_form.valid_post, made distinct."""
    contacts = [
        (f"Riikka Rehtori {n}", email_of(n), "040 1234567", "administrative", "fi"),
        (f"Teemu Tekninen {n}", "it." + email_of(n), "050 7654321", "technical", "sv"),
        ("", "", "", "security", "fi"),
        ("", "", "", "data_protection", "fi"),
    ]
    data = {
        "csrfmiddlewaretoken": csrf,
        "token": token,
        "name_fi": f"Rushin koulutuskuntayhtymä {n:03d}",
        "name_sv": f"Rush samkommun {n:03d}",
        "name_en": f"Rush joint authority {n:03d}",
        "business_id": "",
        "kind": "education_provider",
        "sectors": "basic",
        "learner_numbers_confirmed": "on",
        "contacts-TOTAL_FORMS": str(len(contacts)),
        "contacts-INITIAL_FORMS": str(len(contacts)),
        "contacts-MIN_NUM_FORMS": "0",
        "contacts-MAX_NUM_FORMS": "20",
        "accepter_name": f"Riikka Rehtori {n}",
        "accepter_title": "Sivistysjohtaja",
        "accept_terms": "on",
        "authority_confirmed": "on",
        "terms_version": terms_version,
    }
    for i, row in enumerate(contacts):
        names = ("name", "email", "phone", "role", "language")
        data.update({f"contacts-{i}-{name}": value for name, value in zip(names, row, strict=True)})
    return data


def _flush_broker() -> int:
    """Empty the broker's database; the number of keys there were (the queued emails' lists)."""
    import redis

    broker = redis.Redis.from_url(BROKER_URL)
    queued = sum(broker.llen(key) for key in broker.scan_iter() if broker.type(key) == b"list")
    broker.flushdb()
    return queued


def _one_password_check() -> float:
    """The seconds one PBKDF2 check of the password takes here, in this process."""
    from django.contrib.auth.hashers import PBKDF2PasswordHasher

    hasher = PBKDF2PasswordHasher()
    encoded = hasher.encode(PASSWORD, hasher.salt())
    started = time.perf_counter()
    hasher.verify(PASSWORD, encoded)
    return time.perf_counter() - started


def _percentiles(values: list[float]) -> str:
    if len(values) < 2:
        return "n/a"
    cuts = statistics.quantiles(values, n=100, method="inclusive")
    return " / ".join(f"{cuts[p - 1] * 1000:.0f}" for p in (50, 95, 99)) + " ms"


def print_results(flows: list[Flow], *, seconds: float, queued: int) -> None:
    from django.contrib.auth.hashers import PBKDF2PasswordHasher
    from django.db.models import Count

    from onboarding.models import OutgoingEmail, Registration

    oids = [oid_of(n) for n in range(PEOPLE)]
    stored = Registration.objects.filter(oid__in=oids)
    twice = stored.values("oid").annotate(n=Count("id")).filter(n__gt=1).count()
    statuses = sum((f.statuses for f in flows), Counter())
    errors = {code: count for code, count in sorted(statuses.items()) if code >= 400}
    failed = [f for f in flows if f.failure]
    done = [f for f in flows if not f.failure]
    requests = sum(f.requests for f in flows)
    print(
        f"Cutoff rush: {PEOPLE} people sign in and each sends one notification; gunicorn 2 "
        f"workers, {CLIENTS} concurrent httpx sessions on loopback, starts spread over "
        f"{SPREAD_SECONDS:.0f} s; production settings (DEBUG off, PostgreSQL, Redis cache, "
        f"emails queued for a Celery worker that is not running); sign-in by {SIGN_IN}"
    )
    print(machine())
    print(
        f"Notifications stored: {stored.count()} of {PEOPLE} "
        f"({stored.values('oid').distinct().count()} distinct OIDs, {twice} OIDs twice); "
        f"{OutgoingEmail.objects.filter(status='queued').count()} emails queued in the outbox, "
        f"{queued} tasks left in the broker's queue"
    )
    print(
        f"HTTP errors: {sum(errors.values())}"
        + (f" ({', '.join(f'{c}: {k}' for c, k in errors.items())})" if errors else "")
        + f"; flows that failed: {len(failed)}"
    )
    for f in failed[:5]:
        print(f"  person {f.person}: {f.failure}")
    print(
        f"All {PEOPLE} flows took {seconds:.1f} s ({'within' if seconds <= 60 else 'OVER'} "
        f"the minute): {requests} requests, {requests / seconds:.1f} requests/s, "
        f"{len(done) / seconds:.1f} notifications/s"
    )
    print(
        f"One password check (PBKDF2, {PBKDF2PasswordHasher.iterations:,} iterations) takes "
        f"{_one_password_check() * 1000:.0f} ms here (in this process, the server idle)"
    )
    print(
        f"Sign-in (login page, {SIGN_IN} posted, the page it leads to) p50 / p95 / p99: "
        f"{_percentiles([f.sign_in_seconds for f in done])}"
    )
    submits = _percentiles([f.submit_seconds for f in done])
    print(f"Submit (with the receipt page it leads to) p50 / p95 / p99: {submits}")
    print(
        "Whole flow (sign-in to receipt page) p50 / p95 / p99: "
        f"{_percentiles([f.flow_seconds for f in done])}"
    )


if __name__ == "__main__":
    from bench import run_alone

    run_alone(run)

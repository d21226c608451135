"""The portal started as production starts it: DEBUG off, a fresh PostgreSQL database migrated,
the static files collected, Redis as cache and broker, gunicorn with deploy/gunicorn.conf.py on
loopback behind what nginx would send (the site's host name, X-Forwarded-Proto: https).
It answers /healthz, the start page in Finnish, a static file under its hashed name, compressed
and cached for a year, and the admin's way to the sign-in; against a database that does not
exist, /healthz answers 503 naming the database."""

from __future__ import annotations

import gzip
import json
import os
import re
import secrets
import shlex
import signal
import socket
import subprocess
import sys
import time
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from urllib.parse import urlsplit

import httpx
import psycopg
import pytest
from psycopg import sql

from tests.environment import POSTGRES, PRODUCTION, Program, available, in_ci

pytestmark = pytest.mark.redis

ROOT = Path(__file__).resolve().parent.parent.parent
HOST = urlsplit(PRODUCTION["SITE_URL"]).hostname
# As nginx sends every request on (deploy/nginx.conf.example).
PROXY_HEADERS = {"Host": HOST, "X-Forwarded-Proto": "https"}
STARTUP_SECONDS = 60  # generous: the test waits for gunicorn, never times it
CURL = Program("curl", "/usr/bin/curl", "apt-get install curl")


def needs(service) -> None:
    """Skips the test when `service` is missing here; with CI=true, fails it."""
    if not available(service):
        if in_ci():
            pytest.fail(f"CI=true and {service.missing_message()}")
        pytest.skip(service.missing_message())


@pytest.fixture(scope="module")
def postgres() -> dict[str, str | int]:
    """Where to reach PostgreSQL as its superuser `postgres` (tests.environment.POSTGRES)."""
    needs(POSTGRES)
    parts = urlsplit(POSTGRES.url)
    host, port = POSTGRES.address
    return {"host": host, "port": port, "user": "postgres", "password": parts.password or ""}


def database_url(server: dict[str, str | int], name: str) -> str:
    password = f":{server['password']}" if server["password"] else ""
    return f"postgres://{server['user']}{password}@{server['host']}:{server['port']}/{name}"


@contextmanager
def fresh_database(server: dict[str, str | int]) -> Iterator[str]:
    """A new, empty database with a unique name, dropped at the end."""
    name = f"mpassid_start_{secrets.token_hex(6)}"
    with psycopg.connect(dbname="postgres", autocommit=True, **server) as admin:
        admin.execute(sql.SQL("CREATE DATABASE {}").format(sql.Identifier(name)))
    try:
        yield name
    finally:
        with psycopg.connect(dbname="postgres", autocommit=True, **server) as admin:
            admin.execute(
                sql.SQL("DROP DATABASE IF EXISTS {} WITH (FORCE)").format(sql.Identifier(name))
            )


def closed_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def production_environment(database: str, static_root: Path) -> dict[str, str]:
    return {
        "PATH": os.environ["PATH"],
        "HOME": os.environ.get("HOME", "/tmp"),
        **PRODUCTION,
        "DATABASE_URL": database,
        "CACHE_URL": "rediscache://127.0.0.1:6379/11",
        "CELERY_BROKER_URL": "redis://127.0.0.1:6379/12",
        "EMAIL_URL": f"smtp://127.0.0.1:{closed_port()}",  # nothing here sends an email
        "STATIC_ROOT": str(static_root),
        "SECURE_SSL_REDIRECT": "true",
    }


def manage(env: dict[str, str], *args: str) -> subprocess.Popen:
    return subprocess.Popen(
        [sys.executable, "manage.py", *args],
        cwd=ROOT,
        env=env,
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        text=True,
    )


def finish(process: subprocess.Popen) -> None:
    output, _ = process.communicate(timeout=180)
    assert process.returncode == 0, output


@contextmanager
def gunicorn(env: dict[str, str], log: Path) -> Iterator[httpx.Client]:
    """gunicorn as mpassid-web.service starts it, on a port the system picks; a client that
    speaks to it as nginx does."""
    with log.open("w") as out:
        server = subprocess.Popen(
            [sys.executable, "-m", "gunicorn", "--config", "deploy/gunicorn.conf.py"]
            + ["--bind", "127.0.0.1:0", "--workers", "2"],
            cwd=ROOT,
            env=env,
            stdout=out,
            stderr=subprocess.STDOUT,
        )
    try:
        address = listening_address(server, log)
        with httpx.Client(base_url=address, headers=PROXY_HEADERS, timeout=30) as client:
            wait_until_answering(client, server, log)
            yield client
    finally:
        server.send_signal(signal.SIGTERM)
        try:
            server.wait(timeout=60)
        except subprocess.TimeoutExpired:
            server.kill()
            server.wait()


def listening_address(server: subprocess.Popen, log: Path) -> str:
    deadline = time.monotonic() + STARTUP_SECONDS
    while time.monotonic() < deadline:
        found = re.search(r"Listening at: (http://127\.0\.0\.1:\d+)", log.read_text())
        if found:
            return found.group(1)
        if server.poll() is not None:
            break
        time.sleep(0.1)
    raise AssertionError(f"gunicorn did not start listening:\n{log.read_text()}")


def wait_until_answering(client: httpx.Client, server: subprocess.Popen, log: Path) -> None:
    """Until a worker answers (the master listens before its workers have booted)."""
    deadline = time.monotonic() + STARTUP_SECONDS
    while time.monotonic() < deadline and server.poll() is None:
        try:
            client.head("/healthz")
            return
        except httpx.TransportError:
            time.sleep(0.1)
    raise AssertionError(f"gunicorn did not answer:\n{log.read_text()}")


def follow(client: httpx.Client, path: str) -> tuple[list[str], httpx.Response]:
    """Follows redirects on this site: the addresses visited, and the last answer."""
    visited = [path]
    response = client.get(path)
    while response.is_redirect and len(visited) < 10:
        location = response.headers["Location"]
        assert location.startswith("/"), f"{visited[-1]} sends elsewhere: {location}"
        visited.append(location)
        response = client.get(location)
    return visited, response


@pytest.fixture(scope="module")
def started(postgres, tmp_path_factory) -> Iterator[tuple[httpx.Client, Path]]:
    """The portal migrated, its static files collected and gunicorn started: a client for it
    and the collected static files' folder."""
    static_root = tmp_path_factory.mktemp("static")
    with fresh_database(postgres) as name:
        env = production_environment(database_url(postgres, name), static_root)
        steps = [manage(env, "migrate", "--no-input"), manage(env, "collectstatic", "--no-input")]
        for step in steps:
            finish(step)
        log = tmp_path_factory.mktemp("gunicorn") / "gunicorn.log"
        with gunicorn(env, log) as client:
            yield client, static_root


def test_healthz_answers_ok_for_the_database_redis_cache_and_redis_broker(started):
    client, _ = started

    response = client.get("/healthz")

    assert response.status_code == 200
    assert response.json() == {
        "status": "ok",
        "checks": {"database": "ok", "cache": "ok", "broker": "ok"},
    }
    assert response.headers["Cache-Control"] == "no-store"
    assert "Set-Cookie" not in response.headers


def web_unit_start_check() -> list[str]:
    """mpassid-web.service's ExecStartPost, as systemd reads it ("%%" is "%", "$$" is "$")."""
    unit = (ROOT / "deploy" / "systemd" / "mpassid-web.service").read_text()
    line = re.search(r"^ExecStartPost=(.*)$", unit, re.MULTILINE).group(1)
    return shlex.split(line.replace("%%", "%").replace("$$", "$"))


def test_the_web_units_start_check_passes_once_healthz_answers(started):
    needs(CURL)
    client, _ = started
    address = str(client.base_url).rstrip("/")
    command = [part.replace("http://127.0.0.1:8000", address) for part in web_unit_start_check()]

    check = subprocess.run(
        command,
        env={"PATH": os.environ["PATH"], "SITE_URL": f"{PRODUCTION['SITE_URL']}/"},
        capture_output=True,
        text=True,
        timeout=120,
    )

    assert check.returncode == 0, check.stderr


def test_plain_http_is_sent_to_https_as_in_production(started):
    client, _ = started

    response = client.get("/healthz", headers={"X-Forwarded-Proto": "http"})

    assert response.status_code == 301
    assert response.headers["Location"] == f"https://{HOST}/healthz"


def test_the_start_page_answers_in_finnish(started):
    client, _ = started

    response = client.get("/")

    assert response.status_code == 200
    assert '<html lang="fi"' in response.text
    assert "Strict-Transport-Security" in response.headers


def test_a_static_file_has_a_hashed_name_is_compressed_and_cached_for_a_year(started):
    client, static_root = started
    manifest = json.loads((static_root / "staticfiles.json").read_text())
    hashed = manifest["paths"]["css/portal.css"]
    assert re.fullmatch(r"css/portal\.[0-9a-f]{12}\.css", hashed)

    response = client.get(f"/static/{hashed}", headers={"Accept-Encoding": "gzip"})

    assert response.status_code == 200
    assert response.headers["Content-Encoding"] == "gzip"
    assert response.headers["Content-Type"].startswith("text/css")
    cache_control = response.headers["Cache-Control"]
    max_age = int(re.search(r"max-age=(\d+)", cache_control).group(1))
    assert max_age >= 365 * 24 * 60 * 60
    assert "immutable" in cache_control
    # httpx unpacked it: the body is the collected file, which gzip made smaller on the wire.
    assert response.content == (static_root / hashed).read_bytes()
    compressed = (static_root / f"{hashed}.gz").read_bytes()
    assert gzip.decompress(compressed) == response.content
    assert len(compressed) < len(response.content)


def test_the_admin_sends_to_the_portals_sign_in_page(started):
    client, _ = started

    visited, response = follow(client, "/admin/")

    assert visited[0] == "/admin/"
    assert urlsplit(visited[-1]).path == "/accounts/login/"
    assert response.status_code == 200
    assert '<html lang="fi"' in response.text


def test_healthz_answers_503_naming_the_database_when_it_does_not_exist(postgres, tmp_path_factory):
    missing = f"mpassid_missing_{secrets.token_hex(6)}"
    env = production_environment(
        database_url(postgres, missing), tmp_path_factory.mktemp("static-unused")
    )
    log = tmp_path_factory.mktemp("gunicorn-no-db") / "gunicorn.log"

    with gunicorn(env, log) as client:
        response = client.get("/healthz")

    assert response.status_code == 503
    assert response.json() == {
        "status": "failing",
        "checks": {"database": "failing", "cache": "ok", "broker": "ok"},
    }
    assert missing not in response.text

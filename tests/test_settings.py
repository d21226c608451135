"""Production settings: start-up refuses missing values, and the deploy checks pass."""

from __future__ import annotations

import os
import re
import subprocess
import sys
from pathlib import Path

import pytest

from tests.environment import PRODUCTION

ROOT = Path(__file__).resolve().parent.parent


def manage(*args: str, env: dict[str, str]) -> subprocess.CompletedProcess:
    clean = {"PATH": os.environ["PATH"], "HOME": os.environ.get("HOME", "/tmp")}
    return subprocess.run(
        [sys.executable, "manage.py", *args],
        cwd=ROOT,
        env={**clean, "DJANGO_SETTINGS_MODULE": "portal.settings", **env},
        capture_output=True,
        text=True,
        timeout=120,
    )


def test_production_settings_pass_the_deploy_checks_without_warnings():
    result = manage("check", "--deploy", "--fail-level", "WARNING", env=PRODUCTION)
    assert result.returncode == 0, result.stderr
    assert "System check identified no issues (0 silenced)." in result.stdout
    assert "WARNINGS" not in result.stderr


@pytest.mark.parametrize(
    "variable",
    [
        "SECRET_KEY",
        "ALLOWED_HOSTS",
        "DATABASE_URL",
        "CELERY_BROKER_URL",
        "EMAIL_URL",
        "SITE_URL",
        "CACHE_URL",
    ],
)
def test_a_missing_required_value_stops_start_up_with_one_line_naming_it(variable):
    env = {k: v for k, v in PRODUCTION.items() if k != variable}
    result = manage("check", env=env)
    assert result.returncode != 0
    lines = result.stderr.strip().splitlines()
    assert lines == [
        f"Configuration error: set the {variable} environment variable "
        "(required when DEBUG is off)."
    ]


def test_an_empty_required_value_counts_as_missing():
    result = manage("check", env={**PRODUCTION, "SECRET_KEY": "  "})
    assert "set the SECRET_KEY environment variable" in result.stderr
    assert result.returncode != 0


KEPT_OPEN = "portal.mail.KeptOpenEmailBackend"


@pytest.mark.parametrize(
    ("email_url", "backend", "tls", "ssl"),
    [
        ("smtp+tls://mailer:secret@smtp.example.fi:587", KEPT_OPEN, True, False),
        ("smtps://mailer:secret@smtp.example.fi:587", KEPT_OPEN, True, False),  # django-environ's
        ("smtp+ssl://mailer:secret@smtp.example.fi:465", KEPT_OPEN, False, True),
        ("smtp://127.0.0.1:25", KEPT_OPEN, False, False),
        ("consolemail://", "django.core.mail.backends.console.EmailBackend", False, False),
    ],
)
def test_every_smtp_relay_gets_the_kept_open_connection(email_url, backend, tls, ssl):
    show = "from django.conf import settings as s; print(s.EMAIL_BACKEND, s.EMAIL_USE_TLS, "
    show += "s.EMAIL_USE_SSL)"
    result = manage("shell", "--no-imports", "-c", show, env={**PRODUCTION, "EMAIL_URL": email_url})
    assert result.returncode == 0, result.stderr
    assert result.stdout.split() == [backend, str(tls), str(ssl)]


def test_development_needs_no_configuration_at_all():
    result = manage("check", env={"DEBUG": "true"})
    assert result.returncode == 0, result.stderr


def test_every_variable_the_settings_read_is_documented_in_env_example():
    source = (ROOT / "portal" / "settings.py").read_text()
    read = set(re.findall(r'(?:env(?:\.\w+)?|required)\(\s*"([A-Z][A-Z0-9_]+)"', source))
    documented = set(re.findall(r"^([A-Z][A-Z0-9_]+)=", (ROOT / ".env.example").read_text(), re.M))
    assert read, "the pattern finds the variables"
    assert sorted(read - documented) == []


def required_by_the_settings() -> set[str]:
    source = (ROOT / "portal" / "settings.py").read_text()
    names = set(re.findall(r'required\(\s*"([A-Z][A-Z0-9_]+)"', source))
    assert "SECRET_KEY" in names, "the pattern finds them"
    return names


@pytest.mark.parametrize("document", ["README.md", "deploy/README.md"])
def test_the_readmes_list_exactly_the_required_values(document):
    text = " ".join((ROOT / document).read_text().split())
    sentence = re.search(r"With `DEBUG=false` these are required: (.*?)\. ", text)
    assert sentence, f"{document} has the sentence listing the required values"
    listed = set(re.findall(r"`([A-Z][A-Z0-9_]+)`", sentence.group(1)))
    assert listed == required_by_the_settings()


def test_env_example_marks_exactly_the_required_values():
    text = (ROOT / ".env.example").read_text()
    marked = set(re.findall(r"^# required\b.*\n([A-Z][A-Z0-9_]+)=", text, re.M))
    assert marked == required_by_the_settings()

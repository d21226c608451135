"""Gunicorn with deploy/gunicorn.conf.py (as deploy/systemd/mpassid-web.service starts it): a
configuration error stops gunicorn itself with the settings' one-line message, instead of
workers that crash and respawn while the master keeps the port open."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
from pathlib import Path

from tests.environment import PRODUCTION

ROOT = Path(__file__).resolve().parent.parent.parent
GUNICORN = [sys.executable, "-m", "gunicorn", "--config", "deploy/gunicorn.conf.py"]


def gunicorn(env: dict[str, str]) -> subprocess.Popen:
    clean = {"PATH": os.environ["PATH"], "HOME": os.environ.get("HOME", "/tmp")}
    return subprocess.Popen(
        [*GUNICORN, "--bind", "127.0.0.1:0", "--workers", "2"],
        cwd=ROOT,
        env={**clean, **env},
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )


def test_a_missing_setting_stops_gunicorn_with_the_one_line_message():
    server = gunicorn({k: v for k, v in PRODUCTION.items() if k != "SECRET_KEY"})
    try:
        _out, err = server.communicate(timeout=120)  # it ends by itself, or the test fails
    finally:
        server.kill()

    assert server.returncode != 0
    assert (
        "Configuration error: set the SECRET_KEY environment variable (required when DEBUG is off)."
    ) in err.splitlines()
    assert "Traceback" not in err
    assert "Booting worker" not in err


def test_a_complete_configuration_starts_the_workers():
    server = gunicorn(PRODUCTION)
    try:
        for line in server.stderr:  # gunicorn logs to stderr (errorlog "-")
            if "Booting worker" in line:
                break
        else:
            raise AssertionError("gunicorn ended without starting a worker")
    finally:
        server.send_signal(signal.SIGTERM)
        server.communicate(timeout=60)

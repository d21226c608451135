"""The locks pin exactly what pyproject.toml asks for: production and CI install from them.

requirements.lock (production) and requirements-test.lock (CI, developers) are written by
`make lock`, which records in each the SHA-256 of pyproject.toml's dependency tables. These
tests read the files only (no network).
"""

import hashlib
import json
import re
import tomllib
from pathlib import Path

import pytest
from packaging.requirements import Requirement
from packaging.utils import canonicalize_name
from packaging.version import Version

ROOT = Path(__file__).resolve().parent.parent
PYPROJECT = tomllib.loads((ROOT / "pyproject.toml").read_text())
PRODUCTION_LOCK = ROOT / "requirements.lock"
TEST_LOCK = ROOT / "requirements-test.lock"
RELOCK = "pyproject.toml and the locks disagree: run `make lock`, review the diff and commit it"

# The platform the locks are made for (`LOCK_TARGET` in the Makefile): CI's and production's.
TARGET = {
    "python_version": "3.11",
    "python_full_version": "3.11.0",
    "sys_platform": "linux",
    "platform_system": "Linux",
    "platform_machine": "x86_64",
    "os_name": "posix",
    "implementation_name": "cpython",
    "platform_python_implementation": "CPython",
}


def pyproject_sha256():
    """The digest `make lock` writes (PYPROJECT_SHA256 in the Makefile)."""
    project = PYPROJECT["project"]
    tables = {
        "requires-python": project["requires-python"],
        "dependencies": project["dependencies"],
        "optional-dependencies": project.get("optional-dependencies", {}),
        "build-system.requires": PYPROJECT["build-system"]["requires"],
    }
    return hashlib.sha256(json.dumps(tables, sort_keys=True).encode()).hexdigest()


def read_lock(path):
    """The lock's recorded digest, and its pins: {name: (version, [hashes])}."""
    text = path.read_text()
    recorded = re.search(r"^# pyproject-sha256: ([0-9a-f]{64})$", text, re.MULTILINE)
    pins = {}
    for entry in re.sub(r"\\\n", " ", text).splitlines():
        entry = entry.split("#", 1)[0].strip()
        if not entry:
            continue
        requirement, *options = entry.split()
        name, sep, version = requirement.partition("==")
        assert sep and re.fullmatch(r"[A-Za-z0-9_.\-]+", name), (
            f"{path.name}: {requirement!r} is not an exact pin (name==version)"
        )
        hashes = [option.removeprefix("--hash=") for option in options]
        assert all(option.startswith("--hash=sha256:") for option in options), (
            f"{path.name}: {entry!r} has options other than --hash=sha256:..."
        )
        assert canonicalize_name(name) not in pins, f"{path.name} pins {name} twice"
        pins[canonicalize_name(name)] = (Version(version), hashes)
    return (recorded.group(1) if recorded else None), pins


def wanted(*extras):
    """pyproject.toml's requirements for the target platform: dependencies, extras, build."""
    project = PYPROJECT["project"]
    lines = list(project["dependencies"]) + list(PYPROJECT["build-system"]["requires"])
    for extra in extras:
        lines += project["optional-dependencies"][extra]
    requirements = [Requirement(line) for line in lines]
    return [r for r in requirements if r.marker is None or r.marker.evaluate(TARGET)]


LOCKS = [
    pytest.param(PRODUCTION_LOCK, (), id="production"),
    pytest.param(TEST_LOCK, ("test",), id="test"),
]


@pytest.mark.parametrize("lock, extras", LOCKS)
def test_the_lock_was_made_from_this_pyproject(lock, extras):
    recorded, _ = read_lock(lock)

    assert recorded is not None, f"{lock.name} records no pyproject-sha256 line. {RELOCK}"
    assert recorded == pyproject_sha256(), (
        f"pyproject.toml's dependencies changed since {lock.name} was made. {RELOCK}"
    )


@pytest.mark.parametrize("lock, extras", LOCKS)
def test_every_requirement_of_pyproject_is_pinned_within_its_range(lock, extras):
    _, pins = read_lock(lock)

    for requirement in wanted(*extras):
        name = canonicalize_name(requirement.name)
        assert name in pins, f"{lock.name} does not pin {requirement}. {RELOCK}"
        version, _ = pins[name]
        assert requirement.specifier.contains(version, prereleases=True), (
            f"{lock.name} pins {name}=={version}, outside pyproject's {requirement}. {RELOCK}"
        )


@pytest.mark.parametrize("lock, extras", LOCKS)
def test_every_pin_has_a_hash(lock, extras):
    _, pins = read_lock(lock)

    assert pins, f"{lock.name} pins nothing"
    unhashed = sorted(name for name, (_, hashes) in pins.items() if not hashes)
    assert not unhashed, f"{lock.name} pins without a --hash: {unhashed}. {RELOCK}"


def test_production_gets_the_versions_that_ci_tests():
    _, production = read_lock(PRODUCTION_LOCK)
    _, test = read_lock(TEST_LOCK)

    differ = {
        name: (str(version), str(test[name][0]) if name in test else None)
        for name, (version, _) in production.items()
        if name not in test or test[name][0] != version
    }
    assert not differ, f"production's pins differ from CI's (production, CI): {differ}. {RELOCK}"


def test_the_test_lock_holds_the_test_extra_and_production_does_not():
    _, production = read_lock(PRODUCTION_LOCK)
    _, test = read_lock(TEST_LOCK)

    assert "pytest" in test
    assert "pytest" not in production
    assert "ruff" not in production

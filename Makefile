# The two commands: `make run` (the portal on embedded defaults) and `make test` (the whole suite).
PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin
STAMP := $(VENV)/.installed

# The locks: exact versions with hashes of pyproject.toml's ranges (and of its build requirement),
# for Python 3.11 on Linux x86_64. requirements.lock is production's (the main dependencies),
# requirements-test.lock CI's and developers' (the main ones at the same versions, and the test extra).
LOCKS := requirements.lock requirements-test.lock
# `make lock` runs uv from its own virtualenv (not .venv); it needs PyPI.
LOCK_VENV ?= .venv-lock
UV_VERSION := 0.13.8
UV := $(LOCK_VENV)/bin/uv
LOCK_TARGET := --python-version 3.11 --python-platform x86_64-manylinux_2_28
# What the locks were made from: tests/test_lock.py computes the same digest.
PYPROJECT_SHA256 := import hashlib, json, tomllib; \
	d = tomllib.load(open("pyproject.toml", "rb")); p = d["project"]; \
	print(hashlib.sha256(json.dumps({"requires-python": p["requires-python"], \
	"dependencies": p["dependencies"], "optional-dependencies": p.get("optional-dependencies", {}), \
	"build-system.requires": d["build-system"]["requires"]}, sort_keys=True).encode()).hexdigest())
BUILD_REQUIRES := import tomllib; \
	print(*tomllib.load(open("pyproject.toml", "rb"))["build-system"]["requires"], sep="\n")

.PHONY: install lock run test lint messages bench clean

install: $(STAMP)

# Installs exactly the test lock (hashes checked), then registers the project itself (its
# build requirement comes from the lock too, hence no build isolation). Reinstalls only when
# pyproject.toml or a lock changes: a second `make install` does nothing.
$(STAMP): pyproject.toml $(LOCKS)
	@test -x $(BIN)/python || $(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --require-hashes -r requirements-test.lock
	$(BIN)/python -m pip install --quiet --no-deps --no-build-isolation -e .
	@touch $(STAMP)

# Rewrites the locks from pyproject.toml, keeping every pin that still fits its range;
# `make lock LOCK_ARGS=--upgrade` (or `LOCK_ARGS='--upgrade-package django'`) moves to the newest.
# Review the diff and commit both files.
lock: $(UV)
	$(call compile,requirements-test.lock,--extra test,the dependencies and the test extra of pyproject.toml for CI and developers (make install))
	$(call compile,requirements.lock,--constraint requirements-test.lock,the dependencies of pyproject.toml for production (deploy/README.md))

# $(1) the lock, $(2) uv's arguments, $(3) what the lock is for.
define compile
	$(PYTHON) -c '$(BUILD_REQUIRES)' | $(UV) pip compile --quiet --generate-hashes $(LOCK_TARGET) \
		--custom-compile-command 'make lock' $(LOCK_ARGS) $(2) --output-file $(1) pyproject.toml -
	@{ echo '# Exact versions with hashes of $(3),'; \
	  echo '# and of the build requirement, for Python 3.11 on Linux x86_64 (CI and production).'; \
	  echo "# pyproject-sha256: $$($(PYTHON) -c '$(PYPROJECT_SHA256)')"; \
	  cat $(1); } > $(1).new && mv $(1).new $(1)
endef

$(UV):
	$(PYTHON) -m venv $(LOCK_VENV)
	$(LOCK_VENV)/bin/python -m pip install --quiet 'uv==$(UV_VERSION)'

run: export DEBUG := true
run: install
	@mkdir -p var
	$(BIN)/python manage.py migrate --no-input
	$(BIN)/python manage.py seed_demo
	$(BIN)/python manage.py runserver 127.0.0.1:8000

# The suite runs in one process per core (at most 4), each file in one process: pytest-xdist.
PYTEST_ARGS ?= -n auto --maxprocesses 4 --dist loadfile

test: install
	$(BIN)/ruff check .
	$(BIN)/ruff format --check .
	DATABASE_URL=sqlite:///:memory: $(BIN)/python manage.py makemigrations --check --dry-run --settings=tests.settings
	$(BIN)/pytest $(PYTEST_ARGS)

lint: install
	$(BIN)/ruff check --fix .
	$(BIN)/ruff format .

# Extract strings and compile catalogues (needs GNU gettext); commit the .po and .mo files.
messages: install
	$(BIN)/python manage.py makemessages --locale fi --locale sv --locale en --no-obsolete \
		--ignore '.venv/*' --ignore 'tests/*' --ignore 'var/*' --ignore 'bench/*' --settings=tests.settings
	$(BIN)/python manage.py compilemessages --ignore '.venv/*' --settings=tests.settings

bench: install
	DJANGO_SETTINGS_MODULE=tests.settings $(BIN)/python -m bench

clean:
	rm -rf $(VENV) $(LOCK_VENV) var/db.sqlite3 var/static

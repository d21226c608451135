# The two commands: `make run` (the portal on embedded defaults) and `make test` (the whole suite).
PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin
STAMP := $(VENV)/.installed

.PHONY: install run test lint messages bench clean

install: $(STAMP)

# Reinstalls only when pyproject.toml changes: a second `make install` does nothing.
$(STAMP): pyproject.toml
	@test -x $(BIN)/python || $(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --upgrade pip
	$(BIN)/python -m pip install --quiet -e '.[test]'
	@touch $(STAMP)

run: export DEBUG := true
run: install
	@mkdir -p var
	$(BIN)/python manage.py migrate --no-input
	$(BIN)/python manage.py seed_demo
	$(BIN)/python manage.py runserver 127.0.0.1:8000

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
	rm -rf $(VENV) var/db.sqlite3 var/static

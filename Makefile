# Vefa: two commands on a fresh machine with Python 3.11+ and git.
#   make demo   virtual environment, install, demo database on SQLite, serve on 127.0.0.1:8000
#   make test   install with test extras (and Chromium when missing), run every test on
#               SQLite and on PostgreSQL, plus ruff, mypy and the migration check

PYTHON ?= python3
VENV ?= .venv
BIN := $(VENV)/bin
HOST ?= 127.0.0.1
PORT ?= 8000
PG_URL ?= postgres://postgres@127.0.0.1:5432/postgres
PYTEST_WORKERS ?= 2

.PHONY: demo test install install-test browser lint test-sqlite test-postgres bench clean messages

$(BIN)/python:
	$(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --upgrade pip

$(VENV)/.installed: $(BIN)/python pyproject.toml requirements/constraints.txt
	$(BIN)/pip install --quiet -c requirements/constraints.txt -e .
	touch $@

$(VENV)/.installed-test: $(VENV)/.installed
	$(BIN)/pip install --quiet -c requirements/constraints.txt -e '.[test]'
	touch $@

install: $(VENV)/.installed
install-test: $(VENV)/.installed-test

demo: install
	$(BIN)/vefa demo --host $(HOST) --port $(PORT)

# Debian's Chromium drives the browser tests; installed when missing (needs root or sudo).
browser:
	@command -v chromium >/dev/null 2>&1 || $(BIN)/python scripts/install_chromium.py

lint: install-test
	$(BIN)/ruff check .
	$(BIN)/ruff format --check .
	$(BIN)/mypy
	$(BIN)/python manage.py makemigrations --check --dry-run

test-sqlite: install-test browser
	$(BIN)/pytest -n $(PYTEST_WORKERS) -q

test-postgres: install-test browser
	@$(BIN)/python scripts/check_postgres.py "$(PG_URL)" && \
	  DATABASE_URL="$(PG_URL)" $(BIN)/pytest -n $(PYTEST_WORKERS) -q || \
	  { code=$$?; [ $$code -eq 77 ] && echo "PostgreSQL tests skipped (see above)" || exit $$code; }

test: lint test-sqlite test-postgres

bench: install-test
	$(BIN)/python -m bench.run

messages: install-test
	$(BIN)/python scripts/i18n.py extract && $(BIN)/python scripts/i18n.py compile

clean:
	rm -rf $(VENV) var .mypy_cache .ruff_cache

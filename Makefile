# Two commands for a newcomer:  make run  (the app with demo data)  and  make test  (the whole suite).
PYTHON ?= python3.11
VENV   ?= .venv
PORT   ?= 5000
BIN    := $(VENV)/bin
FLASK  := $(BIN)/flask --app wsgi
PG_TEST_URL ?= postgresql://postgres@127.0.0.1:5432/test
PYTEST_ARGS ?=

.PHONY: run demo-mail test test-sqlite test-postgres install-test-deps bench clean

$(BIN)/python:
	$(PYTHON) -m venv $(VENV)
	$(BIN)/pip install --quiet --upgrade pip

$(VENV)/.installed: $(BIN)/python setup.cfg pyproject.toml
	$(BIN)/pip install --quiet -e '.[test,deploy]'
	touch $@

# Links in the mail the desk writes point at the address it serves, unless HELPDESK_BASE_URL says otherwise.
run: export HELPDESK_BASE_URL ?= http://127.0.0.1:$(PORT)
# The core's default is no plugin; the demo desk runs with the receipts plugin and the tracking plugin built on it.
run: export HELPDESK_PLUGINS ?= receipts,tracking
run: $(VENV)/.installed
	$(FLASK) init-db
	$(FLASK) demo-data
	@echo "Serving on http://127.0.0.1:$(PORT)/ (Ctrl-C to stop)"
	$(FLASK) run --host 127.0.0.1 --port $(PORT)

# The whole mail path on loopback: Postfix, Dovecot, Roundcube (the customers' webmail) and the desk
# with its worker, on a throw-away database; prints where to sign in; Ctrl-C stops it all (root: Postfix).
DEMO_DESK_PORT ?= 5050
DEMO_WEBMAIL_PORT ?= 5051
demo-mail: install-test-deps
	$(BIN)/python -m tests.fullstack --desk-port $(DEMO_DESK_PORT) --webmail-port $(DEMO_WEBMAIL_PORT)

install-test-deps: $(VENV)/.installed
	.ci/install-debian-packages

test: install-test-deps test-sqlite test-postgres

test-sqlite:
	@echo "== test suite on SQLite"
	$(BIN)/python -m pytest $(PYTEST_ARGS)

test-postgres:
	@if $(BIN)/python -c "import psycopg,sys; psycopg.connect('$(PG_TEST_URL)', connect_timeout=3).close()" 2>/dev/null; then \
		echo "== test suite on PostgreSQL ($(PG_TEST_URL))"; \
		HELPDESK_TEST_DATABASE_URL=$(PG_TEST_URL) $(BIN)/python -m pytest $(PYTEST_ARGS); \
	else \
		echo "PostgreSQL is not reachable at $(PG_TEST_URL): start it (see .ci/run) to run the suite on it too." >&2; exit 1; \
	fi

bench: install-test-deps
	$(BIN)/pip install --quiet -e '.[test,deploy,bench]'
	for b in bench/*.py; do $(BIN)/python $$b || exit 1; done

clean:
	rm -rf $(VENV) instance .pytest_cache .hypothesis artifacts

# Momento: `make run` to try it, `make test` to test it. Nothing else to set up.
VENV    ?= .venv
PYTHON  ?= python3
PY      := $(VENV)/bin/python
FLASK   := $(VENV)/bin/flask --app audit_server
STAMP   := $(VENV)/.installed
HOST    ?= 127.0.0.1
PORT    ?= 5000
# `make run` signs its session cookies with a random key kept in this file (made once,
# readable by its owner only; instance/ is not committed), unless SECRET_KEY is set.
SECRET_KEY_FILE ?= instance/secret_key
DEV_KEY := SECRET_KEY="$${SECRET_KEY:-$$(cat $(SECRET_KEY_FILE))}"
# The PostgreSQL server the second test run uses (it creates and drops its own database).
TEST_PG_SERVER ?= postgresql://postgres@127.0.0.1:5432/postgres
# Each half of `make test` runs its tests on this many processes (pytest-xdist; each has
# its own database, SQLite files and ports); PYTEST_WORKERS=0 runs them in this one process.
# The browser tests follow in one process: their timings (service worker, offline, sign-out)
# are those of one phone, which a second CPU-bound process beside them would stretch.
# (Exit status 5: the selection left nothing to run in that part.)
PYTEST_WORKERS ?= 2
PYTEST_ARGS ?=
PYTEST := $(PY) -m pytest -n $(PYTEST_WORKERS) -m "not browser" $(PYTEST_ARGS); a=$$?; \
          $(PY) -m pytest -m browser $(PYTEST_ARGS); b=$$?; \
          for s in $$a $$b; do [ $$s -eq 0 ] || [ $$s -eq 5 ] || exit 1; done

# Compiled translations (.mo) are built from the committed catalogues (.po), never committed.
CATALOGUES := $(wildcard audit_server/translations/*/LC_MESSAGES/messages.po)
COMPILED   := $(CATALOGUES:.po=.mo)

.PHONY: run serve migrate test test-sqlite test-postgres bench clean translations messages lint

$(STAMP): requirements.txt
	$(PYTHON) -m venv $(VENV)
	$(PY) -m pip install --quiet --upgrade pip
	$(PY) -m pip install --quiet -r requirements.txt
	touch $(STAMP)

translations: $(COMPILED)

%.mo: %.po | $(STAMP)
	$(VENV)/bin/pybabel compile --use-fuzzy -i $< -o $@

# After changing UI strings: extract them and merge them into the catalogues, then translate.
messages: $(STAMP)
	$(VENV)/bin/pybabel extract -F babel.cfg -k _l --no-location --omit-header -o audit_server/translations/messages.pot .
	$(VENV)/bin/pybabel update -i audit_server/translations/messages.pot -d audit_server/translations --no-fuzzy-matching --ignore-obsolete

$(SECRET_KEY_FILE):
	mkdir -p $(dir $@)
	umask 077 && $(PYTHON) -c "import secrets; print(secrets.token_urlsafe(48))" > $@.new && mv $@.new $@

run: $(STAMP) translations $(SECRET_KEY_FILE)
	$(DEV_KEY) $(FLASK) db upgrade
	$(DEV_KEY) $(FLASK) checklists sync
	$(DEV_KEY) $(FLASK) seed-demo
	@echo
	@echo "  Momento is at http://$(HOST):$(PORT)/  (API: http://$(HOST):$(PORT)/api/v1/openapi.json)"
	@echo "  Log in with any demo login above; the password is printed with them."
	@echo
	$(DEV_KEY) SESSION_COOKIE_SECURE=$${SESSION_COOKIE_SECURE:-false} $(FLASK) run --host $(HOST) --port $(PORT)

# Production (docs/deploy.md): the settings come from the environment (DATABASE_URL,
# SECRET_KEY, PHOTO_STORE and S3_*, RATELIMIT_STORAGE_URI, PROXY_HOPS, ...). `make migrate`
# once per release, from one machine; `make serve` on each app server: it checks the
# deployment (`flask doctor`) and, if nothing fails, runs gunicorn with gunicorn.conf.py.
migrate: $(STAMP)
	$(FLASK) db upgrade
	$(FLASK) checklists sync

serve: $(STAMP) translations
	$(FLASK) doctor
	exec $(VENV)/bin/gunicorn -c gunicorn.conf.py wsgi:app

test: $(STAMP)
	@echo "=== Static checks (make lint) ==="
	@$(MAKE) --no-print-directory lint
	@$(MAKE) --no-print-directory test-sqlite
	@$(MAKE) --no-print-directory test-postgres

test-sqlite: $(STAMP) translations
	@echo "=== Test suite on SQLite ==="
	$(PYTEST)

test-postgres: $(STAMP) translations
	@if $(PY) -c "import psycopg,sys; psycopg.connect(sys.argv[1], connect_timeout=3).close()" "$(TEST_PG_SERVER)" 2>/dev/null; then \
	  echo "=== Test suite on PostgreSQL ($(TEST_PG_SERVER)) ==="; \
	  export TEST_DATABASE_URL="$(TEST_PG_SERVER)"; $(PYTEST); \
	else \
	  echo; \
	  echo "!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!"; \
	  echo "!!! PostgreSQL is not reachable at $(TEST_PG_SERVER)"; \
	  echo "!!! The PostgreSQL test run was SKIPPED. Set TEST_PG_SERVER to run it."; \
	  echo "!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!"; \
	  if [ "$$CI" = "true" ]; then echo "CI=true: a skipped PostgreSQL run fails CI."; exit 1; fi; \
	fi

bench: $(STAMP) translations
	$(PY) bench/submit.py
	$(PY) bench/photos.py
	$(PY) bench/photo_store.py
	$(PY) bench/pages.py
	$(PY) bench/charts.py
	$(PY) bench/reports.py --reuse
	$(PY) bench/exports.py
	$(PY) bench/demo_build.py
	$(PY) bench/load.py

# Static checks: ruff (ruff.toml) over everything, then bandit. The app gets all of bandit's
# checks (a false positive is marked `# nosec BXXX` with its reason beside it); the tests
# and benchmarks skip those that only fit code that runs in production: asserts (B101),
# passwords in test data (B105, B106), fixed /tmp paths of the benchmarks (B108), seeded
# random data (B311), subprocesses they start themselves (B404, B603, B607) and SQL
# written from their own constants (B608).
LINTED := audit_server tests bench tools wsgi.py gunicorn.conf.py
lint: $(STAMP)
	$(VENV)/bin/ruff check $(LINTED)
	$(VENV)/bin/bandit -q -r audit_server tools wsgi.py gunicorn.conf.py
	$(VENV)/bin/bandit -q -r tests bench -s B101,B105,B106,B108,B311,B404,B603,B607,B608

clean:
	rm -rf $(VENV) instance .pytest_cache .hypothesis

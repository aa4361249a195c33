# Set-up, demo and tests (CONTRACTS.md): `make demo`, `make test`, `make lint`.
SHELL := /bin/bash
PYTHON ?= python3
PORT ?= 8000
VENV := .venv
PY := $(VENV)/bin/python
STAMP := $(VENV)/.installed
CHART_JS := competition/static/competition/vendor/chart.umd.js
NODE_STAMP := node_modules/.installed
export CHROMIUM ?= /usr/bin/chromium
SCREENSHOTS := docs/screenshots

.PHONY: demo test test-sqlite test-postgres lint format static venv clean chromium screenshots

venv: $(STAMP)

$(STAMP): requirements.txt requirements-dev.txt
	test -x $(PY) || $(PYTHON) -m venv $(VENV)
	$(PY) -m pip install --quiet --disable-pip-version-check -r requirements-dev.txt
	touch $(STAMP)

static: $(CHART_JS) $(NODE_STAMP)

# Chart.js and axe-core (for the accessibility tests) come from the npm registry, pinned by
# package-lock.json. Chart.js is served from our own static files (no CDN: the site works offline).
$(NODE_STAMP): package.json package-lock.json
	command -v npm >/dev/null || { apt-get update -qq && apt-get install -y -qq nodejs npm >/dev/null; }
	npm ci --no-audit --no-fund --silent
	touch $(NODE_STAMP)

$(CHART_JS): $(NODE_STAMP)
	mkdir -p $(dir $(CHART_JS))
	cp node_modules/chart.js/dist/chart.umd.js $(CHART_JS)
	cp node_modules/chart.js/LICENSE.md $(dir $(CHART_JS))chart.js-LICENSE.md

demo: venv static
	$(PY) manage.py migrate --noinput
	$(PY) manage.py demo_setup
	@echo "Serving on http://127.0.0.1:$(PORT)/ (admin at /admin/)"
	$(PY) manage.py runserver 127.0.0.1:$(PORT)

lint: venv
	$(VENV)/bin/ruff check .
	$(VENV)/bin/ruff format --check .
	$(VENV)/bin/djhtml --check $$(find competition home templates -name '*.html')

format: venv
	$(VENV)/bin/ruff check --fix .
	$(VENV)/bin/ruff format .
	$(VENV)/bin/djhtml $$(find competition home templates -name '*.html')

test: venv static lint
	DJANGO_SETTINGS_MODULE=config.settings.test $(PY) manage.py makemigrations --check --dry-run
	$(MAKE) --no-print-directory test-sqlite
	$(MAKE) --no-print-directory test-postgres

# The browser tests drive Debian's Chromium (Playwright cannot download its own browser here);
# installed when missing and this runs as root.
chromium:
	@test -x $(CHROMIUM) || { \
		if [ "$$(id -u)" -ne 0 ]; then echo "Chromium is missing at $(CHROMIUM) and this is not root: install Debian's chromium package." >&2; exit 1; fi; \
		apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq chromium >/dev/null; }

# The browser tests run on the SQLite pass only (they skip themselves on PostgreSQL).
test-sqlite: venv static chromium
	DATABASE_URL= $(PY) -m pytest -q -n 2 $(PYTEST_ARGS)

test-postgres: venv static
	scripts/with_postgres.sh $(PY) -m pytest -q -n 2 $(PYTEST_ARGS)

# Retake the screenshots of docs/screenshots (the browser journeys save them there).
screenshots: venv static chromium
	DATABASE_URL= COMPETITION_BROWSER_ARTEFACTS=$(SCREENSHOTS) $(PY) -m pytest -q -p no:xdist -m browser tests/browser/test_journeys.py

clean:
	rm -rf $(VENV) node_modules competition/static/competition/vendor db.sqlite3 static

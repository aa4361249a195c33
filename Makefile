# Set-up, demo and tests (README): `make demo`, `make test`, `make lint`.
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

.PHONY: demo serve test test-sqlite test-postgres lint security format static venv clean bench messages gettext chromium redis fonts screenshots \
	venv-release release docs test-matrix test-matrix-ci mutation

venv: $(STAMP)

$(STAMP): requirements.txt requirements-dev.txt tests/requirements/test.txt
	test -x $(PY) || $(PYTHON) -m venv $(VENV)
	$(PY) -m pip install --quiet --disable-pip-version-check -r requirements-dev.txt
	touch $(STAMP)

static: $(CHART_JS) $(NODE_STAMP)

# Chart.js and axe-core (for the accessibility tests) come from the npm registry, pinned by
# package-lock.json. Chart.js is served from our own static files (no CDN: the site works offline),
# without its `//# sourceMappingURL=` line: the map is not shipped, and ManifestStaticFilesStorage
# (Wagtail's default for production) refuses to collect a file naming one that is missing.
# The wheel and the sdist refuse to build without it (setup.py).
$(NODE_STAMP): package.json package-lock.json
	command -v npm >/dev/null || { apt-get update -qq && apt-get install -y -qq nodejs npm >/dev/null; }
	npm ci --no-audit --no-fund --silent
	touch $(NODE_STAMP)

$(CHART_JS): $(NODE_STAMP) Makefile
	mkdir -p $(dir $(CHART_JS))
	sed '/^\/\/# sourceMappingURL=/d' node_modules/chart.js/dist/chart.umd.js > $(CHART_JS)
	cp node_modules/chart.js/LICENSE.md $(dir $(CHART_JS))chart.js-LICENSE.md

# GNU gettext (Debian's package) extracts and compiles the translation catalogues; the compiled
# .mo files are committed, so running the site never needs it, only `make messages` and the test
# that every string of the code is in the catalogues.
gettext:
	command -v xgettext >/dev/null || { apt-get update -qq && apt-get install -y -qq gettext >/dev/null; }

# Update the Vietnamese catalogues from the code (the app's, and the demo site's for home/,
# templates/ and config/), then compile them. Translate new entries before committing.
MAKEMESSAGES := makemessages -l vi --no-location --no-obsolete
messages: venv gettext
	cd competition && DJANGO_SETTINGS_MODULE=config.settings.dev PYTHONPATH=.. ../$(PY) -m django $(MAKEMESSAGES)
	DJANGO_SETTINGS_MODULE=config.settings.dev $(PY) manage.py $(MAKEMESSAGES) \
		--ignore 'competition/*' --ignore '.venv/*' --ignore 'node_modules/*' --ignore 'static/*' \
		--ignore 'tests/*' --ignore 'mutants/*' --ignore 'docs/*' --ignore 'fixtures/*' --ignore 'scripts/*' --ignore 'build/*' --ignore 'dist/*'
	DJANGO_SETTINGS_MODULE=config.settings.dev $(PY) manage.py compilemessages --ignore '.venv/*' --ignore 'node_modules/*'

demo: venv static fonts
	$(PY) manage.py migrate --noinput
	$(PY) manage.py demo_setup
	@echo "Serving on http://127.0.0.1:$(PORT)/ (admin at /admin/)"
	$(PY) manage.py runserver 127.0.0.1:$(PORT)

# Production serving (docs/deployment.md): production settings from the environment (SECRET_KEY,
# DATABASE_URL, REDIS_URL, ALLOWED_HOSTS...), static files collected for whitenoise, migrations
# applied, then TASK_WORKERS task workers (`manage.py db_worker`: board rebuilds, e-mails, imports,
# CDN purges) beside gunicorn's WORKERS web workers on the loopback behind the reverse proxy.
# The task workers stop with gunicorn. TASK_WORKERS=0 on a web server whose tasks run elsewhere.
WORKERS ?= 4
TASK_WORKERS ?= 1
SERVE_SETTINGS ?= config.settings.production

serve: venv static fonts
	DJANGO_SETTINGS_MODULE=$(SERVE_SETTINGS) $(PY) manage.py collectstatic --noinput --verbosity 0
	DJANGO_SETTINGS_MODULE=$(SERVE_SETTINGS) $(PY) manage.py migrate --noinput
	export DJANGO_SETTINGS_MODULE=$(SERVE_SETTINGS); task_workers=(); \
	trap 'test $${#task_workers[@]} -eq 0 || kill $${task_workers[@]} 2>/dev/null; wait' EXIT; \
	for n in $$(seq 1 $(TASK_WORKERS)); do $(PY) manage.py db_worker --no-reload & task_workers+=($$!); done; \
	PORT=$(PORT) WEB_CONCURRENCY=$(WORKERS) $(VENV)/bin/gunicorn --config config/gunicorn.py

lint: venv
	$(VENV)/bin/ruff check .
	$(VENV)/bin/ruff format --check .
	$(VENV)/bin/djhtml --check $$(find competition home templates -name '*.html')

# Static security analysis: any finding fails; a reviewed one carries `# nosec BXXX` and a comment
# saying why it is safe.
security: venv
	$(VENV)/bin/bandit -q -r competition bench home config scripts fixtures manage.py setup.py

format: venv
	$(VENV)/bin/ruff check --fix .
	$(VENV)/bin/ruff format .
	$(VENV)/bin/djhtml $$(find competition home templates -name '*.html')

test: venv static gettext lint security
	DJANGO_SETTINGS_MODULE=config.settings.test $(PY) manage.py makemigrations --check --dry-run
	$(MAKE) --no-print-directory test-sqlite
	$(MAKE) --no-print-directory test-postgres

# The browser tests drive Debian's Chromium (Playwright cannot download its own browser here);
# installed when missing and this runs as root.
chromium:
	@test -x $(CHROMIUM) || { \
		if [ "$$(id -u)" -ne 0 ]; then echo "Chromium is missing at $(CHROMIUM) and this is not root: install Debian's chromium package." >&2; exit 1; fi; \
		apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq chromium >/dev/null; }

# Redis, the production cache, for the tests of what processes share through it; installed when
# missing and this runs as root (the tests start their own servers; on a machine with an init
# system the package also starts one on port 6379).
redis:
	@command -v redis-server >/dev/null || { \
		if [ "$$(id -u)" -ne 0 ]; then echo "redis-server is missing and this is not root: install Debian's redis-server package." >&2; exit 1; fi; \
		apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq redis-server >/dev/null; }

# What WeasyPrint needs for the results report's PDF: Pango (with fontconfig) and fonts with every
# Vietnamese glyph (Debian's DejaVu); installed when missing and this runs as root.
fonts:
	@{ fc-list 2>/dev/null | grep -q "DejaVu Sans" && /sbin/ldconfig -p | grep -q libpangoft2-1.0; } || { \
		if [ "$$(id -u)" -ne 0 ]; then echo "Pango or the DejaVu fonts are missing and this is not root: install Debian's libpangoft2-1.0-0 and fonts-dejavu-core packages." >&2; exit 1; fi; \
		apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq fontconfig fonts-dejavu-core libpango-1.0-0 libpangoft2-1.0-0 >/dev/null; }

# Each pass ends with its slowest tests, to see where the time of `make test` goes.
DURATIONS := --durations=25 --durations-min=5
# xdist deals the tests out one at a time as each worker finishes one (each worker still runs its
# tests in the order of tests/conftest.py): by default it handed out runs of up to a quarter of
# what was left, and a run holding the browser tests or the wheel test kept one worker busy for
# minutes after the other had finished (docs/testing.md).
XDIST := -n 2 --dist load --maxschedchunk 1

# The browser tests run on the SQLite pass only (they skip themselves on PostgreSQL).
test-sqlite: venv static chromium redis fonts
	DATABASE_URL= $(PY) -m pytest -q $(XDIST) $(DURATIONS) $(PYTEST_ARGS)

# The PostgreSQL pass runs the tests that use the database (tests/conftest.py).
test-postgres: venv static redis fonts
	COMPETITION_TESTS_DATABASE_ONLY=1 scripts/with_postgres.sh $(PY) -m pytest -q $(XDIST) $(DURATIONS) $(PYTEST_ARGS)

# The benchmark of docs/performance.md (minutes; not part of `make test`): HCMC and national sizes
# on a throw-away PostgreSQL cluster, HCMC on a temporary SQLite file. BENCH_ARGS passes options.
BENCH_SQLITE := /tmp/competition-bench.sqlite3
# The competitions are generated first, each by its own process: measured in the process that
# generated them, the national build ran 2.2× the floor instead of 1.0× (docs/performance.md).
BENCH_GENERATE = for size in $(1); do $(PY) manage.py competition_generate --size $$size --slug bench-$$size || exit 1; done
bench: venv static
	scripts/with_postgres.sh env DEBUG=0 PYTHONUNBUFFERED=1 bash -c '$(PY) manage.py migrate --noinput -v0 && \
		$(call BENCH_GENERATE,smoke hcmc national) && \
		$(PY) manage.py competition_bench --size hcmc --size national $(BENCH_ARGS)'
	rm -f $(BENCH_SQLITE)
	DATABASE_URL=sqlite:///$(BENCH_SQLITE) DEBUG=0 PYTHONUNBUFFERED=1 bash -c '$(PY) manage.py migrate --noinput -v0 && \
		$(call BENCH_GENERATE,smoke hcmc) && \
		$(PY) manage.py competition_bench --size hcmc --no-serving $(BENCH_ARGS)'; \
		status=$$?; rm -f $(BENCH_SQLITE); exit $$status

# Retake the screenshots of docs/screenshots (the browser journeys save them there).
screenshots: venv static chromium
	DATABASE_URL= COMPETITION_BROWSER_ARTEFACTS=$(SCREENSHOTS) $(PY) -m pytest -q -p no:xdist -m browser tests/browser/test_journeys.py tests/browser/test_report.py tests/browser/test_method.py tests/browser/test_clusters.py \
		tests/browser/test_editor_screens.py tests/browser/test_panels.py tests/browser/test_feed_tokens.py

# Mutation testing (minutes; not part of `make test`): mutmut changes one thing at a time in
# competition/scoring.py (setup.cfg) and runs the tests that reach it; docs/testing.md lists the
# mutants that survive and why each one is equivalent. `$(VENV)/bin/mutmut browse` shows them.
mutation: venv
	rm -f /tmp/competition-mutation.sqlite3
	rm -rf mutants
	DATABASE_URL= COMPETITION_TEST_DB_FILE=/tmp/competition-mutation.sqlite3 $(VENV)/bin/mutmut run --max-children 1
	$(VENV)/bin/mutmut results

clean:
	rm -rf $(VENV) node_modules competition/static/competition/vendor db.sqlite3 db.sqlite3-wal db.sqlite3-shm static mutants site dist .tox

# The package (docs/integration.md, CHANGELOG.md): its tools (build, twine, tox, mkdocs) are pinned
# in requirements-release.txt and installed into .venv beside the rest.
RELEASE_STAMP := $(VENV)/.installed-release
venv-release: $(RELEASE_STAMP)

$(RELEASE_STAMP): $(STAMP) requirements-release.txt
	$(PY) -m pip install --quiet --disable-pip-version-check -r requirements-release.txt
	touch $(RELEASE_STAMP)

# sdist and wheel of the committed HEAD in dist/, built from a clean clone with Chart.js inside,
# checked by `twine check --strict` and for what they hold (scripts/build_release.py).
release: venv-release
	$(PY) scripts/build_release.py dist

# The documentation site in site/ (MkDocs, strict: a broken link between pages fails).
docs: venv-release
	$(VENV)/bin/mkdocs build --quiet

# The version matrix (tox.ini): the package's tests with its own settings on the lowest declared
# versions, the demo's pins, Django 6.0 and the newest releases, each on its Python; then the fresh
# `wagtail start` site that follows docs/integration.md (tests/install/fresh_site.py). pyenv's
# interpreters (3.11 and later) are put on PATH themselves: tox finds python3.12 and python3.13 there,
# which pyenv's shims do not run outside their own version.
MATRIX ?= lowest,pins,django60,newest
MATRIX_PATH := $(shell command -v pyenv >/dev/null && for v in $$(pyenv versions --bare | grep -E '^3\.1[1-9]\.[0-9]+$$' | sort -V); do printf '%s:' "$$(pyenv root)/versions/$$v/bin"; done)
MATRIX_ENV := $(if $(MATRIX_PATH),PATH="$(MATRIX_PATH)$$PATH")
test-matrix: venv-release static redis fonts
	$(MATRIX_ENV) $(VENV)/bin/tox run -e $(MATRIX)
	$(MATRIX_ENV) $(PY) tests/install/fresh_site.py

# CI's share of it (.ci/run): the two ends of the matrix, without browser tests (tox runs none);
# the fresh site, which downloads the newest releases, is left to `make test-matrix`.
test-matrix-ci: venv-release static fonts
	$(MATRIX_ENV) $(VENV)/bin/tox run -e lowest,newest

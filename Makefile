# The project's interface: CI and people call the same targets.
PY ?= python3
VENV ?= .venv
BIN := $(VENV)/bin
STAMP := $(VENV)/.installed-dev
BASE := $(VENV)/.installed

.PHONY: demo test lint arch bench serve clean i18n sdk-packages vendor-analytics

$(BIN)/python:
	$(PY) -m venv $(VENV)

# The demo needs only the package; tests also need the scale engines and test tools.
$(BASE): $(BIN)/python pyproject.toml setup.py src/safar/journeys/_xesfast.c
	$(BIN)/pip install -q --upgrade pip
	$(BIN)/pip install -q -e .
	touch $(BASE)

$(STAMP): $(BASE)
	$(BIN)/pip install -q -e ".[dev,scale]"
	touch $(STAMP)

# `make demo PORT=8010` serves (and prints its URLs) on another port; without PORT, SAFAR_PORT
# or 8000.
demo: $(BASE)
	$(BIN)/safar demo $(if $(PORT),--port $(PORT))

# Skips are summarised per reason, with how to run them (tests/conftest.py); -rfE lists only
# failures and errors one per line instead of every skipped test.
test: $(STAMP)
	$(BIN)/pytest -q -rfE

lint: $(STAMP) arch
	$(BIN)/ruff check src tests bench
	$(BIN)/ruff format --check src tests bench
	$(BIN)/mypy

# The import contracts in pyproject.toml ([tool.importlinter]): layers, facades, no cycles.
arch: $(STAMP)
	$(BIN)/lint-imports

bench: $(STAMP)
	$(BIN)/python bench/ingest.py
	$(BIN)/python bench/lookup.py
	$(BIN)/python bench/text.py

i18n: $(STAMP)
	$(BIN)/python -m safar.web.catalog

# The real SDKs the ingest tests drive (versions pinned in tests/events/sdk/package-lock.json,
# plus the legacy analytics-python, whose backoff pin clashes with the current SDK's).
SDK := tests/events/sdk
# axe-core, the accessibility checker the dashboard tests inject into each page (test-only).
A11Y := tests/web/a11y
sdk-packages: $(STAMP)
	cd $(SDK) && npm ci --no-audit --no-fund --ignore-scripts
	cd $(A11Y) && npm ci --no-audit --no-fund --ignore-scripts
	$(BIN)/pip install -q --target $(SDK)/py-legacy "analytics-python==1.4.0"

# The standalone analytics.js Safar serves, copied from the pinned npm package.
ANJS := src/safar/web/static/vendor/analytics-next
vendor-analytics: sdk-packages
	rm -rf $(ANJS) && mkdir -p $(ANJS)
	cp $(SDK)/node_modules/@segment/analytics-next/dist/umd/*.js $(ANJS)/
	cp $(SDK)/node_modules/@segment/analytics-next/LICENSE.MD $(ANJS)/LICENSE.md

serve: $(BASE)
	$(BIN)/safar serve

clean:
	rm -rf $(VENV) .safar .pytest_cache .mypy_cache .ruff_cache .import_linter_cache .grimp_cache

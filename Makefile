# The project's interface: CI and people call the same targets.
PY ?= python3
VENV ?= .venv
BIN := $(VENV)/bin
STAMP := $(VENV)/.installed-dev
BASE := $(VENV)/.installed

.PHONY: demo test lint bench serve clean i18n

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

demo: $(BASE)
	$(BIN)/safar demo

# Skips are summarised per reason, with how to run them (tests/conftest.py); -rfE lists only
# failures and errors one per line instead of every skipped test.
test: $(STAMP)
	$(BIN)/pytest -q -rfE

lint: $(STAMP)
	$(BIN)/ruff check src tests bench
	$(BIN)/ruff format --check src tests bench
	$(BIN)/mypy

bench: $(STAMP)
	$(BIN)/python bench/ingest.py
	$(BIN)/python bench/lookup.py
	$(BIN)/python bench/text.py

i18n: $(STAMP)
	$(BIN)/python -m safar.web.catalog

serve: $(BASE)
	$(BIN)/safar serve

clean:
	rm -rf $(VENV) .safar .pytest_cache .mypy_cache .ruff_cache

# The project's interface: CI and people call the same targets.
PY ?= python3
VENV ?= .venv
BIN := $(VENV)/bin
STAMP := $(VENV)/.installed-dev
BASE := $(VENV)/.installed

.PHONY: demo test lint arch bench serve clean i18n

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

test: $(STAMP)
	$(BIN)/pytest -q

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

serve: $(BASE)
	$(BIN)/safar serve

clean:
	rm -rf $(VENV) .safar .pytest_cache .mypy_cache .ruff_cache .import_linter_cache .grimp_cache

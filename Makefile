# The project's interface: CI and people call the same targets.
PY ?= python3
VENV ?= .venv
BIN := $(VENV)/bin
STAMP := $(VENV)/.installed

.PHONY: demo test lint bench serve clean i18n

$(BIN)/python:
	$(PY) -m venv $(VENV)

$(STAMP): $(BIN)/python pyproject.toml
	$(BIN)/pip install -q --upgrade pip
	$(BIN)/pip install -q -e ".[dev,scale]"
	touch $(STAMP)

demo: $(STAMP)
	$(BIN)/safar demo

test: $(STAMP)
	$(BIN)/pytest -q

lint: $(STAMP)
	$(BIN)/ruff check src tests bench
	$(BIN)/ruff format --check src tests bench
	$(BIN)/mypy

bench: $(STAMP)
	$(BIN)/python bench/ingest.py
	$(BIN)/python bench/lookup.py

i18n: $(STAMP)
	$(BIN)/python -m safar.web.catalog

serve: $(STAMP)
	$(BIN)/safar serve

clean:
	rm -rf $(VENV) .safar .pytest_cache .mypy_cache .ruff_cache

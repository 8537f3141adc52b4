# `make run` and `make test` each set up what they need on a fresh clone.
PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin
STAMP := $(VENV)/.installed

.PHONY: run test lint

$(STAMP): pyproject.toml
	$(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --upgrade pip
	$(BIN)/python -m pip install --quiet --editable '.[test]'
	touch $(STAMP)

## The main job on the shipped seeds: SQLite in db/, feeds in public/. ARGS=--force etc.
run: $(STAMP)
	$(BIN)/compfeed run $(ARGS)

## Lint, type-check and the whole test suite (SQLite and PostgreSQL).
test: lint
	$(BIN)/pytest $(ARGS)

lint: $(STAMP)
	$(BIN)/ruff check .
	$(BIN)/ruff format --check .
	$(BIN)/mypy

# `make run` and `make test` each set up what they need on a fresh clone.
PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin
STAMP := $(VENV)/.installed

.PHONY: run test lint audit lock

# Installs exactly the versions in requirements.lock (`make lock` renews it).
$(STAMP): pyproject.toml requirements.lock
	$(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --upgrade pip
	$(BIN)/python -m pip install --quiet --constraint requirements.lock --editable '.[test]'
	touch $(STAMP)

## The main job on the shipped seeds: SQLite in db/, feeds in public/. ARGS=--force etc.
run: $(STAMP)
	$(BIN)/compfeed run $(ARGS)

## Lint, type-check, audit the locked dependencies, and the whole test suite.
test: lint audit
	$(BIN)/pytest $(ARGS)

lint: $(STAMP)
	$(BIN)/ruff check .
	$(BIN)/ruff format --check .
	$(BIN)/mypy

audit: $(STAMP)
	$(BIN)/pip-audit --requirement requirements.lock --no-deps --disable-pip \
		--progress-spinner off --format json --output $(VENV)/audit.json
	$(BIN)/python -m tests.audit $(VENV)/audit.json

## Renew requirements.lock from a fresh install of pyproject.toml's ranges.
lock:
	rm -rf .lock-venv
	$(PYTHON) -m venv .lock-venv
	.lock-venv/bin/python -m pip install --quiet --upgrade pip
	.lock-venv/bin/python -m pip install --quiet '.[test]'
	.lock-venv/bin/python -m pip freeze --exclude-editable | grep -v '^compfeed' > requirements.lock
	rm -rf .lock-venv

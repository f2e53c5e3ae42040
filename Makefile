# RenoCRM — the two commands a newcomer needs: `make run` and `make test`.
PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin
PORT ?= 8000
STAMP := $(VENV)/.installed
TEST_STAMP := $(VENV)/.installed-test
BENCH_STAMP := $(VENV)/.installed-bench

.PHONY: run test lint format bench clean-data

$(BIN)/python:
	$(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --upgrade pip

$(STAMP): pyproject.toml | $(BIN)/python
	$(BIN)/pip install --quiet -e .
	touch $@

$(TEST_STAMP): pyproject.toml | $(BIN)/python
	$(BIN)/pip install --quiet -e ".[test]"
	touch $@ $(STAMP)

## Whole system on this machine: embedded PostgreSQL and Redis unless DATABASE_URL / REDIS_URL are set.
run: $(STAMP)
	@bash scripts/ensure-pdf-fonts.sh --optional
	PORT=$(PORT) $(BIN)/python -m renocrm.runner

## The whole test suite against real PostgreSQL and Redis (DATABASE_URL / REDIS_URL, else the local servers).
test: $(TEST_STAMP)
	@bash scripts/ensure-chromium.sh
	@bash scripts/ensure-pgbouncer.sh
	@bash scripts/ensure-pdf-fonts.sh
	@bash scripts/ensure-nodejs.sh
	$(BIN)/pytest

$(BENCH_STAMP): pyproject.toml | $(BIN)/python
	$(BIN)/pip install --quiet -e ".[test,bench]"
	touch $@ $(TEST_STAMP) $(STAMP)

## Load a firm-sized dataset (BENCH_SCALE, default 1.0), serve it with gunicorn and measure it against a
## raw-SQL reference; prints the table and writes bench/results/*.json (see docs/performance.md).
bench: $(BENCH_STAMP)
	$(BIN)/python -m bench

## Style, formatting, and the import layers (pyproject.toml [tool.importlinter]).
lint: $(TEST_STAMP)
	$(BIN)/ruff check .
	$(BIN)/ruff format --check .
	$(BIN)/lint-imports

format: $(TEST_STAMP)
	$(BIN)/ruff check --fix .
	$(BIN)/ruff format .

## Remove the embedded servers' data (var/pg, var/redis): the next `make run` starts from a fresh demo.
clean-data:
	rm -rf var/pg var/redis var/celerybeat-schedule*

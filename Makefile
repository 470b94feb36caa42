# The two set-up commands in the README: `make run` (demo on SQLite) and `make test`.
PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin
STAMP := $(VENV)/.installed
# The GOV.UK Design System (and axe-core for the tests) from npm, built into api/static/build.
ASSETS := node_modules/.casework-built
# Debian's Chromium for the browser tests (never `playwright install`: no such network here).
CHROMIUM := /usr/bin/chromium

.PHONY: run test lint bench bench-county bench-pages setup clean

$(STAMP): pyproject.toml
	test -x $(BIN)/python || $(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --disable-pip-version-check -e '.[dev]'
	touch $(STAMP)

$(ASSETS): package.json package-lock.json $(wildcard api/assets/*.scss)
	npm ci --no-audit --no-fund --loglevel=error
	npm run build --silent
	touch $(ASSETS)

$(CHROMIUM):
	@if [ "$$(id -u)" -eq 0 ]; then SUDO=; else SUDO=sudo; fi; \
	$$SUDO apt-get update -qq && \
	$$SUDO env DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends chromium fonts-dejavu-core

setup: $(STAMP) $(ASSETS)

## Serve the demo LA on http://127.0.0.1:8000 (SQLite under ./var; seeded on first run).
run: setup
	$(BIN)/casework run --demo

## Lint, then every test on SQLite and on the local PostgreSQL server.
test: setup $(CHROMIUM)
	$(BIN)/ruff check .
	$(BIN)/pytest -n 2 --dist loadfile $(PYTEST_ARGS)

## Benchmarks: print figures against a plain-SQL reference (not part of the test suite).
bench: setup
	$(BIN)/python -m tests.benchmarks.bench_cases
	$(BIN)/python -m tests.benchmarks.bench_sweep
	$(BIN)/python -m tests.benchmarks.bench_registers --pupils 20000
	$(BIN)/python -m tests.benchmarks.bench_pack

## My work and the caseload under 20 concurrent users, 100,000 cases on PostgreSQL (long).
bench-pages: setup
	$(BIN)/python -m tests.benchmarks.bench_pages

## The county-scale register benchmark at full size (250,000 pupils, both engines; long).
bench-county: setup
	$(BIN)/python -m tests.benchmarks.bench_registers --pupils 250000 --engine both

lint: setup
	$(BIN)/ruff check .
	$(BIN)/ruff format --check .

clean:
	rm -rf $(VENV) var test-artifacts

# Kairus ETL Service. Every target creates .venv and installs what it needs when missing.
PYTHON ?= python3.11
VENV   := .venv
PY     := $(VENV)/bin/python
STAMP  := $(VENV)/.installed-dev

.PHONY: demo test serve lint format sim bench clean install

$(PY):
	$(PYTHON) -m venv $(VENV)
	$(PY) -m pip install -q --upgrade pip

$(STAMP): $(PY) requirements.txt requirements-dev.txt pyproject.toml
	$(PY) -m pip install -q -r requirements-dev.txt
	$(PY) -m pip install -q --no-deps -e .
	touch $(STAMP)

install: $(STAMP)

## make demo: simulator -> full sync -> DuckDB, mutate, incremental sync, summaries
demo: $(STAMP)
	$(PY) scripts/demo.py

## make test: the whole suite (what CI runs)
test: $(STAMP)
	$(PY) -m pytest

## make serve: the API, scheduler and /admin on http://localhost:8000
serve: $(STAMP)
	test -f .env || $(PY) -m app init-env
	$(PY) -m app serve

## make lint: ruff (lint + format check) and mypy
lint: $(STAMP)
	$(VENV)/bin/ruff check .
	$(VENV)/bin/ruff format --check .
	$(VENV)/bin/mypy app simulator

format: $(STAMP)
	$(VENV)/bin/ruff format .
	$(VENV)/bin/ruff check --fix .

sim: $(STAMP)
	$(PY) -m simulator --issues 5000 --seed 7 --port 8081

bench: $(STAMP)
	$(PY) -m bench.extract --issues 10000
	$(PY) -m bench.load --issues 20000

clean:
	rm -rf $(VENV) .pytest_cache .mypy_cache .ruff_cache test-artifacts

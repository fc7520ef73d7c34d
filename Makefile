# The habits: `make run` (the example workflows, offline), `make test`, `make lint`, `make bench`.
# Every target creates .venv and installs the pinned requirements first, so a fresh clone needs
# nothing but python3 (3.11+) and make.
PYTHON ?= python3
VENV := .venv
PY := $(VENV)/bin/python
BATON := $(VENV)/bin/baton
STAMP := $(VENV)/.installed

.PHONY: install browser run test unit lint format asl openapi screenshots bench layer synth clean

LAYER := build/layer
NODE_STAMP := node_modules/.installed
CDK_ENV := JSII_SILENCE_WARNING_END_OF_LIFE_NODE_VERSION=20 CDK_DISABLE_VERSION_CHECK=true

$(STAMP): requirements.txt functions/requirements.txt requirements-dev.txt pyproject.toml
	$(PYTHON) -m venv $(VENV)
	$(PY) -m pip install --quiet --upgrade pip
	$(PY) -m pip install --quiet -r requirements-dev.txt
	$(PY) -m pip install --quiet --no-deps -e .
	touch $(STAMP)

# Node tools, pinned in package-lock.json: the CDK CLI, asl-validator, the reference JSONata.
$(NODE_STAMP): package.json package-lock.json
	npm ci --no-audit --no-fund --loglevel=error
	touch $@

install: $(STAMP) $(NODE_STAMP)

# Debian's Chromium and its driver, for the console's browser tests (tests/e2e/test_console.py);
# installed once, with apt-get (as root, as CI runs).
CHROMEDRIVER := /usr/bin/chromedriver
$(CHROMEDRIVER):
	apt-get update -qq
	DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends chromium chromium-driver

browser: $(CHROMEDRIVER)

run: $(STAMP)
	$(BATON) demo

test: install lint synth browser
	# one worker per test file: a file's module-scoped servers and browser are started once
	# (`--dist loadgroup` no longer groups: with pytest 9, xdist's group suffix is not applied)
	$(PY) -m pytest -n 2 --dist loadfile -q

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

# The REST API's OpenAPI document, generated from its routes (a test fails when it is stale).
openapi: install
	$(BATON) openapi > openapi.json

# The console's screenshots in README.md, taken by its browser test (`make test` writes them
# to build/screenshots/ instead, leaving docs/ as committed).
screenshots: install browser
	BATON_SCREENSHOTS=docs $(PY) -m pytest -q -p no:cacheprovider tests/e2e/test_console.py

bench: install
	$(PY) -m bench

# The Lambda dependency layer: manylinux wheels for the deployed runtime and architecture, no
# Docker (see baton/deploy/layer.py); prints the unzipped size of code plus layer.
$(LAYER)/.built: functions/requirements.txt baton/deploy/layer.py $(STAMP)
	$(PY) -m baton.deploy.layer $(LAYER)
	touch $@

layer: $(LAYER)/.built

# The CloudFormation template of the whole product, with the CDK CLI (cdk-nag runs as a
# validation plugin: an unacknowledged finding fails the synth). Nothing reaches AWS.
synth: install layer
	$(CDK_ENV) node_modules/.bin/cdk synth --no-notices --quiet

clean:
	rm -rf $(VENV) build cdk.out node_modules .pytest_cache .mypy_cache .ruff_cache .hypothesis

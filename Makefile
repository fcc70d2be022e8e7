# hpmon — two commands on a fresh machine: `make run` and `make test` (see README.md).
PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin
# The environment is installed from hash-locked files (requirements/README.md); `make lock` refreshes them.
LOCK := requirements/lock.txt
PIP_LOCK := requirements/pip.txt
LOCK_VENV := .cache/lock-venv
PIP_TOOLS := pip-tools==7.6.2
PIP_COMPILE_ARGS ?=
STAMP := $(VENV)/.installed-$(shell cat pyproject.toml $(PIP_LOCK) $(LOCK) | cksum | cut -d' ' -f1)
PYTEST_ARGS ?=

.PHONY: help setup run demo test lint bench clean lock

help:
	@echo "make run    set up, initialise ./data (or \$$HPMON_HOME), crawl the configured sources once"
	@echo "make demo   the same, offline, against the bundled test news site on 127.0.0.1"
	@echo "make test   set up with the test extras and run the whole test suite"
	@echo "make bench  run the benchmarks (bench/results/)"
	@echo "make lock   refresh requirements/lock.txt and pip.txt (hashes) after a change of pyproject.toml's dependencies"

# Every package comes from the lock with its sha256 checked; the project itself is installed
# without dependencies and without a build of its own (setuptools and wheel are in the lock).
$(STAMP): pyproject.toml $(LOCK) $(PIP_LOCK)
	test -x $(BIN)/python || $(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --require-hashes -r $(PIP_LOCK)
	$(BIN)/python -m pip install --quiet --require-hashes -r $(LOCK)
	$(BIN)/python -m pip install --quiet --no-deps --no-build-isolation -e .
	$(BIN)/python -m pip check
	rm -f $(VENV)/.installed-*
	touch $(STAMP)

# Keeps today's pins and adds what pyproject.toml gained; `make lock PIP_COMPILE_ARGS=--upgrade`
# moves everything to the newest allowed versions.
lock:
	test -x $(LOCK_VENV)/bin/pip-compile || { $(PYTHON) -m venv $(LOCK_VENV) && \
		$(LOCK_VENV)/bin/python -m pip install --quiet $(PIP_TOOLS); }
	$(LOCK_VENV)/bin/pip-compile --quiet --generate-hashes --allow-unsafe --strip-extras --extra test \
		--no-emit-index-url --no-emit-find-links $(PIP_COMPILE_ARGS) --output-file $(LOCK) \
		pyproject.toml requirements/build.in
	$(LOCK_VENV)/bin/pip-compile --quiet --generate-hashes --allow-unsafe --strip-extras \
		--no-emit-index-url --no-emit-find-links $(PIP_COMPILE_ARGS) --output-file $(PIP_LOCK) requirements/pip.in

setup: $(STAMP)

run: setup
	$(BIN)/hpmon init
	$(BIN)/hpmon crawl --once

demo: setup
	$(BIN)/python scripts/demo.py

test: setup
	scripts/system-deps.sh
	$(BIN)/ruff check .
	scripts/test.sh $(PYTEST_ARGS)

lint: setup
	$(BIN)/ruff check .

bench: setup
	$(BIN)/python -m bench.run_all

clean:
	rm -rf $(VENV) demo-data .pytest_cache .ruff_cache

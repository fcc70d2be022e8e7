# hpmon — two commands on a fresh machine: `make run` and `make test` (see README.md).
PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin
STAMP := $(VENV)/.installed-$(shell cat pyproject.toml | cksum | cut -d' ' -f1)
PYTEST_ARGS ?=

.PHONY: help setup run demo test lint bench clean

help:
	@echo "make run    set up, initialise ./data (or \$$HPMON_HOME), crawl the configured sources once"
	@echo "make demo   the same, offline, against the bundled test news site on 127.0.0.1"
	@echo "make test   set up with the test extras and run the whole test suite"
	@echo "make bench  run the benchmarks (bench/results/)"

$(STAMP): pyproject.toml
	test -x $(BIN)/python || $(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --upgrade pip
	$(BIN)/python -m pip install --quiet -e '.[test]'
	rm -f $(VENV)/.installed-*
	touch $(STAMP)

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

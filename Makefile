# workbench: `make run` and `make test` work on a fresh clone (they set everything up).
SHELL := /bin/bash
.DEFAULT_GOAL := help

PYTHON ?= python3
VENV := .venv
PEERS := .venv-peers
PY := $(VENV)/bin/python
UV := $(VENV)/bin/uv
UV_VERSION := 0.13.9
DATA_DIR ?= data
NATIVE_SRC := $(shell find native/src native/python -type f 2>/dev/null) native/Cargo.toml native/pyproject.toml

.PHONY: help setup run test lint typecheck test-python test-rust test-notebooks bench peers lab sample lock clean

help: ## List the targets
	@grep -hE '^[a-zA-Z_-]+:.*## ' $(MAKEFILE_LIST) | awk -F ':.*## ' '{printf "  \033[36m%-16s\033[0m %s\n", $$1, $$2}'

$(VENV)/.deps: pyproject.toml requirements.lock
	@test -x $(PY) || $(PYTHON) -m venv $(VENV)
	$(VENV)/bin/pip install -q --disable-pip-version-check uv==$(UV_VERSION)
	$(UV) pip install -q --compile-bytecode --python $(PY) -r requirements.lock
	$(UV) pip install -q --python $(PY) --no-deps -e .
	$(PY) -m compileall -q workbench
	@touch $@

$(VENV)/.native: $(VENV)/.deps $(NATIVE_SRC)
	rm -f native/target/wheels/workbench_native-*.whl
	VIRTUAL_ENV=$(abspath $(VENV)) $(VENV)/bin/maturin build --release -q -m native/Cargo.toml -o native/target/wheels
	$(UV) pip install -q --compile-bytecode --python $(PY) --no-deps --reinstall native/target/wheels/workbench_native-*.whl
	@touch $@

setup: $(VENV)/.native ## Create .venv with the pinned dependencies and the native crate

run: setup ## Main job: sample data if data/ is empty, then a backtest with results and report
	@if [ -z "$$(ls -A $(DATA_DIR)/raw 2>/dev/null)" ]; then $(VENV)/bin/workbench data sample --data-dir $(DATA_DIR); fi
	$(VENV)/bin/workbench data info --data-dir $(DATA_DIR)
	@# Hourly bars, $$25,000 and 1% risk per trade: the risk layer sizes and limits the EMA
	@# crossover through the whole period (1-minute bars with $$5,000 and 2% had 98% of the
	@# entries rejected and no trade after January 2025).
	$(VENV)/bin/workbench backtest --data-dir $(DATA_DIR) --strategy ema_crossover \
		--param fast_period=20 --param slow_period=50 --schema ohlcv-1h \
		--initial-capital 25000 --risk-per-trade 0.01

lint: $(VENV)/.deps ## ruff (lint + format check), the notebook-output check and the import-layer check
	$(VENV)/bin/ruff check workbench tests bench
	$(VENV)/bin/ruff format --check workbench tests bench
	$(PY) -m workbench.devtools.check_notebooks notebooks
	$(PY) -m workbench.devtools.check_layers workbench

typecheck: setup ## mypy on the package and stubtest on the native stub
	$(VENV)/bin/mypy
	$(PY) -m mypy.stubtest workbench_native._native

FUZZ_CASES ?= 5000
FUZZ_SECONDS ?= 180

test-rust: ## cargo test for the native crate, then a bounded byte fuzz of the DBN/book path and the FIX codec/session
	cargo test --quiet --manifest-path native/Cargo.toml --features fix
	@echo "fuzz: $(FUZZ_CASES) cases per property (arbitrary bytes, corrupted DBN, mutated FIX messages), at most $(FUZZ_SECONDS) s"
	PROPTEST_CASES=$(FUZZ_CASES) timeout $(FUZZ_SECONDS) cargo test --quiet \
		--manifest-path native/Cargo.toml --features fix --test book_props -- never_panic
	PROPTEST_CASES=$(FUZZ_CASES) timeout $(FUZZ_SECONDS) cargo test --quiet \
		--manifest-path native/Cargo.toml --features fix --test fix_props

test-python: setup peers ## pytest (unit, integration, infrastructure, notebooks)
	WORKBENCH_PEERS_PYTHON=$(abspath $(PEERS))/bin/python $(VENV)/bin/pytest

test: setup lint typecheck test-rust test-python ## Everything: ruff, mypy, cargo test, pytest

$(PEERS)/.done: bench/peers-requirements.txt $(VENV)/.deps
	@test -x $(PEERS)/bin/python || $(UV) venv -q --python $(PYTHON) $(PEERS)
	$(UV) pip install -q --python $(PEERS)/bin/python -r bench/peers-requirements.txt
	@touch $@

peers: $(PEERS)/.done ## The peers' venv (.venv-peers: nautilus_trader, hftbacktest) for tests and bench

bench: setup peers ## Benchmarks (ratios against peers; not part of the tests)
	WORKBENCH_PEERS_PYTHON=$(abspath $(PEERS))/bin/python $(PY) bench/run_all.py

lab: setup ## JupyterLab on the project (as root, e.g. in a container, with --allow-root)
	$(VENV)/bin/jupyter lab --notebook-dir=. $$(test "$$(id -u)" = 0 && echo --allow-root)

sample: setup ## Write the synthetic sample data set into $(DATA_DIR)
	$(VENV)/bin/workbench data sample --data-dir $(DATA_DIR)

lock: ## Re-pin requirements.lock from pyproject.toml
	$(UV) pip compile -q pyproject.toml --extra dev --no-emit-package workbench-native \
		--python-version 3.11 -o requirements.lock

clean: ## Remove the venv and build outputs (keeps data/ and results/)
	rm -rf $(VENV) $(PEERS) native/target .pytest_cache .ruff_cache .mypy_cache

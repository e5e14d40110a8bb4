# The two commands a new user runs: `make demo` and `make test`.
PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin
STAMP := $(VENV)/.installed

.PHONY: demo demo-windows test lint typecheck pytest clean bench

$(STAMP): pyproject.toml
	$(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --upgrade pip
	$(BIN)/python -m pip install --quiet -e '.[dev]'
	touch $(STAMP)

# Replays the sharded Linux pipeline with act on this machine: every stage job on its own,
# exchanging only artifacts through a local store, then assembles the product.
demo: $(STAMP)
	$(BIN)/rockshard topology validate
	$(BIN)/rockshard replay --platform linux --amdgpu-families gfx110X-all,gfx94X-dcgpu

# The Windows pipeline, replayed here with the host toolchain and --platform windows.
demo-windows: $(STAMP)
	$(BIN)/rockshard replay --platform windows --amdgpu-families gfx110X-all,gfx1151

test: lint typecheck pytest

lint: $(STAMP)
	$(BIN)/ruff check action_lib tests benchmarks
	$(BIN)/ruff format --check action_lib tests benchmarks
	$(BIN)/lint-imports --no-cache

typecheck: $(STAMP)
	$(BIN)/mypy --strict action_lib tests benchmarks

pytest: $(STAMP)
	PATH="$(CURDIR)/$(BIN):$$PATH" $(BIN)/python -m pytest -q

bench: $(STAMP)
	$(BIN)/python benchmarks/topology_scale.py

clean:
	rm -rf $(VENV) .pytest_cache .mypy_cache .ruff_cache

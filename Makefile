# Two entry points a newcomer needs: `make run` serves the CSMS, `make test` runs every check.
# Both create .venv on first use and reinstall only when pyproject.toml changes.
PYTHON ?= python3.11
VENV := .venv
BIN := $(VENV)/bin

.PHONY: run test lint typecheck pytest bench clean

$(BIN)/python:
	$(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --upgrade pip

.make-stamp-run: pyproject.toml | $(BIN)/python
	$(BIN)/python -m pip install --quiet -e .
	touch $@

.make-stamp-test: pyproject.toml | $(BIN)/python
	$(BIN)/python -m pip install --quiet -e '.[test]'
	touch $@ .make-stamp-run

run: .make-stamp-run
	$(BIN)/ocpp-trio serve

lint: .make-stamp-test
	$(BIN)/ruff check engine conformance tests benchmarks
	$(BIN)/ruff format --check engine conformance tests benchmarks

typecheck: .make-stamp-test
	$(BIN)/mypy

pytest: .make-stamp-test
	$(BIN)/python -m pytest

test: lint typecheck pytest

# Load and latency, side by side with a central system built on the `ocpp` package (about 12 minutes;
# wants a quiet machine). BENCH_ARGS="--quick" runs a tenth of the chargers as a harness check.
bench: .make-stamp-test
	$(BIN)/python benchmarks/frame_path_check.py
	$(BIN)/python benchmarks/side_by_side.py $(BENCH_ARGS)

clean:
	rm -rf $(VENV) .make-stamp-* .pytest_cache .mypy_cache .ruff_cache .hypothesis

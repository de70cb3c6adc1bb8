# Two commands do all set-up on a fresh machine (Python 3.11, CPU, package index only):
#   make demo   creates .venv, installs tfface, trains the demo VAE on synthetic faces (offline)
#   make test   installs with the test extra and runs the whole suite
PYTHON ?= python3
VENV   ?= .venv
BIN    := $(VENV)/bin
PY     := $(BIN)/python
PYTEST_ARGS ?=
export TF_CPP_MIN_LOG_LEVEL ?= 2

.PHONY: demo test install install-test bench clean

$(BIN)/activate:
	$(PYTHON) -m venv $(VENV)
	$(PY) -m pip install --quiet --upgrade pip

install: $(BIN)/activate
	$(PY) -m pip install --quiet -e .

install-test: $(BIN)/activate
	$(PY) -m pip install --quiet -e ".[test]"

demo: install
	$(BIN)/tfface train --config pipelines/demo.toml

test: install-test
	$(PY) -m pytest -n 2 --durations=15 $(PYTEST_ARGS)

bench: install
	$(PY) -m pip install --quiet -e ".[bench]"
	# quality.py needs a folder of face photos and 25 CPU-minutes per candidate: run it by hand
	for script in $(filter-out benchmarks/quality.py,$(wildcard benchmarks/*.py)); do $(PY) $$script || exit 1; done

clean:
	rm -rf runs build *.egg-info .pytest_cache

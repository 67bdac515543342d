# dare — setup, demo and tests. `make demo` and `make test` install what they need first (idempotently).
SHELL := /bin/bash
.SHELLFLAGS := -eu -o pipefail -c
.DEFAULT_GOAL := help

APT_PACKAGES := nats-server python3-torch python3-numpy python3-msgpack python3-lmdb python3-pytest libopenblas0-pthread chromium
PYTHON := /usr/bin/python3
export OPENBLAS_NUM_THREADS := 1

.PHONY: help setup setup-apt setup-npm setup-lmdb demo test test-ts test-py typecheck bench clean

help:
	@echo "make demo   set up, then run the main job (a short real run)"
	@echo "make test   set up, then run the whole test suite"
	@echo "make setup  install npm and Debian packages (idempotent)"
	@echo "make bench  benchmark figures (npx dare bench --json)"

setup: setup-apt setup-npm setup-lmdb

# Debian packages: install the missing ones when root, otherwise print the exact command and stop.
setup-apt:
	@missing=""; for p in $(APT_PACKAGES); do \
	  dpkg-query -W -f='$${Status}' $$p 2>/dev/null | grep -q "install ok installed" || missing="$$missing $$p"; \
	done; \
	if [ -n "$$missing" ]; then \
	  if [ "$$(id -u)" = 0 ]; then \
	    echo "setup: installing Debian packages:$$missing"; \
	    apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends $$missing; \
	  else \
	    echo "setup: missing Debian packages; run:"; \
	    echo "  sudo apt-get update && sudo apt-get install -y --no-install-recommends$$missing"; \
	    exit 1; \
	  fi; \
	fi

# npm packages, as locked. npm 11 with omit-lockfile-registry-resolved (this workplace's npmrc) writes lock
# files that its own `npm ci` calls out of sync (other platforms' optional packages); `npm install` installs
# the same locked versions, so it is the fallback.
setup-npm:
	@if [ ! -f node_modules/.package-lock.json ] || [ package-lock.json -nt node_modules/.package-lock.json ]; then \
	  echo "setup: npm ci"; \
	  npm ci --no-audit --no-fund --loglevel=error 2>/dev/null || { echo "setup: npm ci refused the lock file; npm install"; npm install --no-audit --no-fund --loglevel=error; }; \
	fi

# lmdb-js's prebuilt binary writes LMDB data format 2, which standard LMDB tools and Python cannot open:
# rebuild it from source with LMDB_DATA_V1=true (about 30 s, needs g++) unless it already writes format 1.
setup-lmdb: setup-npm
	@if ! node scripts/check-lmdb-format.mjs >/dev/null 2>&1; then \
	  echo "setup: rebuilding lmdb-js for LMDB data format 1"; \
	  LMDB_DATA_V1=true npm rebuild lmdb --build-from-source --loglevel=error; \
	  node scripts/check-lmdb-format.mjs; \
	fi

# The main job: a short real training run (tiny PyTorch model, arithmetic, DARE) on the CPU.
demo: setup
	rm -rf runs/quickstart-1
	node cli/dare.js run scenarios/quickstart.json --run-dir runs/quickstart-1

typecheck: setup-npm
	npx tsc --noEmit -p .

test-ts: setup
	npx vitest run

test-py: setup
	cd gpu-bridge/python && $(PYTHON) -m pytest -q tests

# The whole suite: TypeScript (unit, integration over a real nats-server, fault), Python workers, and the
# Python log reader on a log the TypeScript tests wrote.
test: setup typecheck test-ts test-py

bench: setup
	node cli/dare.js bench --json

clean:
	rm -rf runs .tmp

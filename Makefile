# Yiwang: `make run` starts the demo market, `make test` runs the test suite.
# Both set up everything on a fresh machine: a .venv with Python 3.12+, the locked
# dependencies (uv.lock, installed by uv; caches stay outside the clone).

SHELL := /bin/bash
.DEFAULT_GOAL := help

HOST ?= 127.0.0.1
PORT ?= 8000
# The streams process (uvicorn, Server-Sent Events) listens beside the web server.
STREAMS_PORT ?= $(shell echo $$(( $(PORT) + 1 )))
VENV := .venv
BIN := $(VENV)/bin
UV_VERSION := 0.13.8
export UV_PYTHON_DOWNLOADS := never
export UV_PROJECT_ENVIRONMENT := $(abspath $(VENV))
VAR := $(abspath var)

# The first interpreter that is Python 3.12 or newer.
PYTHON_CANDIDATES := python3.14 python3.13 python3.12 python3
PYTHON := $(firstword $(foreach p,$(PYTHON_CANDIDATES),$(shell command -v $(p) >/dev/null 2>&1 && $(p) -c 'import sys; sys.exit(sys.version_info < (3, 12))' 2>/dev/null && echo $(p))))

.PHONY: help run test bench soak lint format messages check-python deps clean var-dirs

help:
	@echo "make run    start the demo market (web, streams, worker, beat, bots) on http://$(HOST):$(PORT)/"
	@echo "make test   run the test suite (DATABASE_URL selects PostgreSQL)"
	@echo "make bench  run the benchmarks (tests/bench)"
	@echo "make soak   the chaos soak on its own PostgreSQL and Redis (SOAK_MINUTES=10)"
	@echo "make lint   ruff check, format check and the import boundaries"

check-python:
	@if [ -z "$(PYTHON)" ]; then \
	  echo "Yiwang needs Python 3.12 or newer, and none was found on PATH"; \
	  echo "(tried: $(PYTHON_CANDIDATES); plain python3 here is $$(python3 --version 2>&1))."; \
	  echo "Install one (pyenv install 3.12, or your system's python3.12 package),"; \
	  echo "then run make again."; \
	  exit 1; \
	fi

$(BIN)/python: | check-python
	$(PYTHON) -m venv $(VENV)

$(BIN)/uv: $(BIN)/python
	$(BIN)/python -m pip install --quiet --disable-pip-version-check "uv==$(UV_VERSION)"

# The Python client (clients/python) is installed editable: only its own
# dependencies (its pyproject.toml) call for a new sync.
# --inexact keeps uv and pip themselves in the venv.
$(VENV)/.synced: pyproject.toml uv.lock clients/python/pyproject.toml $(BIN)/uv
	$(BIN)/uv sync --frozen --inexact --all-groups --python $(BIN)/python
	@touch $@

deps: $(VENV)/.synced

# Compiled catalogues (*.mo) are build output; the .po files are committed.
messages:
	@command -v msgfmt >/dev/null || { echo "msgfmt missing: apt-get install gettext"; exit 1; }
	@for po in $$(find locale -name '*.po' 2>/dev/null); do \
	  msgfmt --check-format -o "$${po%.po}.mo" "$$po" || exit 1; done

var-dirs:
	@mkdir -p $(VAR)/celery/queue $(VAR)/celery/processed $(VAR)/celery/control $(VAR)/cache $(VAR)/static

run: deps messages var-dirs
	@export DJANGO_DEBUG=$${DJANGO_DEBUG:-true} YIWANG_DEMO=$${YIWANG_DEMO:-true}; \
	$(BIN)/python manage.py migrate --noinput -v 0 && \
	$(BIN)/python manage.py load_catalogue && \
	$(BIN)/python manage.py seed_demo --url http://$(HOST):$(PORT)/ --history && \
	rm -rf var/prometheus && \
	HOST=$(HOST) YIWANG_PORT=$(PORT) YIWANG_STREAMS_PORT=$(STREAMS_PORT) \
	EXCHANGE_STREAMS_URL=$${EXCHANGE_STREAMS_URL:-http://$(HOST):$(STREAMS_PORT)} \
	exec $(BIN)/honcho start -f Procfile

test: deps messages
	$(BIN)/python -m pytest $(PYTEST_ARGS)

bench: deps
	$(BIN)/python -m tests.bench

# Two app nodes, bots and a chaos loop on a private PostgreSQL and Redis (tests/soak);
# the report and plot land in var/soak/. Needs root (PostgreSQL runs as `postgres`).
soak: deps
	$(BIN)/python -m tests.soak

lint: deps
	$(BIN)/ruff check .
	$(BIN)/ruff format --check .
	$(BIN)/lint-imports --no-cache

format: deps
	$(BIN)/ruff format .
	$(BIN)/ruff check --fix .

clean:
	rm -rf $(VENV) var db.sqlite3

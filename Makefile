# Two commands for a newcomer: `make run` (serve the embedded default) and `make test` (whole suite).
PYTHON ?= python3
VENV := .venv
PY := $(VENV)/bin/python
HOST ?= 127.0.0.1
PORT ?= 8000
STAMP := $(VENV)/.installed

.PHONY: install run test test-fast lint typecheck migrate demo clean messages

$(STAMP): pyproject.toml
	test -x $(PY) || $(PYTHON) -m venv $(VENV)
	$(PY) -m pip install --quiet --upgrade pip
	$(PY) -m pip install --quiet -e ".[dev]"
	touch $(STAMP)

## install: create .venv and install the project with its development tools (nothing else)
install: $(STAMP)

## run: install, migrate, load the Guizhou demo data (idempotent) and serve http://$(HOST):$(PORT)
run: install
	$(PY) manage.py migrate --noinput
	$(PY) manage.py load_demo
	@# Periodic sweeps (SMS retries, case clocks, rating invitations) run beside the server.
	$(PY) manage.py run_beat_inline & BEAT=$$!; trap 'kill $$BEAT 2>/dev/null' EXIT INT TERM; \
	$(PY) -m uvicorn config.asgi:application --host $(HOST) --port $(PORT)

## test: install and run the whole suite: everything else on 2 workers, then the browser tests
## (Debian's chromium through Playwright) in a process of their own — Playwright's sync API keeps an
## event loop running in its thread, which must not meet the asyncio tests.
test: install
	$(PY) -m pytest -n 2 --dist loadfile -m "not browser"
	$(PY) -m pytest -m browser

lint:
	$(VENV)/bin/ruff check .
	$(VENV)/bin/ruff format --check .

typecheck:
	$(VENV)/bin/mypy .

clean:
	rm -rf $(VENV) var db.sqlite3*

## messages: refresh the English catalogue and compile it (the compiled .mo is committed)
messages: install
	$(PY) manage.py makemessages -l en --ignore=.venv --ignore=var
	$(PY) manage.py compilemessages --ignore=.venv

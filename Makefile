# Two commands for a newcomer: `make run` (serve the embedded default) and `make test` (whole suite).
PYTHON ?= python3
VENV := .venv
PY := $(VENV)/bin/python
HOST ?= 127.0.0.1
PORT ?= 8000
STAMP := $(VENV)/.installed

.PHONY: install run test test-dates test-fast lint typecheck migrate demo clean messages

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

## test-dates: the suite (browser tests aside) under pinned "todays" (TONGBAN_TEST_NOW, tests/conftest.py):
## a Thursday (the day after the next working day is a Saturday), the Friday before 清明, a make-up
## working Saturday, New Year's Eve, and 30 s after Beijing midnight on 1 Jan 2027 (the UTC date is
## still yesterday's; chinese-calendar 1.11 has no 2027 data, so the Monday-Friday fallback calls that
## holiday a working day).
TEST_DATES ?= 2026-12-03T10:00+08:00 2026-04-03T16:30+08:00 2026-10-10T09:30+08:00 \
	2026-12-31T10:00+08:00 2027-01-01T00:00:30+08:00
## The apps whose tests read the clock (queues, slots, case clocks, deadlines, invitations, OTP,
## ledger sealing, the portal's bookings); the map and catalog tests don't, and CI stays shorter.
DATE_TESTS ?= $(wildcard tests/accounts tests/citizen_portal tests/halls tests/ledger tests/licences \
	tests/notifications tests/ratings tests/security tests/workflows)
test-dates: install
	@set -e; for now in $(TEST_DATES); do \
		echo "=== tests as of $$now"; \
		TONGBAN_TEST_NOW=$$now $(PY) -m pytest -n 2 --dist loadfile -m "not browser" -q $(DATE_TESTS); \
	done

## lint: ruff (lint + format), mypy and the import contracts (pyproject.toml [tool.importlinter])
lint: install
	$(VENV)/bin/ruff check .
	$(VENV)/bin/ruff format --check .
	$(VENV)/bin/mypy .
	$(VENV)/bin/lint-imports --no-cache

typecheck:
	$(VENV)/bin/mypy .

clean:
	rm -rf $(VENV) var db.sqlite3*

## messages: refresh the English catalogue and compile it (the compiled .mo is committed)
messages: install
	$(PY) manage.py makemessages -l en --ignore=.venv --ignore=var
	$(PY) manage.py compilemessages --ignore=.venv

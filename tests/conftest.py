"""Shared fixtures. Tests hit the real database configured by DATABASE_URL (SQLite by default).

Under CI=true a service a test needs (PostgreSQL, Redis, chromium) that is unreachable fails the
run instead of skipping it, so a green CI never hides a missing service.
"""

from __future__ import annotations

import datetime as dt
import os
import socket
from urllib.parse import urlparse

import pytest

pytest_plugins = [
    "tests.fixtures.geo",
    "tests.fixtures.catalog",
    "tests.fixtures.halls",
    "tests.fixtures.accounts",
    "tests.fixtures.notifications",
    "tests.fixtures.workflows",
    "tests.fixtures.live",
    "tests.fixtures.browser",
    "tests.fixtures.screenshots",
]

IN_CI = os.environ.get("CI", "").lower() in ("1", "true", "yes")

# `TONGBAN_TEST_NOW=2026-10-10T09:30+08:00 make test` runs the whole suite as if the machine's
# clock said so (time-machine, ticking from there). CI runs the suite under several such "todays"
# (a Thursday, a Friday before a holiday, a make-up Saturday, New Year's Eve, just after Beijing
# midnight, a day in 2027 that chinese-calendar has no data for), so a test that silently assumes
# "tomorrow is a working day" or "the UTC date is the local date" fails every run, not one day in five.
TEST_NOW_ENV = "TONGBAN_TEST_NOW"
_TRAVELLER = pytest.StashKey["object"]()


def _pinned_now() -> dt.datetime | None:
    raw = os.environ.get(TEST_NOW_ENV, "").strip()
    if not raw:
        return None
    moment = dt.datetime.fromisoformat(raw)
    if moment.tzinfo is None:
        raise pytest.UsageError(f"{TEST_NOW_ENV} needs an explicit offset, e.g. 2026-12-03T10:00+08:00")
    return moment


def pytest_configure(config: pytest.Config) -> None:
    # In pytest_configure, so every xdist worker (its own process) travels before Django starts.
    moment = _pinned_now()
    if moment is not None:
        import time_machine

        traveller = time_machine.travel(moment, tick=True)
        traveller.start()
        config.stash[_TRAVELLER] = traveller


def pytest_unconfigure(config: pytest.Config) -> None:
    traveller = config.stash.get(_TRAVELLER, None)
    if traveller is not None:
        traveller.stop()


def pytest_report_header(config: pytest.Config) -> str | None:
    moment = _pinned_now()
    return f"clock pinned by {TEST_NOW_ENV}: {moment.isoformat()} (ticking)" if moment else None


def skip_or_fail(reason: str) -> None:
    """Skip locally; fail under CI=true, where every service must be present."""
    if IN_CI:
        pytest.fail(f"required under CI=true: {reason}", pytrace=False)
    pytest.skip(reason)


def _reachable(url: str, default_port: int) -> bool:
    parsed = urlparse(url)
    try:
        with socket.create_connection((parsed.hostname or "127.0.0.1", parsed.port or default_port), timeout=2):
            return True
    except OSError:
        return False


def using_postgres() -> bool:
    from django.db import connection

    return connection.vendor == "postgresql"


def pytest_collection_modifyitems(config: pytest.Config, items: list[pytest.Item]) -> None:
    # PostgreSQL-only tests are skipped on the SQLite pass; the CI's PostgreSQL pass runs them.
    if os.environ.get("DATABASE_URL", "").startswith(("postgres://", "postgresql://")):
        return
    skip_pg = pytest.mark.skip(reason="needs PostgreSQL (run with DATABASE_URL=postgres://...)")
    for item in items:
        if "postgres" in item.keywords:
            item.add_marker(skip_pg)


@pytest.fixture
def redis_url() -> str:
    url = os.environ.get("REDIS_URL", "")
    if not url:
        if IN_CI and os.environ.get("TONGBAN_SERVICES_PASS") == "1":
            pytest.fail("REDIS_URL must be set in the services pass", pytrace=False)
        pytest.skip("needs Redis (set REDIS_URL)")
    if not _reachable(url, 6379):
        skip_or_fail(f"Redis unreachable at {url}")
    return url


@pytest.fixture(autouse=True)
def _default_language():
    """Every test starts in the site's default language (Simplified Chinese). A request with an
    English cookie or Accept-Language activates English in the thread that served it (Django's
    LocaleMiddleware does not deactivate it afterwards), and that must not reach the next test."""
    from django.conf import settings
    from django.utils import translation

    translation.activate(settings.LANGUAGE_CODE)
    yield
    translation.activate(settings.LANGUAGE_CODE)


@pytest.fixture(autouse=True)
def _fresh_cache():
    """Throttles, rate buckets and cached indexes must not leak from one test into the next."""
    from tests.cache import clear_own_cache

    clear_own_cache()
    # Process-local indexes trust themselves for a moment without asking the cache; a test must
    # never see the previous test's regions.
    from govmap import geo

    geo.invalidate_county_index()
    yield


@pytest.fixture
def api_client():
    from rest_framework.test import APIClient

    return APIClient()

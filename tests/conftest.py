"""Shared fixtures. Tests hit the real database configured by DATABASE_URL (SQLite by default)."""

from __future__ import annotations

import os

import pytest

pytest_plugins = [
    "tests.fixtures.geo",
    "tests.fixtures.catalog",
    "tests.fixtures.halls",
    "tests.fixtures.accounts",
    "tests.fixtures.notifications",
    "tests.fixtures.workflows",
    "tests.fixtures.live",
]


def pytest_configure(config: pytest.Config) -> None:
    # Under CI=true a missing service is a failure, never a silent skip (see tests/services.py).
    os.environ.setdefault("TONGBAN_TESTING", "1")


@pytest.fixture
def api_client():
    from rest_framework.test import APIClient

    return APIClient()

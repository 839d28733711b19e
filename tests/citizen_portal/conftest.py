"""Fixtures of the citizens' portal tests."""

from __future__ import annotations

from typing import Any

import pytest

# Every test signs results with its own fresh key and stores files under its own media root.
from tests.licences.helpers import on_commit, signing_keys  # noqa: F401


@pytest.fixture
def citizen_client(client: Any, wf: Any) -> Any:
    """The test client logged in as the world's real-name citizen (张三)."""
    client.force_login(wf.users["citizen"])
    return client

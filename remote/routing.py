"""WebSocket routes of remote video verification (collected by config/routing.py)."""

from __future__ import annotations

from typing import Any

from django.urls import re_path

from remote.consumers import VideoSignalConsumer

websocket_urlpatterns: list[Any] = [
    re_path(r"^ws/remote/(?P<session>[0-9a-f-]{36})/$", VideoSignalConsumer.as_asgi()),
]

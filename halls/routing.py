"""WebSocket routes of the live boards (collected by config/routing.py)."""

from __future__ import annotations

from typing import Any

from django.urls import re_path

from halls.consumers import HallQueueConsumer

websocket_urlpatterns: list[Any] = [
    re_path(r"^ws/halls/(?P<code>[\w.-]+)/queue/$", HallQueueConsumer.as_asgi()),
]

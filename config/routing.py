"""WebSocket routes of every app, collected in one place."""

from typing import Any

websocket_urlpatterns: list[Any] = []

try:  # halls owns the live boards; the import is optional until that app provides routes.
    from halls.routing import websocket_urlpatterns as _halls_ws

    websocket_urlpatterns += _halls_ws
except ImportError:  # pragma: no cover
    pass

from remote.routing import websocket_urlpatterns as _remote_ws  # noqa: E402

websocket_urlpatterns += _remote_ws

# Last: any other path is refused with a clean close (4404) instead of URLRouter's "No route found"
# exception, which tore the connection down with a server error and a traceback in the log.
from django.urls import re_path  # noqa: E402

from config.ws import UnknownPathConsumer  # noqa: E402

websocket_urlpatterns.append(re_path(r"", UnknownPathConsumer.as_asgi()))

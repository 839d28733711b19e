"""WebSocket fallbacks shared by every app's routes."""

from __future__ import annotations

from channels.generic.websocket import AsyncWebsocketConsumer

CLOSE_UNKNOWN_PATH = 4404


class UnknownPathConsumer(AsyncWebsocketConsumer):
    """Matches any path no app routes: the handshake is refused and nothing else happens."""

    async def connect(self) -> None:
        await self.close(code=CLOSE_UNKNOWN_PATH)

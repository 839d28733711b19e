"""WebSocket consumers of the live boards: one group per hall.

Thin: a client joins its hall's group, gets the current board on connect (so a reconnecting call
screen is never stale), then every `queue.updated` the actions broadcast after commit.
"""

from __future__ import annotations

from typing import Any

from channels.db import database_sync_to_async
from channels.generic.websocket import AsyncJsonWebsocketConsumer

from halls import queue
from halls.models import Hall

# Application close code for "no such hall" (4000-4999 are free for applications).
CLOSE_UNKNOWN_HALL = 4404


def _hall_id(code: str) -> int | None:
    return Hall.objects.filter(code=code, is_active=True).values_list("pk", flat=True).first()


class HallQueueConsumer(AsyncJsonWebsocketConsumer):
    """`/ws/halls/<code>/queue/`: read-only board feed; anyone may watch a hall's call screen."""

    group: str | None = None

    async def connect(self) -> None:
        code = str(self.scope["url_route"]["kwargs"]["code"])
        hall_id = await database_sync_to_async(_hall_id)(code)
        if hall_id is None:
            await self.close(code=CLOSE_UNKNOWN_HALL)
            return
        self.group = queue.group_name(hall_id)
        # Join before reading the state: a change committed in between is then delivered, never lost.
        await self.channel_layer.group_add(self.group, self.channel_name)
        await self.accept()
        state = await database_sync_to_async(queue.queue_state)(hall_id)
        await self.send_json(dict(state))

    async def disconnect(self, code: int) -> None:
        if self.group:
            await self.channel_layer.group_discard(self.group, self.channel_name)

    async def receive_json(self, content: Any, **kwargs: Any) -> None:
        # Clients only listen; a "ping" keeps proxies from closing an idle socket.
        if isinstance(content, dict) and content.get("type") == "ping":
            await self.send_json({"type": "pong"})

    async def queue_updated(self, event: dict[str, Any]) -> None:
        # The broadcaster serialises the board once ("text"); a thousand screens then only copy it.
        text = event.get("text")
        if isinstance(text, str):
            await self.send(text_data=text)
        else:
            await self.send_json(event)

"""WebSocket consumers of the live boards: one group per hall.

Thin: a client joins its hall's group, gets the current board on connect (so a reconnecting call
screen is never stale), then every `queue.updated` the actions broadcast after commit.

A broadcast can be lost on the way (the channel layer is at-most-once: a Redis restart, a publisher
whose pooled connection just died — the fault drill in bench/faults.py caught one). So each socket
also re-reads its hall every QUEUE_BOARD_REFRESH_SECONDS (default 30, ±10 % so screens spread out;
0 turns it off) and sends the board when it changed since the previous read: a screen is never
wrong for longer than that, whatever was lost.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import random
from typing import Any

from channels.db import database_sync_to_async
from channels.generic.websocket import AsyncJsonWebsocketConsumer
from django.conf import settings
from django.utils.translation import gettext as _

from halls import queue
from halls.models import Hall

# Application close code for "no such hall" (4000-4999 are free for applications).
CLOSE_UNKNOWN_HALL = 4404
# Clients only ever send {"type": "ping"}; anything much longer is not for us and is not parsed.
MAX_FRAME_CHARS = 4096

# Message types whose handlers never touch the database. Channels (4.2+) runs
# `close_old_connections` through `sync_to_async` before EVERY handler: one hop through the single
# thread-sensitive executor per message and per socket. For a broadcast to a thousand screens that is a
# thousand serialised thread hops, sharing that one thread with the HTTP views — it was most of the
# delivery time. Handlers that do use the database go through `database_sync_to_async`, which closes
# stale connections itself.
DB_FREE_MESSAGES = frozenset({"queue.updated", "websocket.receive"})


logger = logging.getLogger(__name__)


def refresh_seconds() -> float:
    return float(settings.QUEUE_BOARD_REFRESH_SECONDS)


def _board(state: Any) -> dict[str, Any]:
    # What the screen shows; `at` (when it was read) changes on every read.
    return {k: v for k, v in dict(state).items() if k != "at"}


def _hall_id(code: str) -> int | None:
    return Hall.objects.filter(code=code, is_active=True).values_list("pk", flat=True).first()


class HallQueueConsumer(AsyncJsonWebsocketConsumer):
    """`/ws/halls/<code>/queue/`: read-only board feed; anyone may watch a hall's call screen."""

    group: str | None = None
    _refresher: asyncio.Future[None] | None = None

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
        if refresh_seconds() > 0:
            self._refresher = asyncio.ensure_future(self._refresh(hall_id, _board(state)))

    async def _refresh(self, hall_id: int, last: dict[str, Any]) -> None:
        """Re-read the hall now and then; send the board when it changed (a lost broadcast)."""
        while True:
            await asyncio.sleep(refresh_seconds() * random.uniform(0.9, 1.1))
            try:
                state = await database_sync_to_async(queue.queue_state)(hall_id)
            except Exception as exc:  # the database is restarting: try again next time
                logger.warning("board refresh for hall %s failed: %s", hall_id, exc)
                continue
            board = _board(state)
            if board != last:
                last = board
                await self.send_json(dict(state))

    async def dispatch(self, message: dict[str, Any]) -> None:
        if message.get("type") in DB_FREE_MESSAGES:
            handler = getattr(self, message["type"].replace(".", "_"))
            await handler(message)
        else:
            await super().dispatch(message)

    async def disconnect(self, code: int) -> None:
        if self._refresher is not None:
            self._refresher.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await self._refresher
        if self.group:
            await self.channel_layer.group_discard(self.group, self.channel_name)

    async def receive(self, text_data: str | None = None, bytes_data: bytes | None = None, **kwargs: Any) -> None:
        # A frame that is not JSON (or is binary) gets an error message; the screen stays connected.
        # Before, the JSONDecodeError escaped the consumer and the socket died with it.
        if text_data is None or len(text_data) > MAX_FRAME_CHARS:
            await self.send_json({"type": "error", "detail": str(_("只接受 JSON 文本消息。"))})
            return
        try:
            content = await self.decode_json(text_data)
        except ValueError:
            await self.send_json({"type": "error", "detail": str(_("消息不是有效的 JSON。"))})
            return
        await self.receive_json(content, **kwargs)

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

"""The board consumer's fast path: group messages are forwarded verbatim without a DB thread hop."""

from __future__ import annotations

import json

import pytest
from channels.layers import get_channel_layer
from channels.routing import URLRouter
from channels.testing import WebsocketCommunicator

from halls import queue
from halls.consumers import DB_FREE_MESSAGES
from halls.routing import websocket_urlpatterns

pytestmark = pytest.mark.django_db(transaction=True)


async def test_queue_updates_and_pings_skip_close_old_connections(live_hall, monkeypatch):
    hops: list[str] = []

    async def counting_close() -> None:
        hops.append("close_old_connections")

    # channels' AsyncConsumer.dispatch runs this (a sync_to_async hop) before every handler.
    monkeypatch.setattr("channels.consumer.aclose_old_connections", counting_close)
    board = WebsocketCommunicator(URLRouter(websocket_urlpatterns), f"/ws/halls/{live_hall.code}/queue/")
    connected, _ = await board.connect()
    assert connected
    await board.receive_json_from(timeout=5)
    # The connect handler reads the database: it still goes through channels' cleanup.
    assert hops == ["close_old_connections"]

    text = json.dumps({"type": "queue.updated", "hall": live_hall.code, "waiting": 7}, ensure_ascii=False)
    layer = get_channel_layer()
    assert layer is not None
    await layer.group_send(queue.group_name(live_hall.pk), {"type": "queue.updated", "text": text})
    # Byte for byte what the broadcaster serialised once.
    assert await board.receive_from(timeout=5) == text

    await board.send_json_to({"type": "ping"})
    assert await board.receive_json_from(timeout=5) == {"type": "pong"}
    assert hops == ["close_old_connections"]
    await board.disconnect()


async def test_a_message_without_text_is_still_sent_as_json(live_hall):
    board = WebsocketCommunicator(URLRouter(websocket_urlpatterns), f"/ws/halls/{live_hall.code}/queue/")
    connected, _ = await board.connect()
    assert connected
    await board.receive_json_from(timeout=5)
    layer = get_channel_layer()
    assert layer is not None
    await layer.group_send(queue.group_name(live_hall.pk), {"type": "queue.updated", "waiting": 3})
    assert await board.receive_json_from(timeout=5) == {"type": "queue.updated", "waiting": 3}
    await board.disconnect()


async def test_unknown_message_types_still_fail_loudly(live_hall):
    from halls.consumers import HallQueueConsumer

    assert "queue.updated" in DB_FREE_MESSAGES
    consumer = HallQueueConsumer()
    with pytest.raises(ValueError, match="No handler"):
        await consumer.dispatch({"type": "board.unknown"})

"""CHANNEL_LAYER_BACKEND: which channels-redis layer carries the live boards (pubsub by default)."""

from __future__ import annotations

import os
import uuid

import pytest
from channels.db import database_sync_to_async
from channels.layers import get_channel_layer
from channels.routing import URLRouter
from channels.testing import WebsocketCommunicator
from django.core.exceptions import ImproperlyConfigured

from config.settings import base
from config.settings.base import CHANNEL_LAYER_BACKENDS, build_channel_layers

REDIS_URL = os.environ.get("REDIS_URL", "")


def test_without_redis_the_layer_is_in_memory_whatever_the_backend():
    for backend in ("core", "pubsub", "anything"):
        assert build_channel_layers("", backend) == {"default": {"BACKEND": "channels.layers.InMemoryChannelLayer"}}


def test_pubsub_layer_has_a_sized_pool_and_no_capacity_or_expiry():
    layers = build_channel_layers("redis://127.0.0.1:6379/3", "pubsub", max_connections=250, socket_timeout=12.5)
    layer = layers["default"]
    assert layer["BACKEND"] == "channels_redis.pubsub.RedisPubSubChannelLayer"
    assert layer["CONFIG"] == {
        "hosts": [{"address": "redis://127.0.0.1:6379/3", "max_connections": 250, "socket_timeout": 12.5}]
    }


def test_core_layer_keeps_capacity_and_expiry():
    layer = build_channel_layers("redis://127.0.0.1:6379/3", "core")["default"]
    assert layer["BACKEND"] == "channels_redis.core.RedisChannelLayer"
    assert layer["CONFIG"]["capacity"] == 1500
    assert layer["CONFIG"]["expiry"] == 30
    assert layer["CONFIG"]["hosts"][0]["max_connections"] == 1000


def test_an_unknown_backend_is_refused_at_startup():
    with pytest.raises(ImproperlyConfigured, match="CHANNEL_LAYER_BACKEND must be one of core, pubsub"):
        build_channel_layers("redis://127.0.0.1:6379/3", "kafka")


@pytest.mark.skipif("CHANNEL_LAYER_BACKEND" in os.environ, reason="the environment chooses the backend")
def test_pubsub_is_the_default():
    assert base.CHANNEL_LAYER_BACKEND == "pubsub"


@pytest.mark.skipif(not REDIS_URL, reason="needs Redis (run with REDIS_URL=redis://...)")
@pytest.mark.django_db(transaction=True)
@pytest.mark.parametrize("backend", sorted(CHANNEL_LAYER_BACKENDS))
async def test_a_board_hears_call_next_through_each_backend(backend, settings, live_hall, clerk_for):
    from halls import actions
    from halls.models import Window
    from halls.routing import websocket_urlpatterns

    layers = build_channel_layers(REDIS_URL, backend)
    # Our own key/channel prefix: other test runs may share this Redis and have the same hall ids.
    layers["default"]["CONFIG"]["prefix"] = f"test-{uuid.uuid4().hex[:8]}"
    settings.CHANNEL_LAYERS = layers  # channels drops its cached layers on setting_changed
    layer = get_channel_layer()
    assert f"{type(layer).__module__}.{type(layer).__name__}" == CHANNEL_LAYER_BACKENDS[backend]

    clerk = await database_sync_to_async(clerk_for)(live_hall, "2")
    window = await database_sync_to_async(Window.objects.get)(hall=live_hall, number="2")
    await database_sync_to_async(actions.issue_ticket)(hall=live_hall, category="A", actor=None)

    board = WebsocketCommunicator(URLRouter(websocket_urlpatterns), f"/ws/halls/{live_hall.code}/queue/")
    connected, _ = await board.connect()
    assert connected
    assert (await board.receive_json_from(timeout=5))["waiting"] == 1

    ticket = await database_sync_to_async(actions.call_next)(window=window, actor=clerk)
    update = await board.receive_json_from(timeout=5)
    assert update["type"] == "queue.updated"
    assert update["waiting"] == 0
    assert update["called"][0]["ticket"] == ticket.number
    await board.disconnect()

"""The live board over Channels: state on connect, `queue.updated` after call-next."""

from __future__ import annotations

import pytest
from channels.db import database_sync_to_async
from channels.routing import URLRouter
from channels.testing import WebsocketCommunicator

from halls import actions
from halls.models import Window
from halls.routing import websocket_urlpatterns

pytestmark = pytest.mark.django_db(transaction=True)


def _app():
    return URLRouter(websocket_urlpatterns)


async def _connect(code: str) -> WebsocketCommunicator:
    communicator = WebsocketCommunicator(_app(), f"/ws/halls/{code}/queue/")
    connected, _ = await communicator.connect()
    assert connected
    return communicator


async def test_state_on_connect_and_update_after_call_next(live_hall, clerk_for):
    clerk = await database_sync_to_async(clerk_for)(live_hall, "2")
    window = await database_sync_to_async(Window.objects.get)(hall=live_hall, number="2")
    for _ in range(2):
        await database_sync_to_async(actions.issue_ticket)(hall=live_hall, category="A", actor=None)

    board = await _connect(live_hall.code)
    hello = await board.receive_json_from(timeout=5)
    assert hello["type"] == "queue.updated"
    assert hello["waiting"] == 2
    assert hello["called"] == []

    ticket = await database_sync_to_async(actions.call_next)(window=window, actor=clerk)
    update = await board.receive_json_from(timeout=5)
    assert update["type"] == "queue.updated"
    assert update["waiting"] == 1
    assert update["called"][0]["ticket"] == ticket.number == "A001"
    assert update["called"][0]["window"] == "2"

    # A board that reconnects gets the current state at once.
    await board.disconnect()
    again = await _connect(live_hall.code)
    state = await again.receive_json_from(timeout=5)
    assert state["waiting"] == 1
    assert state["called"][0]["ticket"] == "A001"
    await again.disconnect()


async def test_other_halls_boards_hear_nothing(live_hall, clerk_for, guizhou_regions):
    from tests.fixtures.halls import make_hall

    other = await database_sync_to_async(make_hall)("520103", code="520103-OTHER")
    board = await _connect(other.code)
    await board.receive_json_from(timeout=5)
    await database_sync_to_async(actions.issue_ticket)(hall=live_hall, category="A", actor=None)
    assert await board.receive_nothing(timeout=0.3)
    await board.disconnect()


async def test_unknown_hall_is_refused(live_hall):
    communicator = WebsocketCommunicator(_app(), "/ws/halls/no-such-hall/queue/")
    connected, code = await communicator.connect()
    assert not connected
    assert code == 4404


async def test_a_lost_broadcast_is_made_good_by_the_refresh(live_hall, settings):
    """A change whose broadcast never arrived (channel layer restarted) still reaches the screen."""
    settings.QUEUE_BOARD_REFRESH_SECONDS = 0.2
    board = await _connect(live_hall.code)
    assert (await board.receive_json_from(timeout=5))["waiting"] == 0
    # Written without the action: no broadcast at all, as when the layer dropped it.
    await database_sync_to_async(_ticket_without_broadcast)(live_hall)
    update = await board.receive_json_from(timeout=5)
    assert update["type"] == "queue.updated" and update["waiting"] == 1
    # Nothing changed since: the refresh stays quiet.
    assert await board.receive_nothing(timeout=0.6)
    await board.disconnect()


def _ticket_without_broadcast(hall) -> None:
    from halls.models import QueueTicket
    from halls.queue import service_day

    QueueTicket.objects.create(hall=hall, service_date=service_day(), category="A", seq=99, number="A099")

"""WebSocket hardening: a non-JSON frame gets an error message and the board keeps working; an
unknown path is refused with a clean close, through the real ASGI stack."""

from __future__ import annotations

import pytest
from channels.db import database_sync_to_async
from channels.testing import WebsocketCommunicator

from halls import actions

pytestmark = pytest.mark.django_db(transaction=True)

HEADERS = [(b"origin", b"http://localhost"), (b"host", b"localhost")]


def _app():
    from config.asgi import application

    return application


async def test_non_json_frames_get_an_error_and_the_socket_lives(live_hall):
    board = WebsocketCommunicator(_app(), f"/ws/halls/{live_hall.code}/queue/", headers=HEADERS)
    connected, _ = await board.connect()
    assert connected
    await board.receive_json_from(timeout=5)  # the state on connect
    for frame in ("not json {", "[" * 5000, '{"type": '):
        await board.send_to(text_data=frame)
        reply = await board.receive_json_from(timeout=5)
        assert reply["type"] == "error" and reply["detail"]
    await board.send_to(bytes_data=b"\x00\x01")
    assert (await board.receive_json_from(timeout=5))["type"] == "error"
    # Still alive: a ping is answered and the next broadcast arrives.
    await board.send_json_to({"type": "ping"})
    assert (await board.receive_json_from(timeout=5)) == {"type": "pong"}
    await database_sync_to_async(actions.issue_ticket)(hall=live_hall, category="A", actor=None)
    update = await board.receive_json_from(timeout=5)
    assert update["hall"] == live_hall.code
    await board.disconnect()


@pytest.mark.parametrize("path", ["/ws/nope/", "/ws/halls/", "/", "/ws/halls/x/queue/extra/"])
async def test_unknown_paths_close_cleanly(path, live_hall):
    communicator = WebsocketCommunicator(_app(), path, headers=HEADERS)
    connected, code = await communicator.connect()
    assert not connected and code == 4404
    await communicator.wait()

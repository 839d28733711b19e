"""`/ws/remote/<session>/`: the signalling path of a video session — one Channels group per session.

Thin: the handshake is refused (close before accept, code 4403) to anyone who is not one of the
session's two sides, and for a session that is over (4410). Members relay WebRTC offers, answers
and ICE candidates to each other; the server never sees media. The second browser to arrive makes
the offer (decided under the session's row lock, so two arriving together never both offer).
"""

from __future__ import annotations

import json
from typing import Any

from channels.db import database_sync_to_async
from channels.generic.websocket import AsyncJsonWebsocketConsumer
from django.utils import timezone

from remote import actions, conf

CLOSE_NOT_MEMBER = 4403
CLOSE_SESSION_OVER = 4410
CLOSE_REPLACED = 4409


class VideoSignalConsumer(AsyncJsonWebsocketConsumer):
    group: str | None = None
    session_id: str = ""
    side: str = ""
    present: frozenset[str] = frozenset()

    async def connect(self) -> None:
        self.session_id = str(self.scope["url_route"]["kwargs"]["session"])
        user = self.scope.get("user")
        session = self.scope.get("session")
        guest = list(session.get("remote_guest", [])) if session is not None else []
        try:
            joined = await database_sync_to_async(actions.join)(
                session_id=self.session_id, user=user, guest_sessions=guest, channel_name=self.channel_name
            )
        except actions.NotAMember:
            await self.close(code=CLOSE_NOT_MEMBER)
            return
        except actions.SessionConflict:
            await self.close(code=CLOSE_SESSION_OVER)
            return
        self.side = joined.side
        self.present = frozenset(joined.present)
        self.group = actions.group_name(self.session_id)
        for old in joined.replaced:
            await self.channel_layer.send(old, {"type": "session.replaced"})
        await self.channel_layer.group_add(self.group, self.channel_name)
        await self.accept()
        await self.send_json(
            {
                "type": "welcome",
                "side": joined.side,
                "state": joined.state,
                "deadline": timezone.localtime(joined.deadline).isoformat(),
                "ice_servers": conf.ice_servers(),
                "offer": joined.offer,
            }
        )
        await self.channel_layer.group_send(
            self.group, {"type": "peer.joined", "side": self.side, "channel": self.channel_name}
        )

    async def disconnect(self, code: int) -> None:
        if self.group is None:
            return
        await database_sync_to_async(actions.leave)(channel_name=self.channel_name)
        await self.channel_layer.group_send(
            self.group, {"type": "peer.left", "side": self.side, "channel": self.channel_name}
        )
        await self.channel_layer.group_discard(self.group, self.channel_name)

    async def receive(self, text_data: str | None = None, bytes_data: bytes | None = None, **kwargs: Any) -> None:
        if text_data is None or len(text_data) > conf.max_signal_bytes():
            return  # nothing binary, nothing oversized is relayed
        try:
            content = json.loads(text_data)
        except ValueError:
            return
        if isinstance(content, dict):
            await self.receive_json(content)

    async def receive_json(self, content: Any, **kwargs: Any) -> None:
        kind = content.get("type")
        if kind == "signal" and isinstance(content.get("data"), dict) and self.group:
            await self.channel_layer.group_send(
                self.group, {"type": "signal.relay", "from": self.channel_name, "data": content["data"]}
            )
        elif kind == "connected":
            changed = await database_sync_to_async(actions.mark_connected)(
                session_id=self.session_id, channel_name=self.channel_name
            )
            if changed and self.group:
                await self.channel_layer.group_send(self.group, {"type": "session.state", "state": "connected"})
        elif kind == "ping":
            await self.send_json({"type": "pong"})

    # --- group messages --------------------------------------------------------------------------

    async def signal_relay(self, event: dict[str, Any]) -> None:
        if event.get("from") != self.channel_name:
            await self.send_json({"type": "signal", "data": event["data"]})

    async def peer_joined(self, event: dict[str, Any]) -> None:
        # A peer that was there before us is already in our welcome ("offer"); its announcement can
        # still arrive late over channels-redis' pub/sub and must not look like a second arrival.
        if event.get("channel") != self.channel_name and event.get("channel") not in self.present:
            await self.send_json({"type": "peer-joined", "side": event.get("side")})

    async def peer_left(self, event: dict[str, Any]) -> None:
        if event.get("channel") != self.channel_name:
            await self.send_json({"type": "peer-left", "side": event.get("side")})

    async def session_state(self, event: dict[str, Any]) -> None:
        await self.send_json({"type": "state", "state": event.get("state")})

    async def session_outcome(self, event: dict[str, Any]) -> None:
        await self.send_json({k: event.get(k) for k in ("outcome", "label", "reason", "side")} | {"type": "outcome"})

    async def session_closed(self, event: dict[str, Any]) -> None:
        await self.send_json({"type": "closed", "state": event.get("state")})
        self.group, group = None, self.group
        if group:
            await self.channel_layer.group_discard(group, self.channel_name)
        await self.close(code=CLOSE_SESSION_OVER)

    async def session_replaced(self, event: dict[str, Any]) -> None:
        # The same side opened the call in another tab: this one steps aside without announcing a
        # departure (the other side's call continues with the new tab).
        await self.send_json({"type": "replaced"})
        self.group, group = None, self.group
        if group:
            await self.channel_layer.group_discard(group, self.channel_name)
        await self.close(code=CLOSE_REPLACED)

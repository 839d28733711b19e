"""The replay's hall traffic: queue tickets, call-next/finish at the intake windows, one live board
per hall on the WebSocket, and the map and hall reads. A mixin of bench/replay.py's Replay (it uses
its api, world, counts, boards, called and args); never imported by the app.
"""

from __future__ import annotations

import asyncio
import json
import random
import time
from typing import Any

GUIZHOU_BBOX = (103.6, 24.6, 109.6, 29.2)


class HallTraffic:
    api: Any
    world: Any
    args: Any
    counts: Any
    called: dict[int, int]
    double_calls: list[dict[str, Any]]
    boards: dict[str, dict[str, Any]]
    stopping: bool

    def write(self, rec: dict[str, Any]) -> None:
        raise NotImplementedError

    async def staff_token(self, username: str) -> str | None:
        raise NotImplementedError

    async def take_ticket(self, rng: random.Random) -> None:
        hall = rng.choice(self.world.halls)
        cats = self.world.categories.get(hall["code"]) or ["A"]
        status, _ = await self.api.call(
            "POST",
            f"/api/v1/halls/{hall['code']}/tickets/",
            "/api/v1/halls/{code}/tickets/",
            json_body={"category": rng.choice(cats)},
            xff=f"10.9.{rng.randint(0, 255)}.{rng.randint(1, 254)}",
        )
        if status == 201:
            self.counts["tickets"] += 1

    async def call_next(self, rng: random.Random) -> None:
        hall = rng.choice(self.world.halls)
        if not hall["windows"]:
            return
        window = rng.choice(hall["windows"])
        token = await self.staff_token(hall["clerk"])
        status, ticket = await self.api.call(
            "POST",
            f"/api/v1/windows/{window}/call-next/",
            "/api/v1/windows/{id}/call-next/",
            token=token,
            ok=(200, 204),
        )
        if status != 200 or not ticket:
            return
        tid = int(ticket["id"])
        if tid in self.called:
            self.double_calls.append({"ticket": tid, "windows": [self.called[tid], window]})
        self.called[tid] = window
        self.write({"kind": "ticket_called", "ticket": tid, "window": window, "hall": hall["code"]})
        self.counts["tickets_called"] += 1
        await asyncio.sleep(rng.uniform(0.5, 3) * max(self.args.step_gap, 0.1))
        await self.api.call("POST", f"/api/v1/tickets/{tid}/finish/", "/api/v1/tickets/{id}/finish/", token=token)

    async def board(self, hall: str) -> None:
        """One call screen per hall: stays connected, reconnects (to any worker) when cut off."""
        import aiohttp

        state = self.boards.setdefault(hall, {"connects": 0, "messages": 0, "last": None, "drops": 0})
        i = len(self.boards)  # spread the screens over the workers, as a proxy would
        while not self.stopping:
            base = self.api.bases[i % len(self.api.bases)]
            i += 1
            url = base.replace("http://", "ws://") + f"/ws/halls/{hall}/queue/"
            try:
                async with self.api.session.ws_connect(url, origin=base, heartbeat=20, timeout=10) as ws:
                    state["connects"] += 1
                    async for msg in ws:
                        if msg.type == aiohttp.WSMsgType.TEXT:
                            data = json.loads(msg.data)
                            if data.get("type") == "queue.updated":
                                state["messages"] += 1
                                state["last"] = data
                                state["last_at"] = time.time()
                        elif msg.type in (aiohttp.WSMsgType.CLOSED, aiohttp.WSMsgType.ERROR):
                            break
            except (aiohttp.ClientError, TimeoutError, OSError):
                pass
            if not self.stopping:
                state["drops"] += 1
                await asyncio.sleep(1)

    async def read_map(self, rng: random.Random) -> None:
        r = rng.random()
        if r < 0.5:
            lat, lon = rng.uniform(GUIZHOU_BBOX[1], GUIZHOU_BBOX[3]), rng.uniform(GUIZHOU_BBOX[0], GUIZHOU_BBOX[2])
            await self.api.call(
                "GET",
                "/api/v1/halls/nearest/",
                "/api/v1/halls/nearest/",
                params={"lat": f"{lat:.5f}", "lon": f"{lon:.5f}", "k": 5},
            )
        elif r < 0.8:
            lon = rng.uniform(GUIZHOU_BBOX[0], GUIZHOU_BBOX[2] - 0.5)
            lat = rng.uniform(GUIZHOU_BBOX[1], GUIZHOU_BBOX[3] - 0.4)
            await self.api.call(
                "GET",
                "/api/v1/map/halls.geojson",
                "/api/v1/map/halls.geojson",
                params={"bbox": f"{lon:.3f},{lat:.3f},{lon + 0.5:.3f},{lat + 0.4:.3f}"},
            )
        else:
            hall = rng.choice(self.world.halls)
            await self.api.call("GET", f"/api/v1/halls/{hall['code']}/", "/api/v1/halls/{code}/")

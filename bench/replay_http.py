"""The replay's HTTP side: an aiohttp client over several upstreams (round robin, the next one on a
refused connection, as nginx's proxy_next_upstream does), the figures it keeps, the world it
drives (bench/stack.prepare's world.json) and how its people sign in (Logins). Used by
bench/replay.py; never imported by the app.
"""

from __future__ import annotations

import asyncio
import contextlib
import json
import random
import re
import statistics
import time
from collections import Counter, defaultdict
from dataclasses import dataclass, field
from typing import Any

PNG = b"\x89PNG\r\n\x1a\n" + bytes(range(256)) * 8  # a small scan


def percentiles(samples: list[float]) -> dict[str, float]:
    if not samples:
        return {"n": 0}
    s = sorted(samples)

    def pct(p: float) -> float:
        return round(s[min(len(s) - 1, round(p / 100 * (len(s) - 1)))], 1)

    return {
        "n": len(s),
        "mean_ms": round(statistics.fmean(s), 1),
        "p50_ms": pct(50),
        "p95_ms": pct(95),
        "p99_ms": pct(99),
        "max_ms": round(s[-1], 1),
    }


@dataclass
class Stats:
    latencies: dict[str, list[float]] = field(default_factory=lambda: defaultdict(list))
    statuses: dict[str, Counter[str]] = field(default_factory=lambda: defaultdict(Counter))
    errors: Counter[str] = field(default_factory=Counter)
    failovers: int = 0

    def add(self, endpoint: str, ms: float, status: str, ok: bool) -> None:
        self.latencies[endpoint].append(ms)
        self.statuses[endpoint][status] += 1
        if not ok:
            self.errors[f"{endpoint} → {status}"] += 1


class Api:
    """HTTP over several upstreams: round robin, next upstream on a refused connection."""

    def __init__(self, bases: list[str], stats: Stats, timeout: float = 30.0) -> None:
        self.bases = bases
        self.stats = stats
        self.timeout = timeout
        self._next = 0
        self.session: Any = None

    async def __aenter__(self) -> Api:
        import aiohttp

        self.session = aiohttp.ClientSession(
            connector=aiohttp.TCPConnector(limit=400, limit_per_host=200),
            timeout=aiohttp.ClientTimeout(total=self.timeout),
        )
        return self

    async def __aexit__(self, *exc: object) -> None:
        await self.session.close()

    def pick(self) -> str:
        self._next = (self._next + 1) % len(self.bases)
        return self.bases[self._next]

    async def call(
        self,
        method: str,
        path: str,
        endpoint: str,
        *,
        token: str | None = None,
        json_body: Any = None,
        form: dict[str, Any] | None = None,
        params: dict[str, Any] | None = None,
        xff: str | None = None,
        ok: tuple[int, ...] = (200, 201),
    ) -> tuple[int, Any]:
        """(status, parsed JSON or None); status 0 when no answer came (connection lost, timeout)."""
        import aiohttp

        headers = {"Accept": "application/json"}
        if token:
            headers["Authorization"] = f"Token {token}"
        if xff:
            headers["X-Forwarded-For"] = xff
        name = f"{method} {endpoint}"
        for attempt in range(len(self.bases)):
            base = self.pick()
            data: Any = None
            if form is not None:
                data = aiohttp.FormData()
                for k, v in form.items():
                    if isinstance(v, bytes):
                        data.add_field(k, v, filename="scan.png", content_type="image/png")
                    else:
                        data.add_field(k, str(v))
            started = time.perf_counter()
            try:
                async with self.session.request(
                    method, base + path, json=json_body, data=data, params=params, headers=headers
                ) as resp:
                    raw = await resp.read()
                    ms = (time.perf_counter() - started) * 1000
                    body: Any = None
                    if raw and resp.content_type == "application/json":
                        with contextlib.suppress(ValueError):
                            body = json.loads(raw)
                    self.stats.add(name, ms, str(resp.status), resp.status in ok)
                    return resp.status, body
            except aiohttp.ClientConnectorError:
                # Refused before anything was sent: safe to try the next worker, as a proxy would.
                self.stats.failovers += 1
                if attempt == len(self.bases) - 1:
                    self.stats.add(name, (time.perf_counter() - started) * 1000, "refused", False)
                continue
            except (TimeoutError, aiohttp.ClientError) as exc:
                self.stats.add(name, (time.perf_counter() - started) * 1000, type(exc).__name__, False)
                return 0, None
        return 0, None


@dataclass
class World:
    halls: list[dict[str, Any]]
    approvers: dict[str, str]
    supervisor: str
    password: str
    tokens: dict[str, str]
    sms: str
    items: list[dict[str, Any]] = field(default_factory=list)
    categories: dict[str, list[str]] = field(default_factory=dict)


class Logins:
    """Signing in through the API: staff by password (one token per user, fetched once under a
    per-user lock), citizens by SMS code read from the stand-in, and the next shift's clerk. A mixin
    of bench/replay.py's Replay (it uses its api, world, args, counts, tokens and _login_locks)."""

    api: Api
    world: World
    args: Any
    counts: Any
    tokens: dict[str, str]
    _login_locks: dict[str, asyncio.Lock]

    async def staff_token(self, username: str) -> str | None:
        if username in self.tokens:
            return self.tokens[username]
        async with self._login_locks[username]:
            if username not in self.tokens:
                for _ in range(5):
                    status, body = await self.api.call(
                        "POST",
                        "/api/v1/auth/token/",
                        "/api/v1/auth/token/",
                        json_body={"username": username, "password": self.world.password},
                    )
                    if status == 200:
                        self.tokens[username] = body["token"]
                        break
                    await asyncio.sleep(1)
        return self.tokens.get(username)

    async def citizen_login(self, who: dict[str, str]) -> str | None:
        """OTP login as a phone would: ask for a code, read it from the SMS stand-in, send it back."""
        status, _ = await self.api.call(
            "POST",
            "/api/v1/auth/otp/",
            "/api/v1/auth/otp/",
            json_body={"phone": who["phone"]},
            xff=who["ip"],
            ok=(202,),
        )
        if status != 202 and status != 200:
            return None
        code = None
        deadline = time.monotonic() + self.args.otp_wait
        import aiohttp

        while code is None and time.monotonic() < deadline:
            await asyncio.sleep(0.5)
            with contextlib.suppress(aiohttp.ClientError, TimeoutError):
                async with self.api.session.get(f"{self.world.sms}/inbox", params={"to": "+86" + who["phone"]}) as r:
                    msgs = (await r.json())["messages"]
                    found = [m for m in msgs if re.search(r"\d{6}", m["body"]) and "验证码" in m["body"]]
                    if found:
                        code = re.search(r"\d{6}", found[-1]["body"]).group(0)  # type: ignore[union-attr]
        if code is None:
            self.counts["otp_code_not_received"] += 1
            return None
        status, body = await self.api.call(
            "POST",
            "/api/v1/auth/otp/verify/",
            "/api/v1/auth/otp/verify/",
            json_body={"phone": who["phone"], "code": code, "name": who["name"], "id_number": who["id_number"]},
            xff=who["ip"],
        )
        if status != 200:
            return None
        self.counts["otp_logins"] += 1
        return str(body["token"])

    async def staff_login(self, rng: random.Random) -> None:
        """The next shift's clerk logs in with the password (PBKDF2: what a clerk does once a shift).
        A login rotates the key (issue 11), so it is a colleague who signs in, not the clerk whose
        token the other streams use (that made their requests in flight 401s); a world written
        before shift clerks existed falls back to the clerk, whose new token is then adopted."""
        hall = rng.choice(self.world.halls)
        username = hall.get("shift_clerk") or hall["clerk"]
        async with self._login_locks[username]:
            status, body = await self.api.call(
                "POST",
                "/api/v1/auth/token/",
                "/api/v1/auth/token/",
                json_body={"username": username, "password": self.world.password},
            )
            if username in self.tokens and status == 200 and isinstance(body, dict) and body.get("token"):
                self.tokens[username] = str(body["token"])

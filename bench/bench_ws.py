"""Queue-update delivery to 1,000 WebSocket clients through channels-redis on loopback.

    .venv/bin/python bench/bench_ws.py [--clients 1000] [--calls 20] [--workers 2] [--layer core|pubsub]
        [--ws websockets-sansio|wsproto|websockets] [--no-ws-deflate] [--out bench/results/ws.json]

Serves the demo database with uvicorn (N workers) and REDIS_URL=redis://127.0.0.1:6379/7, so
the channel layer is channels-redis. Opens CLIENTS sockets on one hall's /ws/halls/<code>/queue/
(spread over the workers by the kernel), then a clerk calls the next ticket CALLS times over the
REST API. For every call and client: the time from the start of the POST to the arrival of the
`queue.updated` naming the new ticket (end to end), and from the server's `at` stamp in the
message to its arrival (pure delivery). Writes bench/results/ws.json.
"""

from __future__ import annotations

import argparse
import asyncio
import datetime as dt
import json
import os
import platform
import signal
import subprocess
import sys
import time
import uuid
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parent))
from bench_nearest import PY, ROOT, env_for, percentiles, prepare_database, serve

REDIS = "redis://127.0.0.1:6379/7"


def setup_hall(db: Path, calls: int) -> dict[str, Any]:
    """A clerk with a token at one hall's general-intake window, and CALLS waiting tickets."""
    code = f"""
import json, django
django.setup()
from rest_framework.authtoken.models import Token
from accounts.models import Role, User
from halls import actions
from halls.models import Hall, QueueTicket, StaffPost, Window
window = Window.objects.filter(general_intake=True, hall__type="comprehensive").order_by("id").first()
hall = window.hall
QueueTicket.objects.filter(hall=hall).delete()
user, _ = User.objects.get_or_create(username="bench-ws-clerk", defaults={{"role": Role.WINDOW_CLERK}})
StaffPost.objects.get_or_create(user=user, hall=hall, window=window)
token, _ = Token.objects.get_or_create(user=user)
for _ in range({calls}):
    actions.issue_ticket(hall=hall, category="A", actor=None)
print(json.dumps({{"hall": hall.code, "window": window.pk, "token": token.key}}))
"""
    out = subprocess.run(
        [str(PY), "-c", code], cwd=ROOT, env=env_for(db), check=True, capture_output=True, text=True
    ).stdout
    return json.loads(out.strip().splitlines()[-1])


def kill_marked_processes(marker: str) -> int:
    """SIGKILL every process whose environment carries TONGBAN_BENCH_WS_RUN=marker; returns how many."""
    wanted = f"TONGBAN_BENCH_WS_RUN={marker}".encode()
    killed = 0
    time.sleep(1)  # let uvicorn's own shutdown finish first
    for proc in Path("/proc").iterdir():
        if not proc.name.isdigit() or int(proc.name) == os.getpid():
            continue
        try:
            if wanted in (proc / "environ").read_bytes().split(b"\0"):
                os.kill(int(proc.name), signal.SIGKILL)
                killed += 1
        except (OSError, ProcessLookupError):
            continue  # gone already, or not ours to read
    return killed


def warm_workers(base: str, info: dict[str, Any], rounds: int = 4, concurrency: int = 8) -> list[float]:
    """GET the call-next URL (405: no ticket is called) from new connections; returns each latency."""
    from concurrent.futures import ThreadPoolExecutor

    import requests

    url = f"{base}/api/v1/windows/{info['window']}/call-next/"
    headers = {"Authorization": f"Token {info['token']}"}

    def one(_: int) -> float:
        started = time.perf_counter()
        requests.get(url, headers=headers, timeout=30)  # no Session: a new connection each time
        return round((time.perf_counter() - started) * 1000, 1)

    timings: list[float] = []
    with ThreadPoolExecutor(concurrency) as pool:
        for _ in range(rounds):
            timings.extend(pool.map(one, range(concurrency)))
    return timings


async def run(base: str, info: dict[str, Any], clients: int, calls: int) -> dict[str, Any]:
    import requests
    import websockets

    ws_url = base.replace("http://", "ws://") + f"/ws/halls/{info['hall']}/queue/"
    origin = base
    arrivals: list[dict[str, tuple[float, str]]] = [dict() for _ in range(clients)]
    ready = 0

    async def client(i: int) -> None:
        nonlocal ready
        async with websockets.connect(ws_url, origin=origin, max_size=None, open_timeout=60) as ws:
            json.loads(await ws.recv())  # the state on connect
            ready += 1
            mine = arrivals[i]
            # Stamp first, parse after: the parse cost is the client's, not the server's.
            async for raw in ws:
                now = time.time()
                msg = json.loads(raw)
                if msg.get("called"):
                    mine.setdefault(msg["called"][0]["ticket"], (now, msg["at"]))

    connect_started = time.perf_counter()
    tasks = []
    for i in range(clients):
        tasks.append(asyncio.create_task(client(i)))
        if i % 100 == 99:
            await asyncio.sleep(0.05)  # do not SYN-flood the accept queue
    connect_deadline = time.monotonic() + 120
    while ready < clients:
        failed = [t for t in tasks if t.done() and not t.cancelled() and t.exception()]
        if failed:
            raise RuntimeError(f"{len(failed)} clients failed, first: {failed[0].exception()!r}")
        if time.monotonic() > connect_deadline:
            raise RuntimeError(f"only {ready} of {clients} clients connected within 120 s")
        await asyncio.sleep(0.05)
    connect_s = time.perf_counter() - connect_started

    # A fresh uvicorn worker imports the URLconf (every app's API) on its first HTTP request, about
    # 0.8 s here; the sockets above never touched that path. The kernel hands connections to
    # whichever worker accepts first, so a few rounds of concurrent requests on new connections warm
    # every worker. Their timings are reported (cold_http_ms), never mixed into the measurement.
    cold_http_ms = await asyncio.to_thread(warm_workers, base, info)

    end_to_end: list[float] = []
    delivery: list[float] = []
    first_last: list[tuple[float, float]] = []
    per_call: list[dict[str, float]] = []
    missing = 0
    http = requests.Session()
    http.headers["Authorization"] = f"Token {info['token']}"
    call_url = f"{base}/api/v1/windows/{info['window']}/call-next/"
    if True:
        for _ in range(calls):
            cpu_before = time.process_time()
            started = time.time()
            # In a thread: the event loop keeps reading the sockets while the call is in flight.
            r = await asyncio.to_thread(http.post, call_url, timeout=30)
            responded = time.time()
            r.raise_for_status()
            number = r.json()["number"]
            deadline = time.monotonic() + 10
            while sum(1 for a in arrivals if number in a) < clients and time.monotonic() < deadline:
                await asyncio.sleep(0.01)
            got_all = sorted(a[number][0] for a in arrivals if number in a)
            if got_all:
                first_last.append(((got_all[0] - started) * 1000, (got_all[-1] - started) * 1000))
                at = next(a[number][1] for a in arrivals if number in a)
                per_call.append(
                    {
                        "http_ms": round((responded - started) * 1000, 1),
                        # The board's `at` stamp: call-next committed and the state was read.
                        "state_built_ms": round((dt.datetime.fromisoformat(at).timestamp() - started) * 1000, 1),
                        "first_ms": round((got_all[0] - started) * 1000, 1),
                        "p50_ms": round((got_all[len(got_all) // 2] - started) * 1000, 1),
                        "last_ms": round((got_all[-1] - started) * 1000, 1),
                        # CPU this (client) process spent on the call, its waiting and the receipts.
                        "client_cpu_ms": round((time.process_time() - cpu_before) * 1000, 1),
                    }
                )
            for a in arrivals:
                if number not in a:
                    missing += 1
                    continue
                got, at = a[number]
                end_to_end.append((got - started) * 1000)
                delivery.append((got - dt.datetime.fromisoformat(at).timestamp()) * 1000)
            await asyncio.sleep(0.2)
    for t in tasks:
        t.cancel()
    await asyncio.gather(*tasks, return_exceptions=True)
    return {
        "clients": clients,
        "calls": calls,
        "connect_all_s": round(connect_s, 2),
        "warmup_http_ms": cold_http_ms,
        "missing_messages": missing,
        "end_to_end_ms": percentiles(end_to_end),
        # Per call: when the first and the last of the clients had the update (median over calls).
        "first_client_ms_median": round(sorted(f for f, _l in first_last)[len(first_last) // 2], 1),
        "last_client_ms_median": round(sorted(last for _f, last in first_last)[len(first_last) // 2], 1),
        "delivery_ms": percentiles(delivery),
        "per_call": per_call,
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--clients", type=int, default=1000)
    parser.add_argument("--calls", type=int, default=20)
    parser.add_argument("--workers", type=int, default=2)
    parser.add_argument("--workdir", type=Path, default=Path("/tmp/tongban-bench"))
    parser.add_argument(
        "--layer",
        choices=["core", "pubsub"],
        default=None,
        help="CHANNEL_LAYER_BACKEND for the server (default: the project's default). core: "
        "channels_redis.core.RedisChannelLayer; pubsub: channels_redis.pubsub.RedisPubSubChannelLayer "
        "(one publish per group, fanned out in each worker)",
    )
    parser.add_argument(
        "--ws",
        choices=["auto", "websockets", "websockets-sansio", "wsproto"],
        default="auto",
        help="uvicorn's WebSocket implementation (UVICORN_WS)",
    )
    parser.add_argument(
        "--no-ws-deflate",
        action="store_true",
        help="serve without permessage-deflate (uvicorn --ws-per-message-deflate false); the clients still "
        "offer it, as browsers do",
    )
    parser.add_argument("--out", type=Path, default=ROOT / "bench" / "results" / "ws.json")
    args = parser.parse_args()

    db = prepare_database(args.workdir, "default")
    info = setup_hall(db, args.calls)
    # Only environment variables: the server runs the project's own settings.
    extra: dict[str, str] = {"REDIS_URL": REDIS, "UVICORN_WS": args.ws}
    if args.layer:
        extra["CHANNEL_LAYER_BACKEND"] = args.layer
    if args.no_ws_deflate:
        extra["UVICORN_WS_PER_MESSAGE_DEFLATE"] = "false"
    layer_config = json.loads(
        subprocess.run(
            [
                str(PY),
                "-c",
                "import json, django; django.setup(); from django.conf import settings; "
                "print(json.dumps(settings.CHANNEL_LAYERS['default']))",
            ],
            cwd=ROOT,
            env=env_for(db, **extra),
            check=True,
            capture_output=True,
            text=True,
        )
        .stdout.strip()
        .splitlines()[-1]
    )
    # uvicorn's workers sometimes outlive the master serve() stops (their graceful shutdown hangs after
    # a thousand sockets went away), and idle leftovers would tax the next run's CPU: mark this run's
    # processes and kill whatever survives.
    marker = uuid.uuid4().hex
    extra["TONGBAN_BENCH_WS_RUN"] = marker
    try:
        with serve(db, workers=args.workers, **extra) as base:
            measured = asyncio.run(run(base, info, args.clients, args.calls))
    finally:
        leftovers = kill_marked_processes(marker)
    results = {
        "bench": "ws",
        "when": time.strftime("%Y-%m-%dT%H:%M:%S%z"),
        "machine": {
            "python": platform.python_version(),
            "cpus": os.cpu_count(),
            "platform": platform.platform(),
            # The machine is shared: other work running meanwhile shows here.
            "load_avg_1_5_15": [round(x, 2) for x in os.getloadavg()],
        },
        "method": f"uvicorn × {args.workers} workers, channels-redis at {REDIS}, {args.clients} clients in one "
        "asyncio process (websockets) on the same 2-core machine; call-next over REST with a token; every "
        "worker's HTTP path warmed first (warmup_http_ms); end_to_end = POST start to each client's receipt "
        "(stamped before parsing); delivery = the board's server-side `at` stamp to receipt",
        "targets": {"delivery_p99_ms": 250},
        "channel_layer": layer_config,
        "uvicorn_ws": args.ws,
        "ws_per_message_deflate": not args.no_ws_deflate,
        "leftover_workers_killed": leftovers,
        **measured,
    }
    args.out.parent.mkdir(parents=True, exist_ok=True)
    args.out.write_text(json.dumps(results, ensure_ascii=False, indent=2) + "\n")
    print(json.dumps(results, ensure_ascii=False, indent=2))


if __name__ == "__main__":
    main()

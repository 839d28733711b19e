"""A Guizhou day through the public HTTP API: a seeded, reproducible mix at a chosen rate.

    .venv/bin/python bench/replay.py --rate 2 --duration 600 [--seed 14] [--halls 20]
    .venv/bin/python bench/replay.py --base http://127.0.0.1:8001 --base http://127.0.0.1:8002 \\
        --world /tmp/world.json --sms http://127.0.0.1:8999 --rate 1 --duration 60

Its own process, never imported by the app. Without --base it builds the production shape itself
(bench/stack.py: a private PostgreSQL and Redis, three uvicorn HTTP workers, a Celery worker and
beat, the SMS stand-in), loads the Guizhou demo data and the replay's staff, and tears it all down
afterwards; with --base it drives servers someone else runs (bench/faults.py does).

`--rate` is new cases per second (Guizhou: ~230,000 a day, peaking near 10/s). Each case is one of
(seeded draw): a proxy case received at one of HALLS halls with uploads, printed at the delivery hall
and handed over, or mailed and confirmed; an online case by a citizen who logs in by SMS code
(reading it from the stand-in, as a phone would), uploads, submits and gets the result
electronically, then rates it (some badly: supervisors then work the rectification); a joint case
whose sub-cases each authority decides. A share gets a correction notice first, some are suspended
and resumed, some denied. Alongside, in proportion to the rate: queue tickets and call-next/finish
at every hall's intake windows, one live board per hall on the WebSocket, nearest-hall and map
reads, hall pages. Arrivals are Poisson with seeded generators, so the plan is the same every run.

The client spreads requests over the --base workers and moves to the next one when a worker
refuses the connection (nginx's proxy_next_upstream error); any other failure counts as an error.

Writes bench/results/replay.json: throughput, p50/p95/p99 per endpoint, errors, and the boards'
reconnects; with --record, one JSON line per case answered 201 (with the transitions answered
200) and per ticket called, for the fault drill's checks.
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import json
import random
import sys
import tempfile
import time
from collections import Counter, defaultdict
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT / "bench"))

from replay_hall import HallTraffic  # noqa: E402 - bench/ is on the path from here on
from replay_http import PNG, Api, Logins, Stats, World  # noqa: E402
from replay_plan import decide, make_person  # noqa: E402
from replay_report import ramp_report, report  # noqa: E402


# Logins before HallTraffic: HallTraffic's stand-in staff_token must not shadow the real one.
class Replay(Logins, HallTraffic):
    def __init__(self, api: Api, world: World, args: argparse.Namespace) -> None:
        self.api = api
        self.world = world
        self.args = args
        self.tokens: dict[str, str] = dict(world.tokens)
        self._login_locks: dict[str, asyncio.Lock] = defaultdict(asyncio.Lock)
        self.record = open(args.record, "a", encoding="utf-8") if args.record else None  # noqa: SIM115
        self.counts: Counter[str] = Counter()
        self.called: dict[int, int] = {}  # ticket id → window that called it
        self.double_calls: list[dict[str, Any]] = []
        self.boards: dict[str, dict[str, Any]] = {}
        self.inflight: set[asyncio.Task[Any]] = set()
        self.stopping = False
        self.citizen_seq = 0

    # --- helpers ---------------------------------------------------------------------------------
    def write(self, rec: dict[str, Any]) -> None:
        if self.record is not None:
            self.record.write(json.dumps(rec, ensure_ascii=False) + "\n")
            self.record.flush()

    def person(self, rng: random.Random) -> dict[str, str]:
        self.citizen_seq += 1
        return make_person(rng, self.args.seed, self.citizen_seq)

    def jurisdiction_for(self, rng: random.Random, hall: dict[str, Any]) -> str:
        # 通办: a third of the cases are received outside their jurisdiction.
        if rng.random() < 0.33:
            return str(rng.choice(self.world.halls)["region"])
        return str(hall["region"])

    # --- cases -----------------------------------------------------------------------------------
    async def transition(
        self, number: str, name: str, token: str | None, body: dict[str, Any] | None = None
    ) -> tuple[int, Any]:
        return await self.api.call(
            "POST",
            f"/api/v1/cases/{number}/transitions/{name}/",
            f"/api/v1/cases/{{number}}/transitions/{name}/",
            token=token,
            json_body=body or {},
            ok=(200,),
        )

    async def get_case(self, number: str, token: str | None) -> Any:
        status, body = await self.api.call("GET", f"/api/v1/cases/{number}/", "/api/v1/cases/{number}/", token=token)
        return body if status == 200 else None

    async def upload(self, number: str, token: str | None, requirement: str) -> bool:
        status, _ = await self.api.call(
            "POST",
            f"/api/v1/cases/{number}/materials/",
            "/api/v1/cases/{number}/materials/",
            token=token,
            form={"requirement": requirement, "file": PNG},
        )
        return status == 201

    async def gap(self, rng: random.Random) -> None:
        await asyncio.sleep(rng.expovariate(1 / self.args.step_gap) if self.args.step_gap > 0 else 0)

    async def run_case(self, rng: random.Random) -> None:
        kind = rng.choices(["proxy_pickup", "proxy_mail", "online", "joint"], weights=[45, 10, 38, 7], k=1)[0]
        plan = {
            "correction": rng.random() < 0.12,
            "suspend": rng.random() < 0.06,
            "deny": rng.random() < 0.05,
            "rating": rng.choices([5, 4, 3, 2, 1], weights=[60, 20, 8, 7, 5], k=1)[0],
        }
        hall = rng.choice(self.world.halls)
        who = self.person(rng)
        mode = {"proxy_pickup": "proxy", "proxy_mail": "proxy", "online": "online", "joint": "joint"}[kind]
        choices = [i for i in self.world.items if mode in i["modes"]]
        if kind == "joint":
            choices = [i for i in choices if i.get("co_department_kinds")] or choices
        if not choices:
            return
        item = rng.choice(choices)
        citizen_token: str | None = None
        clerk = await self.staff_token(hall["clerk"])
        online = kind == "online" or (kind == "joint" and "online" in item["modes"] and rng.random() < 0.3)
        body: dict[str, Any] = {"item": item["code"], "mode": mode, "jurisdiction": self.jurisdiction_for(rng, hall)}
        if online:
            citizen_token = await self.citizen_login(who)
            if citizen_token is None:
                return
            body["delivery"] = {"method": "electronic"}
            creator = citizen_token
        else:
            if kind == "proxy_mail":
                body["delivery"] = {"method": "mail", "address": f"贵州省贵阳市{rng.randint(1, 999)}号"}
            else:
                body["delivery"] = {"method": "pickup", "hall": hall["code"]}
            body["receiving_hall"] = hall["code"]
            body["applicant"] = {k: who[k] for k in ("name", "id_number", "phone")}
            creator = clerk
        status, case = await self.api.call("POST", "/api/v1/cases/", "/api/v1/cases/", token=creator, json_body=body)
        if status != 201:
            return
        number = case["number"]
        self.counts[f"cases_{kind}"] += 1
        answered: list[str] = [case["events"][0]["transition"]] if case.get("events") else []
        final = "unfinished"
        try:
            final = await self._after_create(
                number,
                case,
                item,
                creator,
                citizen_token,
                answered,
                rng,
                hall=hall,
                clerk=clerk,
                who=who,
                online=online,
                plan=plan,
            )
        finally:
            # Also when the run ends first (cancelled): every case answered 201 is checked.
            self.write({"kind": "case", "number": number, "answered": answered, "final": final, "mode": mode})

    async def _after_create(
        self,
        number: str,
        case: Any,
        item: dict[str, Any],
        creator: str | None,
        citizen_token: str | None,
        answered: list[str],
        rng: random.Random,
        *,
        hall: dict[str, Any],
        clerk: str | None,
        who: dict[str, str],
        online: bool,
        plan: dict[str, Any],
    ) -> str:
        required = [m["code"] for m in item["materials"] if m["required"]]
        for code in required:
            await self.upload(number, creator, code)
        case = await self.get_case(number, creator)
        ctx = {
            "hall": hall,
            "clerk": clerk,
            "citizen": citizen_token,
            "who": who,
            "online": online,
            "plan": plan,
            "required": required,
        }
        final = await self.drive(number, case, ctx, answered, rng)
        if final == "delivered" and citizen_token and not self.stopping:
            await self.rate(number, citizen_token, plan["rating"], rng)
        return final

    async def drive(
        self, number: str, case: dict[str, Any], ctx: dict[str, Any], answered: list[str], rng: random.Random
    ) -> str:
        """Walk one case to its end, re-reading it whenever an answer was lost or refused."""
        misses = 0
        while misses < self.args.step_retries:
            if case is None:
                await asyncio.sleep(2)
                case = await self.get_case(number, ctx["citizen"] or ctx["clerk"] or await self.supervisor())
                misses += 1
                continue
            if case.get("children") and case["state"] in ("submitted", "transferred", "accepted", "under_review"):
                await self.drive_children(case, ctx, answered, rng)
                case = await self.get_case(number, await self.supervisor())
                if case is not None and case.get("children") and case["state"] in ("submitted", "transferred"):
                    misses += 1
                    await asyncio.sleep(2)
                continue
            step = decide(case, ctx)
            if step is None:
                if (
                    case["state"] in ("approved", "issued")
                    and case["delivery"]["method"] != "mail"
                    and not case.get("parent")
                ):
                    # the system issues and routes on commit; look again
                    await asyncio.sleep(1)
                    case = await self.get_case(number, await self.supervisor())
                    misses += 1
                    continue
                return str(case["state"])
            who, name, body = step
            token = await self.actor_token(who, case, ctx)
            if name in ("verify", "submit"):
                # An upload whose answer was lost (a worker died) is simply made again.
                have = {m["requirement"] for m in case.get("materials", [])}
                for code in ctx["required"]:
                    if code not in have:
                        await self.upload(number, token, code)
                if not have.issuperset(ctx["required"]):
                    case = await self.get_case(number, token)
                    if case is None:
                        continue
                    if name == "verify":
                        body = {**body, "originals_sighted": sorted({m["requirement"] for m in case["materials"]})}
            if name == "resubmit":
                for m in case.get("corrections", [])[-1:]:
                    for entry in m.get("items", []):
                        if entry.get("requirement"):
                            await self.upload(number, token, entry["requirement"])
            await self.gap(rng)
            status, new = await self.transition(number, name, token, body)
            if status == 200:
                answered.append(name)
                case = new
                misses = 0
                continue
            misses += 1
            if status == 0 or status >= 500:
                await asyncio.sleep(2)  # a fault: wait, read the state again, decide again
            case = await self.get_case(number, token)
        return "stuck:" + (case["state"] if case else "?")

    async def drive_children(
        self, parent: dict[str, Any], ctx: dict[str, Any], answered: list[str], rng: random.Random
    ) -> None:
        for child in parent["children"]:
            number = child["number"] if isinstance(child, dict) else str(child)
            sub = await self.get_case(number, await self.supervisor())
            if sub is None:
                continue
            sub_answered: list[str] = []
            final = await self.drive(
                number, sub, {**ctx, "plan": {**ctx["plan"], "correction": False}, "required": []}, sub_answered, rng
            )
            self.write(
                {"kind": "case", "number": number, "answered": sub_answered, "final": final, "mode": "joint-part"}
            )

    async def supervisor(self) -> str | None:
        return await self.staff_token(self.world.supervisor)

    async def actor_token(self, who: str, case: dict[str, Any], ctx: dict[str, Any]) -> str | None:
        if who == "citizen":
            return ctx["citizen"]
        if who == "clerk":
            hall_code = (case.get("delivery") or {}).get("hall") or ctx["hall"]["code"]
            hall = next((h for h in self.world.halls if h["code"] == hall_code), ctx["hall"])
            return await self.staff_token(hall["clerk"])
        username = self.world.approvers.get(case.get("authority") or "")
        return await self.staff_token(username) if username else None

    async def rate(self, number: str, token: str, level: int, rng: random.Random) -> None:
        await self.gap(rng)
        status, _ = await self.api.call(
            "POST",
            f"/api/v1/cases/{number}/rating/",
            "/api/v1/cases/{number}/rating/",
            token=token,
            json_body={"level": level, "comment": "" if level > 2 else "等待时间太长"},
        )
        if status == 201:
            self.counts["ratings"] += 1
            self.counts["bad_ratings"] += level <= 2

    async def rectify_some(self, rng: random.Random) -> None:
        """A supervisor works through open rectifications: start → reply → callback → close."""
        token = await self.supervisor()
        status, page = await self.api.call(
            "GET", "/api/v1/rectifications/", "/api/v1/rectifications/", token=token, params={"state": "open"}
        )
        if status != 200 or not page or not page.get("results"):
            return
        rect = rng.choice(page["results"][:10])
        for name, body in (
            ("start", {"measures": "窗口加派人手，优化流程"}),
            ("reply", {"reply": "已整改，感谢监督"}),
            ("record_callback", {"result": "satisfied", "note": "电话回访"}),
            ("close", {}),
        ):
            await self.gap(rng)
            status, _ = await self.api.call(
                "POST",
                f"/api/v1/rectifications/{rect['id']}/{name}/",
                f"/api/v1/rectifications/{{id}}/{name}/",
                token=token,
                json_body=body,
                ok=(200,),
            )
            if status != 200:
                return
        self.counts["rectifications_closed"] += 1

    # --- the schedule --------------------------------------------------------------------------------
    async def stream(self, name: str, rate: float, action: Any, seed: int, until: float) -> None:
        """Poisson arrivals of `action` at `rate` per second, each with its own seeded generator."""
        if rate <= 0:
            return
        rng = random.Random(f"{self.args.seed}:{name}:{seed}")
        t = time.monotonic()
        while True:
            t += rng.expovariate(rate)
            if t >= until:
                return
            await asyncio.sleep(max(0.0, t - time.monotonic()))
            if len(self.inflight) >= self.args.max_inflight:
                self.counts[f"shed_{name}"] += 1  # the client is saturated: offered load not reached
                continue
            task = asyncio.create_task(action(random.Random(rng.random())))
            self.inflight.add(task)
            task.add_done_callback(self._done)

    def _done(self, task: asyncio.Task[Any]) -> None:
        self.inflight.discard(task)
        if not task.cancelled() and task.exception() is not None:
            exc = task.exception()
            self.counts[f"client_exception:{type(exc).__name__}"] += 1
            print(f"replay: task failed: {exc!r}", file=sys.stderr)

    async def discover(self) -> None:
        path: str | None = "/api/v1/items/"
        while path:
            status, page = await self.api.call("GET", path, "/api/v1/items/")
            if status != 200:
                await asyncio.sleep(1)
                continue
            self.world.items.extend(page["results"])
            nxt = page.get("next")
            path = nxt[nxt.index("/api/") :] if nxt else None
        for hall in self.world.halls:
            status, detail = await self.api.call("GET", f"/api/v1/halls/{hall['code']}/", "/api/v1/halls/{code}/")
            if status == 200:
                self.world.categories[hall["code"]] = [c["code"] for c in detail.get("queue_categories", [])]
        for hall in self.world.halls:
            await self.staff_token(hall["clerk"])

    async def run(self) -> dict[str, Any]:
        await self.discover()
        a = self.args
        boards = [asyncio.create_task(self.board(h["code"])) for h in self.world.halls[: a.boards]]
        started = time.monotonic()
        until = started + a.duration
        streams = [
            self.stream("case", a.rate, self.run_case, 1, until),
            self.stream("ticket", a.rate * a.tickets_per_case, self.take_ticket, 2, until),
            self.stream("call", a.rate * a.tickets_per_case * 1.05, self.call_next, 3, until),
            self.stream("map", a.rate * a.reads_per_case, self.read_map, 4, until),
            self.stream("rectify", a.rate * 0.02, self.rectify_some, 5, until),
            self.stream("login", a.rate * 0.02, self.staff_login, 6, until),
        ]
        await asyncio.gather(*streams)
        offered_end = time.monotonic()
        # Let the cases already started finish (their later steps are part of the day's load).
        with contextlib.suppress(TimeoutError):
            if self.inflight:
                await asyncio.wait(set(self.inflight), timeout=a.drain)
        unfinished = len(self.inflight)
        for task in list(self.inflight):
            task.cancel()
        await asyncio.sleep(a.board_settle)
        for hall, board in sorted(self.boards.items()):
            last = board.get("last") or {}
            self.write(
                {
                    "kind": "board",
                    "hall": hall,
                    "connects": board["connects"],
                    "drops": board["drops"],
                    "messages": board["messages"],
                    "waiting": last.get("waiting"),
                    "at": last.get("at"),
                }
            )
        self.stopping = True
        for task in boards:
            task.cancel()
        await asyncio.gather(*boards, return_exceptions=True)
        elapsed = time.monotonic() - started
        return {"elapsed_s": round(elapsed, 1), "offered_s": round(offered_end - started, 1), "unfinished": unfinished}


async def amain(args: argparse.Namespace, bases: list[str], world: World) -> tuple[dict[str, Any], Replay]:
    stats = Stats()
    async with Api(bases, stats, timeout=args.timeout) as api:
        replay = Replay(api, world, args)
        timing = await replay.run()
    return report(args, stats, replay, timing), replay


def parse_args(argv: list[str] | None = None) -> argparse.Namespace:
    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument(
        "--rate",
        default="1",
        help="new cases per second; several separated by commas run one after the other on the same stack "
        "(a ramp: the report names the largest rate whose every endpoint kept p95 ≤ --p95-limit)",
    )
    p.add_argument("--p95-limit", type=float, default=500.0, help="ms, for the ramp's verdict")
    p.add_argument("--duration", type=float, default=60.0, help="seconds of arrivals")
    p.add_argument("--seed", type=int, default=14)
    p.add_argument("--halls", type=int, default=20, help="halls with clerks, queues and a board (own stack only)")
    p.add_argument("--boards", type=int, default=1000, help="at most this many halls get a board on the WebSocket")
    p.add_argument("--tickets-per-case", type=float, default=1.5)
    p.add_argument("--reads-per-case", type=float, default=3.0, help="map, nearest and hall reads per new case")
    p.add_argument("--step-gap", type=float, default=0.5, help="mean seconds between one case's steps")
    p.add_argument("--step-retries", type=int, default=8)
    p.add_argument("--otp-wait", type=float, default=60.0)
    p.add_argument("--max-inflight", type=int, default=600)
    p.add_argument("--drain", type=float, default=120.0, help="seconds to let started cases finish")
    p.add_argument("--board-settle", type=float, default=3.0)
    p.add_argument("--timeout", type=float, default=30.0)
    p.add_argument("--base", action="append", default=[], help="an HTTP worker (repeat); default: own stack")
    p.add_argument("--world", type=Path, help="world.json written by bench/stack.prepare (with --base)")
    p.add_argument("--sms", help="the SMS stand-in's URL (with --base)")
    p.add_argument("--http-workers", type=int, default=3)
    p.add_argument("--record", type=Path)
    p.add_argument("--out", type=Path, default=ROOT / "bench" / "results" / "replay.json")
    p.add_argument("--workdir", type=Path)
    return p.parse_args(argv)


def main() -> None:
    args = parse_args()
    from stack import STAFF_PASSWORD, App, PrivatePostgres, PrivateRedis, prepare

    own = not args.base
    pg = redis = app = None
    tmp = None
    try:
        if own:
            tmp = Path(args.workdir or tempfile.mkdtemp(prefix="tongban-replay-"))
            pg = PrivatePostgres(tmp / "pg").start()
            redis = PrivateRedis(tmp / "redis").start()
            app = App(workdir=tmp / "app", database_url=pg.create_db("tongban_replay"), redis_url=redis.url,
                      http_workers=args.http_workers)  # fmt: skip
            app.workdir.mkdir(parents=True, exist_ok=True)
            world_data = prepare(app, halls=args.halls, seed=args.seed)
            app.start()
            app.supervise()
            bases, sms = app.bases, app.sms_base
        else:
            if not (args.world and args.sms):
                sys.exit("--base needs --world and --sms")
            world_data = json.loads(args.world.read_text())
            bases, sms = args.base, args.sms
        world = World(
            halls=world_data["halls"],
            approvers=world_data["approvers"],
            supervisor=world_data["supervisor"],
            password=STAFF_PASSWORD,
            tokens=world_data.get("tokens", {}),
            sms=sms,
        )
        rates = [float(r) for r in str(args.rate).split(",") if r.strip()]
        phases = []
        for rate in rates:
            args.rate = rate
            phase, _replay = asyncio.run(amain(args, bases, world))
            phases.append(phase)
            print(f"replay: rate {rate}/s → worst p95 {phase['worst_p95_ms']} ms", file=sys.stderr, flush=True)
        result = phases[-1] if len(phases) == 1 else ramp_report(phases, args.p95_limit)
        result["shape"] = {"http_workers": len(bases), "own_stack": own}
        args.out.parent.mkdir(parents=True, exist_ok=True)
        args.out.write_text(json.dumps(result, ensure_ascii=False, indent=2) + "\n")
        summary = {k: result[k] for k in ("timing", "throughput", "worst_p95_ms", "counts", "errors", "boards")}
        print(json.dumps(summary, ensure_ascii=False, indent=2))
    finally:
        if app is not None:
            app.stop()
        if redis is not None:
            redis.stop()
        if pg is not None:
            pg.stop()


if __name__ == "__main__":
    main()

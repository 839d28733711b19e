"""The public API at production shape: whole case lifecycles over HTTP, against a floor, in one run.

    flock /tmp/tongban-redis.lock .venv/bin/python bench/bench_api.py \
        [--database-url postgres://postgres@127.0.0.1:5432/tongban_api_bench] \
        [--redis-url redis://127.0.0.1:6379/14] [--clients 8] [--seconds 30] [--servers gunicorn,uvicorn]

What runs (all started and stopped by this script):

* PostgreSQL: the database named in --database-url is DROPPED and re-created (and ``<name>_floor``
  for the floor app), migrated, and given the small world of the workflow tests (two cities, their
  departments, three halls, the staff) plus API tokens.
* Redis (--redis-url) as cache, channel layer and Celery broker, ONE real Celery worker
  subprocess (``celery -A config worker``): SMS outbox, result documents, live boards; and the one
  Celery beat (``celery -A config beat``) whose sweeps re-queue the outbox above the SMS rate.
* The HTTP server as the README's production section documents it:
  ``gunicorn config.wsgi:application -k gthread --workers 2 --threads 4`` with
  ``config.settings.production``. ``--servers gunicorn,uvicorn`` also measures
  ``uvicorn config.asgi:application --workers 2`` (the README's choice is made from this).

Phases, each N client threads (keep-alive sessions, token auth) for T seconds:

1. proxy lifecycles: create (receive at the window) → 2 uploads → verify → transfer → accept →
   start_review → approve (→ issue → queue_print by the system) → print → hand_over;
2. online lifecycles: create → 2 uploads → submit → accept → start_review → approve (→ issue →
   deliver_online);
3. joint lifecycles: create at the window → 2 uploads → verify → transfer (2 sub-cases) → each
   authority accepts, starts review, approves (the parent follows and is issued) → print → hand_over;
4. reads: case detail, case list as the clerk (their workbench's states) and as the approver (the
   approver queue's states), 我的办件 (the citizen's list), the hall GeoJSON, nearest hall;
5. the floor: bench/floor, a bare Django + DRF token auth + django-fsm-2 app served by the same
   server with the same settings of workers and threads (the real app's Celery worker and beat
   stopped first: the floor has no background work), driven by the same clients through the
   proxy path's transitions, doing per transition exactly the row writes of the real one (lock
   the case row, update it, append a hash-chained event — approve also appends issue and
   queue_print — and write an outbox row, in one transaction). No uploads (the floor has none).

"transitions/s" counts the calls that move a case (creation included, uploads and reads not); the
ratio is the real API's transitions/s over the floor's for the same lifecycle shape. Queries per
call are counted in this process with Django's test client and CaptureQueriesContext on the same
database (one lifecycle of each mode, before the servers start), so they are exact, not sampled.

The machine is shared (2 cores, other jobs running): keep runs short and read the figures as one
sample. Writes bench/results/api.json.
"""

from __future__ import annotations

import argparse
import contextlib
import json
import os
import platform
import random
import shutil
import statistics
import subprocess
import sys
import tempfile
import threading
import time
from collections import defaultdict
from collections.abc import Callable
from pathlib import Path
from typing import Any

from _bootstrap import ROOT, prepare_database
from procs import celery_worker, cpu_ms_per_call, cpu_snapshot, serve
from prodenv import production_env

PY = ROOT / ".venv" / "bin" / "python"
BIN = ROOT / ".venv" / "bin"
PNG = b"\x89PNG\r\n\x1a\n" + b"\x00" * 64
PDF = b"%PDF-1.4\n%\xe2\xe3\xcf\xd3\n1 0 obj<<>>endobj\ntrailer<<>>\n%%EOF\n"
GUIZHOU = (24.6, 29.2, 103.6, 109.6)  # lat min/max, lon min/max


# --- the environment the servers and the worker share ---------------------------------------------


def app_env(db_url: str, redis_url: str, tmp: Path) -> dict[str, str]:
    # Production settings refuse a weak key, auto-generated signing keys, plain http and staff
    # without a second factor; the bench serves plain http on loopback with a real key (main()).
    return production_env(
        secret_key="bench-api-not-a-secret-" + "x" * 40,
        database_url=db_url,
        redis_url=redis_url,
        signing_keys_dir=tmp / "keys",
        media_root=tmp / "media",
        static_root=tmp / "static",
        allowed_hosts="127.0.0.1,localhost,testserver",
        log_level="ERROR",
        # The README's production section: a psycopg pool per HTTP worker (each request reuses a
        # connection; without it every request would open one, which the floor never does).
        pool={"DB_POOL_MAX_SIZE": "10", "DB_POOL_MIN_SIZE": "2", "DB_POOL_TIMEOUT": "10"},
        extra={"CELERY_TASK_ALWAYS_EAGER": "false", "SMS_BACKEND": "locmem", "PYTHONUNBUFFERED": "1"},
    )


# --- the world (in this process, Django on the bench database) ------------------------------------


def setup_world(env: dict[str, str]) -> dict[str, Any]:
    os.environ.update(env)
    sys.path.insert(0, str(ROOT))
    import django

    django.setup()
    import logging

    logging.disable(logging.WARNING)
    from django.core.management import call_command

    call_command("migrate", verbosity=0)
    from rest_framework.authtoken.models import Token

    from tests.fixtures.workflows import build_world

    world = build_world()
    tokens = {name: Token.objects.get_or_create(user=u)[0].key for name, u in world.users.items()}
    return {"world": world, "tokens": tokens, "applicant_id": world.applicant_id}


def setup_floor(env: dict[str, str], floor_url: str) -> str:
    """Migrate the floor's database and return a token (a subprocess: its own Django settings)."""
    code = (
        "import django; django.setup()\n"
        "from django.core.management import call_command\n"
        "call_command('migrate', verbosity=0)\n"
        "from django.contrib.auth.models import User\n"
        "from rest_framework.authtoken.models import Token\n"
        "u = User.objects.create_user('clerk')\n"
        "print(Token.objects.create(user=u).key)\n"
    )
    floor_env = {**env, "DJANGO_SETTINGS_MODULE": "floor.settings", "FLOOR_DATABASE_URL": floor_url}
    out = subprocess.run(
        [str(PY), "-c", code], cwd=ROOT / "bench", env=floor_env, check=True, capture_output=True, text=True
    )
    return out.stdout.strip().splitlines()[-1]


# --- lifecycles over HTTP -------------------------------------------------------------------------


class Stopped(Exception):
    pass


class Client:
    """One client thread: a keep-alive session per user, every call timed under its endpoint label."""

    def __init__(self, base: str, tokens: dict[str, str], deadline: float, record: Callable[..., None]) -> None:
        import requests

        self.base = base
        self.tokens = tokens
        self.deadline = deadline
        self.record = record
        self.sessions: dict[str, Any] = {}
        self._requests = requests

    def _session(self, who: str) -> Any:
        if who not in self.sessions:
            s = self._requests.Session()
            s.headers["Authorization"] = f"Token {self.tokens[who]}"
            self.sessions[who] = s
        return self.sessions[who]

    def call(self, label: str, who: str, method: str, path: str, *, moves: bool, **kw: Any) -> Any:
        if time.monotonic() >= self.deadline:
            raise Stopped
        t0 = time.perf_counter()
        r = self._session(who).request(method, self.base + path, timeout=120, **kw)
        ms = (time.perf_counter() - t0) * 1000
        ok = r.status_code < 300
        self.record(label, ms, ok, moves)
        if not ok:
            raise RuntimeError(f"{label}: {r.status_code} {r.text[:300]}")
        return r.json() if r.content else None

    def step(self, number: str, name: str, who: str, body: dict[str, Any] | None = None, label: str = "") -> Any:
        path = f"/api/v1/cases/{number}/transitions/{name}/"
        return self.call(label or f"POST transitions/{name}", who, "post", path, json=body or {}, moves=True)

    def upload(self, number: str, who: str) -> None:
        for code, content, name in (("id_card", PNG, "id.png"), ("form", PDF, "form.pdf")):
            self.call(
                "POST materials",
                who,
                "post",
                f"/api/v1/cases/{number}/materials/",
                data={"requirement": code},
                files={"file": (name, content)},
                moves=False,
            )


def proxy_body(applicant_id: str, item: str = "GZ-0001", mode: str = "proxy") -> dict[str, Any]:
    """The tests' body of a case received at the Zunyi window (tests/fixtures/workflows.py)."""
    if str(ROOT) not in sys.path:
        sys.path.insert(0, str(ROOT))
    from tests.fixtures.workflows import proxy_body as body

    return body(applicant_id, item, mode)


def proxy_lifecycle(c: Client, applicant_id: str) -> None:
    case = c.call(
        "POST cases (receive)", "zy_clerk", "post", "/api/v1/cases/", json=proxy_body(applicant_id), moves=True
    )
    n = case["number"]
    c.upload(n, "zy_clerk")
    c.step(n, "verify", "zy_clerk", {"id_checked": True, "originals_sighted": ["id_card"]})
    c.step(n, "transfer", "zy_clerk")
    c.step(n, "accept", "yy_approver")
    c.step(n, "start_review", "yy_approver")
    c.step(n, "approve", "yy_approver")
    c.step(n, "print", "zy_printer")
    done = c.step(n, "hand_over", "zy_clerk", {"collector_id_number": applicant_id})
    assert done["state"] == "delivered", done["state"]


def online_lifecycle(c: Client, applicant_id: str) -> None:
    body = {"item": "GZ-0001", "mode": "online", "jurisdiction": "520103", "delivery": {"method": "electronic"}}
    n = c.call("POST cases (online)", "citizen", "post", "/api/v1/cases/", json=body, moves=True)["number"]
    c.upload(n, "citizen")
    c.step(n, "submit", "citizen")
    c.step(n, "accept", "yy_approver")
    c.step(n, "start_review", "yy_approver")
    done = c.step(n, "approve", "yy_approver")
    assert done["state"] == "delivered", done["state"]


def joint_lifecycle(c: Client, applicant_id: str) -> None:
    body = proxy_body(applicant_id, "GZ-0003", "joint")
    n = c.call("POST cases (joint)", "zy_clerk", "post", "/api/v1/cases/", json=body, moves=True)["number"]
    c.upload(n, "zy_clerk")
    c.step(n, "verify", "zy_clerk", {"id_checked": True, "originals_sighted": ["id_card"]})
    c.step(n, "transfer", "zy_clerk", label="POST transitions/transfer (2 sub-cases)")
    for index, who in (("01", "yy_approver"), ("02", "yy_health")):
        c.step(f"{n}-{index}", "accept", who, label="POST sub-case transitions/accept")
        c.step(f"{n}-{index}", "start_review", who, label="POST sub-case transitions/start_review")
        c.step(f"{n}-{index}", "approve", who, label="POST sub-case transitions/approve")
    c.step(n, "print", "zy_printer")
    done = c.step(n, "hand_over", "zy_clerk", {"collector_id_number": applicant_id})
    assert done["state"] == "delivered", done["state"]


def floor_lifecycle(c: Client, applicant_id: str) -> None:
    pk = c.call("POST floor cases (receive)", "clerk", "post", "/floor/cases/", json={}, moves=True)["id"]
    for name in ("verify", "transfer", "accept", "start_review", "approve", "print", "hand_over"):
        c.call(f"POST floor {name}", "clerk", "post", f"/floor/cases/{pk}/transitions/{name}/", json={}, moves=True)


def reads_loop(numbers: list[str]) -> Callable[[Client, str], None]:
    def one_round(c: Client, applicant_id: str) -> None:
        rng = random.Random()
        n = rng.choice(numbers)
        c.call("GET case detail", "yy_approver", "get", f"/api/v1/cases/{n}/", moves=False)
        c.call(
            "GET case list (clerk workbench)",
            "zy_clerk",
            "get",
            "/api/v1/cases/?state=received,verified,print_queued,ready_for_pickup",
            moves=False,
        )
        c.call(
            "GET case list (approver queue)",
            "yy_approver",
            "get",
            "/api/v1/cases/?state=submitted,transferred,accepted,under_review",
            moves=False,
        )
        c.call("GET 我的办件 (citizen's cases)", "citizen", "get", "/api/v1/cases/", moves=False)
        c.call("GET hall GeoJSON", "citizen", "get", "/api/v1/map/halls.geojson", moves=False)
        lat, lon = rng.uniform(*GUIZHOU[:2]), rng.uniform(*GUIZHOU[2:])
        c.call(
            "GET nearest hall", "citizen", "get", f"/api/v1/halls/nearest/?lat={lat:.5f}&lon={lon:.5f}&k=5", moves=False
        )

    return one_round


def percentiles(samples: list[float]) -> dict[str, float]:
    s = sorted(samples)

    def pct(p: float) -> float:
        return s[min(len(s) - 1, round(p / 100 * (len(s) - 1)))]

    return {
        "n": len(s),
        "p50_ms": round(pct(50), 1),
        "p95_ms": round(pct(95), 1),
        "p99_ms": round(pct(99), 1),
        "mean_ms": round(statistics.fmean(s), 1),
    }


def outbox_backlog() -> int:
    """Texts the outbox still holds (pending, failed or being sent): above the SMS rate they wait."""
    from notifications.models import OutboxMessage

    return OutboxMessage.objects.filter(status__in=["pending", "failed", "sending"]).count()


def drive(
    base: str,
    tokens: dict[str, str],
    applicant_id: str,
    body: Callable[[Client, str], None],
    clients: int,
    seconds: float,
) -> dict[str, Any]:
    """``clients`` threads run ``body`` (one lifecycle or one round of reads) again and again."""
    lock = threading.Lock()
    samples: dict[str, list[float]] = defaultdict(list)
    counters = {"calls": 0, "moves": 0, "done": 0, "errors": 0}
    errors: list[str] = []

    def record(label: str, ms: float, ok: bool, moves: bool) -> None:
        with lock:
            if ok:
                samples[label].append(ms)
                counters["calls"] += 1
                counters["moves"] += int(moves)

    def run(seed: int) -> None:
        c = Client(base, tokens, deadline, record)
        while time.monotonic() < deadline:
            try:
                body(c, applicant_id)
            except Stopped:
                return
            except Exception as exc:  # a failure is counted and shown, the client goes on
                with lock:
                    counters["errors"] += 1
                    if len(errors) < 5:
                        errors.append(str(exc)[:300])
                continue
            with lock:
                counters["done"] += 1

    deadline = time.monotonic() + seconds
    started = time.monotonic()
    cpu_before = cpu_snapshot()
    threads = [threading.Thread(target=run, args=(i,)) for i in range(clients)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    elapsed = time.monotonic() - started
    cpu = cpu_ms_per_call(cpu_before, cpu_snapshot(), counters["calls"])
    return {
        # CPU milliseconds per API call by process kind, measured over the phase (all cores).
        "cpu_ms_per_call": cpu,
        "seconds": round(elapsed, 1),
        "clients": clients,
        "completed": counters["done"],
        "completed_per_s": round(counters["done"] / elapsed, 2),
        "api_calls_per_s": round(counters["calls"] / elapsed, 1),
        "transitions_per_s": round(counters["moves"] / elapsed, 1),
        "errors": counters["errors"],
        "error_samples": errors,
        "endpoints": {label: percentiles(v) for label, v in sorted(samples.items())},
    }


# --- queries per call (in this process, exact) ----------------------------------------------------


def queries_per_call(state: dict[str, Any]) -> dict[str, dict[str, int]]:
    from django.core.files.uploadedfile import SimpleUploadedFile
    from django.db import connection
    from django.test.utils import CaptureQueriesContext
    from rest_framework.test import APIClient

    tokens, applicant_id = state["tokens"], state["applicant_id"]
    clients: dict[str, APIClient] = {}
    out: dict[str, dict[str, int]] = {"proxy": {}, "online": {}, "joint": {}, "reads": {}}

    def call(mode: str, label: str, who: str, method: str, url: str, body: Any = None, fmt: str = "json") -> Any:
        if who not in clients:
            clients[who] = APIClient(HTTP_HOST="127.0.0.1")
            clients[who].credentials(HTTP_AUTHORIZATION=f"Token {tokens[who]}")
        c = clients[who]
        with CaptureQueriesContext(connection) as ctx:
            r = c.post(url, body or {}, format=fmt) if method == "post" else c.get(url)
        assert r.status_code < 300, (label, r.status_code, r.content[:300])
        out[mode].setdefault(label, len(ctx.captured_queries))
        return r.json() if method != "get" or "json" in r.get("Content-Type", "") else None

    def upload(mode: str, n: str, who: str) -> None:
        for code, content, name in (("id_card", PNG, "id.png"), ("form", PDF, "form.pdf")):
            f = SimpleUploadedFile(name, content)
            call(
                mode,
                "POST materials",
                who,
                "post",
                f"/api/v1/cases/{n}/materials/",
                {"requirement": code, "file": f},
                "multipart",
            )

    def step(mode: str, n: str, name: str, who: str, body: Any = None, label: str = "") -> Any:
        return call(
            mode, label or f"POST transitions/{name}", who, "post", f"/api/v1/cases/{n}/transitions/{name}/", body
        )

    for _round in range(2):  # the second round is the steady state (sequence rows exist, caches warm)
        for mode in out:
            out[mode].clear()
        n = call("proxy", "POST cases (receive)", "zy_clerk", "post", "/api/v1/cases/", proxy_body(applicant_id))[
            "number"
        ]
        upload("proxy", n, "zy_clerk")
        step("proxy", n, "verify", "zy_clerk", {"id_checked": True, "originals_sighted": ["id_card"]})
        step("proxy", n, "transfer", "zy_clerk")
        call("reads", "GET case detail", "yy_approver", "get", f"/api/v1/cases/{n}/")
        for name in ("accept", "start_review", "approve"):
            step("proxy", n, name, "yy_approver")
        step("proxy", n, "print", "zy_printer")
        step("proxy", n, "hand_over", "zy_clerk", {"collector_id_number": applicant_id})
        body = {"item": "GZ-0001", "mode": "online", "jurisdiction": "520103", "delivery": {"method": "electronic"}}
        n = call("online", "POST cases (online)", "citizen", "post", "/api/v1/cases/", body)["number"]
        upload("online", n, "citizen")
        step("online", n, "submit", "citizen")
        for name in ("accept", "start_review", "approve"):
            step("online", n, name, "yy_approver")
        n = call(
            "joint",
            "POST cases (joint)",
            "zy_clerk",
            "post",
            "/api/v1/cases/",
            proxy_body(applicant_id, "GZ-0003", "joint"),
        )["number"]
        upload("joint", n, "zy_clerk")
        step("joint", n, "verify", "zy_clerk", {"id_checked": True, "originals_sighted": ["id_card"]})
        step("joint", n, "transfer", "zy_clerk", label="POST transitions/transfer (2 sub-cases)")
        for index, who in (("01", "yy_approver"), ("02", "yy_health")):
            for name in ("accept", "start_review", "approve"):
                # the first sub-case's and the second's differ (the second's approve issues the parent)
                step("joint", f"{n}-{index}", name, who, label=f"POST sub-case {index} transitions/{name}")
        step("joint", n, "print", "zy_printer")
        step("joint", n, "hand_over", "zy_clerk", {"collector_id_number": applicant_id})
        call(
            "reads",
            "GET case list (clerk workbench)",
            "zy_clerk",
            "get",
            "/api/v1/cases/?state=received,verified,print_queued,ready_for_pickup",
        )
        call(
            "reads",
            "GET case list (approver queue)",
            "yy_approver",
            "get",
            "/api/v1/cases/?state=submitted,transferred,accepted,under_review",
        )
        call("reads", "GET 我的办件 (citizen's cases)", "citizen", "get", "/api/v1/cases/")
        call("reads", "GET hall GeoJSON", "citizen", "get", "/api/v1/map/halls.geojson")
        call("reads", "GET nearest hall", "citizen", "get", "/api/v1/halls/nearest/?lat=27.7&lon=106.9&k=5")
    return out


def case_numbers() -> list[str]:
    from workflows.models import Case

    # Cases the approver reads (routed to their department), as the approver's detail page would.
    qs = Case.objects.filter(authority__code="520103-market", parent__isnull=True).exclude(state="draft")
    qs = qs.order_by("-pk")
    return list(qs.values_list("number", flat=True)[:500])


# --- main -----------------------------------------------------------------------------------------


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--database-url", default="postgres://postgres@127.0.0.1:5432/tongban_api_bench")
    ap.add_argument("--redis-url", default="redis://127.0.0.1:6379/14")
    ap.add_argument("--clients", type=int, default=8)
    ap.add_argument("--seconds", type=float, default=30)
    ap.add_argument("--workers", type=int, default=2)
    ap.add_argument("--threads", type=int, default=4)
    ap.add_argument("--servers", default="gunicorn,uvicorn", help="gunicorn (the README's), optionally uvicorn too")
    ap.add_argument("--phases", default="proxy,online,joint,reads", help="a subset, for diagnosis")
    ap.add_argument("--out", default=str(ROOT / "bench" / "results" / "api.json"))
    args = ap.parse_args()
    if not args.database_url.startswith("postgres"):
        sys.exit("bench_api measures the production shape: a PostgreSQL --database-url is needed")

    tmp = Path(tempfile.mkdtemp(prefix="tongban-api-bench-"))
    db_url = prepare_database(args.database_url)
    floor_url = prepare_database(args.database_url + "_floor")
    env = app_env(db_url, args.redis_url, tmp)
    subprocess.run(
        [str(BIN / "python"), "manage.py", "create_signing_key", "--skip-checks", "--dir", str(tmp / "keys")],
        cwd=ROOT, env=env, check=True, capture_output=True,
    )  # fmt: skip
    floor_env = {**env, "DJANGO_SETTINGS_MODULE": "floor.settings", "FLOOR_DATABASE_URL": floor_url}
    results: dict[str, Any] = {
        "command": "flock /tmp/tongban-redis.lock .venv/bin/python bench/bench_api.py " + " ".join(sys.argv[1:]),
        "machine": {"cpus": os.cpu_count(), "python": platform.python_version(), "note": "shared box: one sample"},
        "clients": args.clients,
        "seconds_per_phase": args.seconds,
        "server_processes": {"workers": args.workers, "threads_per_worker": args.threads},
    }
    try:
        state = setup_world(env)
        floor_token = setup_floor(env, floor_url)
        tokens, applicant_id = state["tokens"], state["applicant_id"]
        beat_schedule = tmp / "celerybeat-schedule"
        with celery_worker(env, beat_schedule=beat_schedule):
            results["queries_per_call"] = queries_per_call(state)
        servers: dict[str, Any] = {}
        warm_up = min(10.0, max(3.0, args.seconds / 4))
        for kind in [s.strip() for s in args.servers.split(",") if s.strip()]:
            figures: dict[str, Any] = {}
            phases = [("proxy", proxy_lifecycle), ("online", online_lifecycle), ("joint", joint_lifecycle)]
            if kind != "gunicorn":
                phases = phases[:1]  # the comparison: the proxy lifecycle and the floor
            wanted = {p.strip() for p in args.phases.split(",")}
            phases = [(name, body) for name, body in phases if name in wanted]
            with (
                celery_worker(env, beat_schedule=beat_schedule),
                serve(kind, "config", env, args.workers, args.threads, "/healthz") as base,
            ):
                # A cold process (lazy imports, first connections, caches) is not what we measure.
                drive(base, tokens, applicant_id, proxy_lifecycle, args.clients, warm_up)
                for name, body in phases:
                    print(f"{kind}: {name} lifecycles for {args.seconds:.0f} s ...", flush=True)
                    figures[name] = drive(base, tokens, applicant_id, body, args.clients, args.seconds)
                if kind == "gunicorn" and "reads" in wanted:
                    print(f"{kind}: reads for {args.seconds:.0f} s ...", flush=True)
                    figures["reads"] = drive(
                        base, tokens, applicant_id, reads_loop(case_numbers()), args.clients, args.seconds
                    )
            # The floor has no background work. The real app's worker and beat are stopped before
            # it runs (they would go on sending the texts queued above the SMS rate for minutes and
            # share the cores with the floor); what they left is reported, and the next server's
            # worker takes it up.
            figures["outbox_backlog_at_floor"] = outbox_backlog()
            with serve(kind, "floor", floor_env, args.workers, args.threads, "/floor/cases/") as base:
                drive(base, {"clerk": floor_token}, applicant_id, floor_lifecycle, args.clients, warm_up)
                print(f"{kind}: floor for {args.seconds:.0f} s ...", flush=True)
                figures["floor"] = drive(
                    base, {"clerk": floor_token}, applicant_id, floor_lifecycle, args.clients, args.seconds
                )
            floor_tps = figures["floor"]["transitions_per_s"] or float("nan")
            figures["ratio_to_floor"] = {
                name: round(figures[name]["transitions_per_s"] / floor_tps, 3) for name, _b in phases
            }
            servers[kind] = figures
            print(json.dumps({kind: figures["ratio_to_floor"]}), flush=True)
        results["servers"] = servers
    finally:
        with contextlib.suppress(Exception):
            from django.db import connections

            connections.close_all()
        for url in (args.database_url, args.database_url + "_floor"):
            with contextlib.suppress(Exception):
                import psycopg

                base, name = url.rsplit("/", 1)
                with psycopg.connect(f"{base}/postgres", autocommit=True) as conn:
                    conn.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
        shutil.rmtree(tmp, ignore_errors=True)
    Path(args.out).write_text(json.dumps(results, ensure_ascii=False, indent=2) + "\n", encoding="utf-8")
    print(f"wrote {args.out}")


if __name__ == "__main__":
    main()

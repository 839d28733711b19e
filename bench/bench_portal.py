"""Citizens' portal speed: what the live tracker costs, and the pages a citizen opens.

    .venv/bin/python bench/bench_portal.py                 # SQLite (throw-away file)
    .venv/bin/python bench/bench_portal.py --database-url postgres://postgres@127.0.0.1:5432/tongban_portal_bench

The database named in --database-url is DROPPED and re-created (PostgreSQL). In one process, through
Django's test client (full middleware stack: sessions, auth, CSRF, locale, axes):

1. A citizen with ``--cases`` cases (one open case in submitted, the rest spread over states);
   ``--cases-total`` cases of other applicants beside them, so the lookups are not on a tiny table.
2. ``status.json`` polled ``--polls`` times: first answers (200 with a body) and unchanged answers
   (304, If-None-Match); p50/p95 latency and SQL statements per request.
3. The case page, its live fragment, and 我的办件 (first page): p50/p95 and statements.

A tracker polling every 10 s means 0.1 requests per second per open page: the 304 figure is what
10,000 citizens watching their cases cost (1,000 requests/s).
Writes bench/results/portal.json (one entry per database vendor).
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import statistics
import tempfile
import time
from pathlib import Path
from typing import Any

from _bootstrap import ROOT, prepare_database, setup_django


def _world(n_mine: int, n_total: int) -> tuple[Any, str]:
    from accounts.models import Role, User
    from accounts.protect import lookup_hash, protect
    from tests.fixtures.workflows import build_world, id_number
    from workflows import actions
    from workflows.models import Case

    world = build_world()
    citizen = world.users["citizen"]
    watched = ""
    # Other applicants' cases: the table the citizen's lookups run against.
    others = []
    for i in range(20):
        number = id_number(f"520103199001{i:02d}123")
        others.append(
            User.objects.create_user(
                username=f"bench-citizen-{i}",
                role=Role.CITIZEN,
                real_name=f"申请人{i}",
                phone=f"1370000{i:04d}",
                id_number_protected=protect(number),
                id_number_hash=lookup_hash(number),
            )
        )
    item = world.items["proxy"]
    for i in range(n_total):
        actions.create_online(
            actor=others[i % len(others)], item=item, jurisdiction=world.regions["520103"], delivery_method="electronic"
        )
    for i in range(n_mine):
        case = world.online()
        if i % 3 == 0:
            world.upload_required(case)
            case = actions.submit(case=case, actor=citizen)
        if i % 6 == 0:
            case = actions.accept(case=case, actor=world.users["yy_approver"])
        watched = case.number
    last = Case.objects.filter(applicant=citizen, state="submitted").order_by("-pk").first()
    return world, (last.number if last else watched)


def _timed(fn: Any, n: int) -> dict[str, Any]:
    from django.db import connection
    from django.test.utils import CaptureQueriesContext

    times = []
    with CaptureQueriesContext(connection) as ctx:
        fn()
    queries = len(ctx.captured_queries)
    for _ in range(n):
        t0 = time.perf_counter()
        fn()
        times.append((time.perf_counter() - t0) * 1000)
    times.sort()
    return {
        "requests": n,
        "p50_ms": round(statistics.median(times), 3),
        "p95_ms": round(times[int(0.95 * (len(times) - 1))], 3),
        "per_second_one_thread": round(1000 / statistics.mean(times), 1),
        "sql_statements": queries,
    }


def run(n_mine: int, n_total: int, polls: int) -> dict[str, Any]:
    from django.test import Client

    world, number = _world(n_mine, n_total)
    client = Client(HTTP_HOST="localhost")
    client.force_login(world.users["citizen"])
    status_url = f"/my/cases/{number}/status.json"
    first = client.get(status_url)
    assert first.status_code == 200, first.status_code
    etag = first["ETag"]

    def changed() -> None:
        assert client.get(status_url).status_code == 200

    def unchanged() -> None:
        assert client.get(status_url, HTTP_IF_NONE_MATCH=etag).status_code == 304

    pages = max(20, polls // 20)
    out: dict[str, Any] = {
        "cases_of_citizen": n_mine,
        "cases_of_others": n_total,
        "status_200": _timed(changed, polls),
        "status_304": _timed(unchanged, polls),
        "status_body_bytes": len(first.content),
        "case_page": _timed(lambda: client.get(f"/my/cases/{number}/"), pages),
        "case_live_fragment": _timed(lambda: client.get(f"/my/cases/{number}/live/"), pages),
        "my_cases_page": _timed(lambda: client.get("/my/cases/"), pages),
        "apply_form": _timed(lambda: client.get("/apply/GZ-0001/"), pages),
    }
    return out


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--database-url", default=None)
    parser.add_argument("--cases", type=int, default=60, help="cases of the measured citizen")
    parser.add_argument("--cases-total", type=int, default=2000, help="cases of other applicants")
    parser.add_argument("--polls", type=int, default=1000)
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as tmp:
        url = prepare_database(args.database_url, tmp)
        setup_django(url, eager=True, MEDIA_ROOT=str(Path(tmp) / "media"))
        from django.db import connection

        started = time.perf_counter()
        result = run(args.cases, args.cases_total, args.polls)
        result["seconds"] = round(time.perf_counter() - started, 1)
        vendor = connection.vendor
        connection.close()
    result["machine"] = {"python": platform.python_version(), "cpus": os.cpu_count()}
    print(json.dumps(result, ensure_ascii=False, indent=2))
    path = ROOT / "bench" / "results" / "portal.json"
    existing = json.loads(path.read_text()) if path.exists() else {}
    existing[vendor] = result
    path.write_text(json.dumps(existing, ensure_ascii=False, indent=2) + "\n")


if __name__ == "__main__":
    main()

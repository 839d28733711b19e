"""好差评 at scale: summary API and supervision page with 1,000,000 ratings on PostgreSQL.

    .venv/bin/python bench/bench_ratings.py \
        --database-url postgres://postgres@127.0.0.1:5432/tongban_bench_ratings --ratings 1000000

The database named in --database-url is DROPPED and re-created. In one process:

1. Setup: migrate; the Guizhou regions, catalog, the default hall registry (~2,000 halls, ~4,800
   windows) and the demo staff (province / Zunyi supervisors, hall supervisors).
2. Load: N served queue tickets and N window-pad ratings with COPY (a year of days; 60% of ratings
   at the 99 comprehensive halls, 20% at branch halls, 20% spread over 1,500 township stations;
   ~5% bad), the rectifications of the bad ones with one INSERT … SELECT (states by age; deadlines
   approximated as 21 calendar days — the bench measures reads, not the calendar), then
   ``ratings.tally.rebuild()`` (set-based) and ANALYZE.
3. Reads, each repeated ``--repeat`` times after one warm-up, p50/p95/max in ms, through Django's
   test client with a logged-in supervisor (full request: auth, scope, queries, JSON/HTML):
   the summary API (province-wide all time and a year, a city, a county, a hall, a date range)
   and the supervision page (province default 12 weeks, province all time, a city, a county, a hall).
   Plus the map's per-hall figures for every hall and the county choropleth.
4. Writes: M ratings through ``ratings.actions.rate_visit`` on top of the 1,000,000 (tallies kept
   in the same transaction).

Writes bench/results/ratings.json.
"""

from __future__ import annotations

import argparse
import datetime as dt
import json
import os
import platform
import random
import statistics
import time
from typing import Any

from _bootstrap import ROOT, prepare_database, setup_django


def _setup(url: str, *, load: bool = True) -> None:
    setup_django(url, quiet=False, DJANGO_ALLOWED_HOSTS="testserver,127.0.0.1")
    if not load:
        return
    from demo.hall_registry import load_halls
    from demo.staff import load_staff
    from govmap.loaders import load_shipped_regions
    from services.catalog_data import load_catalog, load_departments

    load_shipped_regions("520000")
    load_catalog()
    load_departments()
    load_halls(size="default")
    load_staff()


def _load(n: int, seed: int) -> dict[str, Any]:
    from django.db import connection

    from halls.models import Hall, QueueTicket, Window
    from ratings import tally
    from ratings.models import Rating, Rectification

    rng = random.Random(seed)
    halls = list(Hall.objects.filter(type__in=["comprehensive", "branch", "station"]).values("pk", "type", "region_id"))
    windows: dict[int, list[int]] = {}
    for hall_id, wid in Window.objects.values_list("hall_id", "pk"):
        windows.setdefault(hall_id, []).append(wid)
    halls = [h for h in halls if h["pk"] in windows]
    by_type = {t: [h for h in halls if h["type"] == t] for t in ("comprehensive", "branch", "station")}
    quality = {h["pk"]: rng.uniform(0.4, 1.5) for h in halls}
    today = dt.date.today()
    days = [today - dt.timedelta(days=i) for i in range(1, 366)]
    workdays = [d for d in days if d.weekday() < 5]
    tz = dt.timezone(dt.timedelta(hours=8))

    started = time.perf_counter()
    t_table, r_table = QueueTicket._meta.db_table, Rating._meta.db_table
    with connection.cursor() as cursor:
        # Stream the generated visits into a staging table, then build tickets and ratings from it
        # set-based (a million Python tuples never sit in memory).
        cursor.execute(
            "CREATE TEMP TABLE bench_stage (seq integer, hall_id bigint, window_id bigint, level smallint, "
            "region varchar(6), at timestamptz, day date)"
        )
        raw = cursor.connection
        with raw.cursor() as cur, cur.copy("COPY bench_stage FROM STDIN") as copy:
            for i in range(n):
                pool = rng.choices(("comprehensive", "branch", "station"), weights=(60, 20, 20))[0]
                hall = rng.choice(by_type[pool])
                window = rng.choice(windows[hall["pk"]])
                day = rng.choice(workdays) if rng.random() < 0.95 else rng.choice(days)
                at = dt.datetime.combine(day, dt.time(9 + rng.randrange(8), rng.randrange(60)), tzinfo=tz)
                q = quality[hall["pk"]]
                x = rng.random()
                bad = 0.05 * (1.6 - q)
                level = 1 if x < bad * 0.45 else 2 if x < bad else 3 if x < bad + 0.06 else 4 if x < 0.3 else 5
                copy.write_row((100000 + i, hall["pk"], window, level, hall["region_id"], at, day))
        stage_s = time.perf_counter() - started
        cursor.execute(
            f"""
            INSERT INTO {t_table} (hall_id, service_date, category, seq, number, priority, status, phone,
                window_id, issued_at, called_at, serving_at, finished_at, near_notified)
            SELECT hall_id, day, 'B', seq, 'B' || lpad((seq % 1000)::text, 3, '0'), 0, 'done', '', window_id,
                at, at, at, at, false
            FROM bench_stage
            """
        )
        tickets_s = time.perf_counter() - started - stage_s
        cursor.execute(
            f"""
            INSERT INTO {r_table} (kind, channel, ticket_id, contact_phone, level, indicators, comment, hall_id,
                window_id, province_code, city_code, county_code, rated_at, rated_on, counted)
            SELECT 'visit', 'window_pad', t.id, '', s.level, jsonb_build_object('overall', s.level), '', s.hall_id,
                s.window_id, left(s.region, 2), left(s.region, 4), s.region, s.at, s.day, true
            FROM bench_stage s
            JOIN {t_table} t ON t.hall_id = s.hall_id AND t.service_date = s.day AND t.category = 'B'
                AND t.seq = s.seq
            """
        )
        ratings_s = time.perf_counter() - started - stage_s - tickets_s
        r, rect = Rating._meta.db_table, Rectification._meta.db_table
        cursor.execute(
            f"""
            INSERT INTO {rect} (rating_id, state, hall_id, province_code, city_code, county_code, rated_on, counted,
                opened_at, deadline, province_escalate_at, escalation_level, measures, reply, replied_at,
                replied_on_time, callback_result, callback_note, callback_at, closed_at, updated_at)
            SELECT id,
                CASE WHEN rated_at > now() - interval '5 days' THEN 'open'
                     WHEN rated_at > now() - interval '10 days' THEN 'rectifying'
                     WHEN id % 20 = 0 THEN 'open'
                     ELSE 'closed' END,
                hall_id, province_code, city_code, county_code, rated_on, true,
                rated_at, rated_at + interval '21 days', rated_at + interval '28 days', 0, '', '',
                CASE WHEN rated_at > now() - interval '10 days' OR id % 20 = 0 THEN NULL
                     ELSE rated_at + (id % 25) * interval '1 day' END,
                CASE WHEN rated_at > now() - interval '10 days' OR id % 20 = 0 THEN NULL
                     ELSE (id % 25) <= 21 END,
                '', '', NULL, NULL, now()
            FROM {r} WHERE level <= 2
            """
        )
        rect_s = time.perf_counter() - started - stage_s - tickets_s - ratings_s
    t0 = time.perf_counter()
    tallies = tally.rebuild()
    rebuild_s = time.perf_counter() - t0
    with connection.cursor() as cursor:
        cursor.execute("ANALYZE")
    return {
        "ratings": Rating.objects.count(),
        "bad": Rectification.objects.count(),
        "tally_rows": tallies,
        "seconds": {
            "generate_and_copy": round(stage_s, 1),
            "insert_tickets": round(tickets_s, 1),
            "insert_ratings": round(ratings_s, 1),
            "rectifications": round(rect_s, 1),
            "tally_rebuild": round(rebuild_s, 1),
        },
    }


def _timed(fn: Any, repeat: int) -> dict[str, Any]:
    fn()  # warm-up (connections, caches of the scope, template loading)
    samples = []
    for _ in range(repeat):
        t0 = time.perf_counter()
        fn()
        samples.append((time.perf_counter() - t0) * 1000)
    samples.sort()
    p95 = samples[max(0, round(0.95 * len(samples)) - 1)]
    return {
        "p50_ms": round(statistics.median(samples), 1),
        "p95_ms": round(p95, 1),
        "max_ms": round(samples[-1], 1),
        "n": repeat,
    }


def _reads(repeat: int) -> dict[str, Any]:
    from django.test import Client
    from rest_framework.test import APIClient

    from accounts.models import User
    from halls.hall_stats import stats_for_halls
    from halls.models import Hall
    from ratings.selectors import county_satisfaction

    prov = User.objects.get(username="sup-province")
    zunyi = User.objects.get(username="sup-zunyi")
    hall = Hall.objects.filter(type="comprehensive", region_id="520302").order_by("code").first()
    assert hall is not None
    today = dt.date.today()
    year = {"from": (today - dt.timedelta(days=365)).isoformat(), "to": today.isoformat()}
    quarter = {"from": (today - dt.timedelta(days=90)).isoformat(), "to": today.isoformat()}

    api = APIClient()
    api.force_authenticate(prov)
    api_zunyi = APIClient()
    api_zunyi.force_authenticate(zunyi)

    def api_get(client: Any, params: dict[str, str]) -> Any:
        def run() -> None:
            resp = client.get("/api/v1/ratings/summary/", params)
            assert resp.status_code == 200, resp.content

        return run

    results: dict[str, Any] = {}
    checks = api.get("/api/v1/ratings/summary/").json()
    results["summary_all_time_province"] = {"answer": checks}
    cases = {
        "province, all time": (api, {}),
        "province, last year": (api, year),
        "province, last 90 days": (api, quarter),
        "city 遵义 (Zunyi supervisor), all time": (api_zunyi, {}),
        "city 贵阳 520100, last year": (api, {"region": "520100", **year}),
        "county 520302, all time": (api, {"region": "520302"}),
        "hall, all time": (api, {"hall": hall.code}),
    }
    results["summary_api"] = {name: _timed(api_get(client, params), repeat) for name, (client, params) in cases.items()}

    page = Client()
    page.force_login(prov)
    page_zunyi = Client()
    page_zunyi.force_login(zunyi)

    def page_get(client: Any, params: dict[str, str]) -> Any:
        def run() -> None:
            resp = client.get("/supervision/ratings/", params)
            assert resp.status_code == 200, resp.status_code

        return run

    pages = {
        "province, default (last 12 weeks)": (page, {}),
        "province, all time": (page, {"all": "1"}),
        "province, last year": (page, year),
        "city 遵义 (Zunyi supervisor), default": (page_zunyi, {}),
        "county 520302, last year": (page, {"region": "520302", **year}),
        "hall, last year": (page, {"hall": hall.code, **year}),
    }
    results["supervision_page"] = {name: _timed(page_get(c, p), repeat) for name, (c, p) in pages.items()}
    all_halls = list(Hall.objects.values_list("pk", flat=True))
    results["map_hall_figures_all_halls"] = _timed(lambda: stats_for_halls(all_halls), repeat)
    results["map_hall_figures_all_halls"]["halls"] = len(all_halls)
    results["county_choropleth"] = _timed(county_satisfaction, repeat)
    return results


def _writes(m: int) -> dict[str, Any]:
    from django.utils import timezone

    from accounts.models import User
    from halls.models import QueueTicket, StaffPost
    from ratings import actions
    from ratings.actions import RatingInput

    post = StaffPost.objects.filter(user__username="clerk-zunyi").select_related("hall", "window").first()
    assert post is not None
    clerk = User.objects.get(username="clerk-zunyi")
    today = timezone.localdate()
    # A re-run (--reuse) on the same day continues the numbering.
    base = QueueTicket.objects.filter(hall=post.hall, service_date=today, category="W").count()
    tickets = QueueTicket.objects.bulk_create(
        [
            QueueTicket(
                hall=post.hall, service_date=today, category="W", seq=base + i + 1,
                number=f"W{(base + i + 1) % 1000:03d}", status="done", window=post.window, called_by=clerk,
                finished_at=timezone.now(),
            )
            for i in range(m)
        ]
    )  # fmt: skip
    t0 = time.perf_counter()
    for i, ticket in enumerate(tickets):
        _pad, raw = actions.open_pad(ticket=ticket, actor=clerk)
        actions.rate_visit(token=raw, data=RatingInput(level=1 if i % 20 == 0 else 5))
    seconds = time.perf_counter() - t0
    return {"ratings": m, "seconds": round(seconds, 2), "ms_per_rating_incl_pad": round(seconds * 1000 / m, 2)}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--database-url", default="postgres://postgres@127.0.0.1:5432/tongban_bench_ratings")
    parser.add_argument("--ratings", type=int, default=1_000_000)
    parser.add_argument("--repeat", type=int, default=40)
    parser.add_argument("--writes", type=int, default=300)
    parser.add_argument("--seed", type=int, default=52)
    parser.add_argument(
        "--reuse", action="store_true", help="measure on the database a previous run loaded (no drop, no load)"
    )
    args = parser.parse_args()
    if not args.database_url.startswith("postgres"):
        parser.error("this benchmark needs PostgreSQL (COPY)")
    if args.reuse:
        _setup(args.database_url, load=False)
        from ratings.models import Rating, Rectification

        load: dict[str, Any] = {"reused": True, "ratings": Rating.objects.count(), "bad": Rectification.objects.count()}
        previous = ROOT / "bench" / "results" / "ratings.json"
        if previous.exists():
            load["seconds"] = json.loads(previous.read_text()).get("load", {}).get("seconds")
    else:
        prepare_database(args.database_url)
        _setup(args.database_url)
        load = _load(args.ratings, args.seed)
    print("loaded", json.dumps(load, ensure_ascii=False))
    reads = _reads(args.repeat)
    writes = _writes(args.writes)
    result = {
        "database": "postgresql",
        "python": platform.python_version(),
        "machine": f"{platform.machine()} / {os.cpu_count()} cpu",
        "loadavg_at_end": [round(x, 2) for x in os.getloadavg()],
        "when": dt.datetime.now().astimezone().isoformat(timespec="seconds"),
        "target": "summary API and supervision page p95 <= 300 ms with 1,000,000 ratings",
        "load": load,
        **reads,
        "writes": writes,
    }
    out = ROOT / "bench" / "results" / "ratings.json"
    out.parent.mkdir(parents=True, exist_ok=True)
    out.write_text(json.dumps(result, ensure_ascii=False, indent=2, default=str) + "\n")
    print(json.dumps(result, ensure_ascii=False, indent=2, default=str))


if __name__ == "__main__":
    main()

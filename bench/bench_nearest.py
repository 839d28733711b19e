"""Nearest-hall API latency over HTTP at ~20,000 and 200,000 points.

    .venv/bin/python bench/bench_nearest.py [--requests 2000] [--workdir /tmp/tongban-bench]

Builds a throw-away SQLite database with the Guizhou demo data at size "large" (~20,000 service
points), serves it with one uvicorn process (config.asgi, settings.local with DEBUG off), and times
GET /api/v1/halls/nearest/?lat=&lon=&k=5 from one keep-alive client at random points in Guizhou.
Then adds synthetic stations up to 200,000 points and measures again (the server notices the
change through the index version and rebuilds). Also times the bare index query in-process.
Writes bench/results/nearest.json.

Helpers here (`prepare_database`, `serve`: procs.serve over a SQLite file) are reused by bench_map.py
and bench_ws.py.
"""

from __future__ import annotations

import argparse
import contextlib
import json
import os
import platform
import statistics
import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import procs

ROOT = Path(__file__).resolve().parent.parent
PY = ROOT / ".venv" / "bin" / "python"
GUIZHOU_BBOX = (103.6, 24.6, 109.6, 29.2)  # min lon, min lat, max lon, max lat


def env_for(db: Path, **extra: str) -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if k not in ("REDIS_URL", "DATABASE_URL")}
    env.update(
        DATABASE_URL=f"sqlite:///{db}",
        DJANGO_SETTINGS_MODULE="config.settings.local",
        DJANGO_DEBUG="false",
        LOG_LEVEL="WARNING",
        SMS_BACKEND="locmem",
    )
    env.update(extra)
    return env


def prepare_database(workdir: Path, size: str = "large") -> Path:
    """migrate + load_demo --size SIZE into workdir/<size>.sqlite3 (reused when present)."""
    workdir.mkdir(parents=True, exist_ok=True)
    db = workdir / f"{size}.sqlite3"
    fresh = not db.exists()
    env = env_for(db)
    # Always migrate: apps gain tables while the cached database stays.
    subprocess.run([str(PY), "manage.py", "migrate", "-v0"], cwd=ROOT, env=env, check=True)
    if fresh:
        subprocess.run(
            [str(PY), "manage.py", "load_demo", "--size", size],
            cwd=ROOT,
            env=env,
            check=True,
            stdout=subprocess.DEVNULL,
        )
    return db


@contextlib.contextmanager
def serve(db: Path, *, workers: int = 1, **extra_env: str) -> Iterator[str]:
    """uvicorn config.asgi:application over the SQLite database ``db`` on a free loopback port
    (bench/procs.py's ``serve``); yields the base URL. Up once /healthz answers at all: a 503 there
    names a broker or cache these benches do not need."""
    with procs.serve("uvicorn", "config", env_for(db, **extra_env), workers, 1, "/healthz", up=_answers) as base:
        yield base


def _answers(status: int) -> bool:
    return status in (200, 503)


def percentiles(samples: list[float]) -> dict[str, float]:
    s = sorted(samples)

    def pct(p: float) -> float:
        return s[min(len(s) - 1, round(p / 100 * (len(s) - 1)))]

    return {
        "n": len(s),
        "mean_ms": round(statistics.fmean(s), 3),
        "p50_ms": round(pct(50), 3),
        "p95_ms": round(pct(95), 3),
        "p99_ms": round(pct(99), 3),
        "max_ms": round(s[-1], 3),
    }


def time_requests(base: str, n: int, seed: int, **params: Any) -> dict[str, Any]:
    import numpy as np
    import requests

    rng = np.random.default_rng(seed)
    session = requests.Session()
    url = base + "/api/v1/halls/nearest/"

    def one() -> float:
        lat = float(rng.uniform(GUIZHOU_BBOX[1], GUIZHOU_BBOX[3]))
        lon = float(rng.uniform(GUIZHOU_BBOX[0], GUIZHOU_BBOX[2]))
        t0 = time.perf_counter()
        r = session.get(url, params={"lat": f"{lat:.6f}", "lon": f"{lon:.6f}", "k": 5, **params}, timeout=30)
        elapsed = (time.perf_counter() - t0) * 1000
        r.raise_for_status()
        assert r.json(), "no halls found"
        return elapsed

    for _ in range(50):  # warm-up: builds the index, fills caches and connection pools
        one()
    return percentiles([one() for _ in range(n)])


def add_synthetic_points(db: Path, total: int, seed: int = 7) -> int:
    """Add synthetic stations (inside Guizhou's counties) until the table holds `total` halls."""
    code = f"""
import numpy as np, django
django.setup()
from govmap.geo import counties_at
from halls.models import Hall
have = Hall.objects.count()
need = {total} - have
rng = np.random.default_rng({seed})
rows = []
while len(rows) < need:
    lat = rng.uniform({GUIZHOU_BBOX[1]}, {GUIZHOU_BBOX[3]}, 50000)
    lon = rng.uniform({GUIZHOU_BBOX[0]}, {GUIZHOU_BBOX[2]}, 50000)
    for la, lo, c in zip(lat, lon, counties_at(lat, lon)):
        if c is not None and len(rows) < need:
            n = have + len(rows)
            rows.append(Hall(code=f"SYN-{{n:06d}}", name=f"合成服务点{{n}}", type="station", level="village",
                             region_id=c, lat=float(la), lon=float(lo), is_synthetic=True))
Hall.objects.bulk_create(rows, batch_size=5000)
print(Hall.objects.count())
"""
    out = subprocess.run(
        [str(PY), "-c", code], cwd=ROOT, env=env_for(db), check=True, capture_output=True, text=True
    ).stdout
    return int(out.strip().splitlines()[-1])


def in_process_index(n_points: int, queries: int = 5000) -> dict[str, Any]:
    import numpy as np

    sys.path.insert(0, str(ROOT))
    from govmap.spatial import PointIndex

    rng = np.random.default_rng(3)
    lat = rng.uniform(GUIZHOU_BBOX[1], GUIZHOU_BBOX[3], n_points)
    lon = rng.uniform(GUIZHOU_BBOX[0], GUIZHOU_BBOX[2], n_points)
    t0 = time.perf_counter()
    index = PointIndex(ids=np.arange(n_points), lat=lat, lon=lon)
    build_ms = (time.perf_counter() - t0) * 1000
    qlat = rng.uniform(GUIZHOU_BBOX[1], GUIZHOU_BBOX[3], queries)
    qlon = rng.uniform(GUIZHOU_BBOX[0], GUIZHOU_BBOX[2], queries)
    samples = []
    for a, b in zip(qlat, qlon, strict=True):
        t = time.perf_counter()
        index.nearest(float(a), float(b), 5)
        samples.append((time.perf_counter() - t) * 1000)
    return {"points": n_points, "build_ms": round(build_ms, 1), **percentiles(samples)}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--requests", type=int, default=2000)
    parser.add_argument("--workdir", type=Path, default=Path("/tmp/tongban-bench"))
    parser.add_argument("--out", type=Path, default=ROOT / "bench" / "results" / "nearest.json")
    args = parser.parse_args()

    base_db = prepare_database(args.workdir, "large")
    db = args.workdir / "nearest.sqlite3"
    db.write_bytes(base_db.read_bytes())  # the 200k run must not pollute the shared demo database
    results: dict[str, Any] = {
        "bench": "nearest",
        "when": time.strftime("%Y-%m-%dT%H:%M:%S%z"),
        "machine": {"python": platform.python_version(), "cpus": os.cpu_count(), "platform": platform.platform()},
        "method": "GET /api/v1/halls/nearest/?lat&lon&k=5 over HTTP (one keep-alive client, one uvicorn "
        "worker, SQLite), random points in Guizhou's bounding box",
        "targets": {"p95_ms_at_20k": 20, "p95_at_200k_le_2x_20k": True},
        "http": {},
        "in_process": {},
    }
    with serve(db) as base:
        import requests

        points = len(requests.get(base + "/api/v1/map/halls.geojson", timeout=60).json()["features"])
        results["http"]["20k"] = {"points": points, **time_requests(base, args.requests, seed=1)}
        results["http"]["20k_type_comprehensive"] = {
            "points": points,
            **time_requests(base, args.requests // 2, seed=2, type="comprehensive"),
        }
        print(json.dumps(results["http"], ensure_ascii=False))
    total = add_synthetic_points(db, 200_000)
    with serve(db) as base:
        results["http"]["200k"] = {"points": total, **time_requests(base, args.requests, seed=1)}
        results["http"]["200k_type_comprehensive"] = {
            "points": total,
            **time_requests(base, args.requests // 2, seed=2, type="comprehensive"),
        }
    results["ratio_p95_200k_over_20k"] = round(results["http"]["200k"]["p95_ms"] / results["http"]["20k"]["p95_ms"], 2)
    results["in_process"]["20k"] = in_process_index(20_000)
    results["in_process"]["200k"] = in_process_index(200_000)
    args.out.parent.mkdir(parents=True, exist_ok=True)
    args.out.write_text(json.dumps(results, ensure_ascii=False, indent=2) + "\n")
    print(json.dumps(results, ensure_ascii=False, indent=2))
    db.unlink(missing_ok=True)


if __name__ == "__main__":
    main()

"""/map/ page: HTML size and generation time at ~2,000 and ~20,000 points vs naive folium, and the
time to first clusters in headless chromium.

    .venv/bin/python bench/bench_map.py [--repeat 10] [--browser-runs 5]

For each demo size ("default" ≈ 2,000 points, "large" ≈ 20,000): serves the database with uvicorn
and times GET /map/ and GET /api/v1/map/halls.geojson (raw and gzip sizes); builds, in one run,
the naive alternative — folium.Map + MarkerCluster with one Marker and popup per hall — and
measures its HTML size and render time. Then opens /map/ at 20,000 points in Debian's chromium
with every non-loopback request aborted and times navigation → first `.marker-cluster` visible.
Writes bench/results/map.json.
"""

from __future__ import annotations

import argparse
import gzip
import json
import os
import platform
import sqlite3
import statistics
import sys
import time
from pathlib import Path
from typing import Any
from urllib.parse import urlparse

sys.path.insert(0, str(Path(__file__).resolve().parent))
from bench_nearest import ROOT, percentiles, prepare_database, serve

CHROMIUM = "/usr/bin/chromium"
ARGS = [
    "--no-sandbox",
    "--disable-gpu",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--no-first-run",
]


def naive_folium(db: Path) -> dict[str, Any]:
    """What the page would cost with the points inside: MarkerCluster of Markers with popups."""
    import folium
    from folium.plugins import MarkerCluster

    with sqlite3.connect(db) as conn:
        rows = conn.execute("SELECT name, type, lat, lon FROM halls_hall WHERE is_active = 1").fetchall()
    t0 = time.perf_counter()
    m = folium.Map(location=[26.8, 106.7], zoom_start=7, tiles=None)
    cluster = MarkerCluster().add_to(m)
    for name, htype, lat, lon in rows:
        folium.Marker([lat, lon], popup=folium.Popup(f"{name}（{htype}）"), tooltip=name).add_to(cluster)
    html = m.get_root().render()
    seconds = time.perf_counter() - t0
    return {"points": len(rows), "html_bytes": len(html.encode()), "generate_s": round(seconds, 3)}


def time_get(url: str, repeat: int, *, gz: bool = False, pause: float = 0.0) -> tuple[dict[str, Any], bytes, int]:
    import requests

    session = requests.Session()
    samples = []
    body = b""
    wire = 0
    headers = {"Accept-Encoding": "gzip"} if gz else {"Accept-Encoding": "identity"}
    for i in range(repeat + 1):
        time.sleep(pause)
        t0 = time.perf_counter()
        r = session.get(url, headers=headers, timeout=120, stream=True)
        raw = r.raw.read(decode_content=False)
        elapsed = (time.perf_counter() - t0) * 1000
        r.raise_for_status()
        if i:  # the first request warms caches
            samples.append(elapsed)
        wire = len(raw)
        body = gzip.decompress(raw) if r.headers.get("Content-Encoding") == "gzip" else raw
    return percentiles(samples), body, wire


def first_clusters(base: str, runs: int) -> dict[str, Any]:
    from playwright.sync_api import sync_playwright

    results = []
    blocked: list[str] = []
    with sync_playwright() as p:
        browser = p.chromium.launch(executable_path=CHROMIUM, headless=True, args=ARGS)
        for _ in range(runs):
            ctx = browser.new_context(viewport={"width": 1280, "height": 800})

            def route(r: Any) -> None:
                if (urlparse(r.request.url).hostname or "") in ("127.0.0.1", "localhost"):
                    r.continue_()
                else:
                    blocked.append(r.request.url)
                    r.abort()

            ctx.route("**/*", route)
            page = ctx.new_page()
            t0 = time.perf_counter()
            page.goto(base + "/map/", wait_until="commit")
            page.wait_for_selector(".marker-cluster", state="visible", timeout=60_000)
            visible_s = time.perf_counter() - t0
            loaded = page.evaluate("() => Number(document.body.dataset.hallsLoaded || 0)")
            js_ms = page.evaluate("() => window.TongbanMapApp.state.firstClustersAt")
            nav = page.evaluate(
                "() => { const n = performance.getEntriesByType('navigation')[0]; return n ? n.responseEnd : null; }"
            )
            results.append({"visible_s": visible_s, "points": loaded, "fetch_and_cluster_ms": js_ms, "html_ms": nav})
            ctx.close()
        browser.close()
    vis = [r["visible_s"] for r in results]
    return {
        "runs": runs,
        "median_s": round(statistics.median(vis), 3),
        "max_s": round(max(vis), 3),
        "points": results[-1]["points"],
        "median_geojson_fetch_and_cluster_ms": round(statistics.median(r["fetch_and_cluster_ms"] for r in results), 1),
        "blocked_requests": len(blocked),
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--repeat", type=int, default=10)
    parser.add_argument("--browser-runs", type=int, default=5)
    parser.add_argument("--workdir", type=Path, default=Path("/tmp/tongban-bench"))
    parser.add_argument("--out", type=Path, default=ROOT / "bench" / "results" / "map.json")
    args = parser.parse_args()
    os.chdir(ROOT)

    results: dict[str, Any] = {
        "bench": "map",
        "when": time.strftime("%Y-%m-%dT%H:%M:%S%z"),
        "machine": {"python": platform.python_version(), "cpus": os.cpu_count(), "platform": platform.platform()},
        "targets": {"html_kb_max": 300, "html_unchanged_by_count": True, "first_clusters_s_at_20k": 2.0},
        "sizes": {},
    }
    for size in ("default", "large"):
        db = prepare_database(args.workdir, size)
        with serve(db) as base:
            page_t, page_body, _ = time_get(base + "/map/", args.repeat)
            geo_url = base + "/api/v1/map/halls.geojson"
            # Cold: past the answer cache's TTL (2 s), so every request builds the collection.
            geo_t, geo_body, geo_wire = time_get(geo_url, max(3, args.repeat // 2), gz=True, pause=2.2)
            geo_warm, _b, _w = time_get(geo_url, args.repeat, gz=True)
            points = len(json.loads(geo_body)["features"])
            entry: dict[str, Any] = {
                "points": points,
                "map_html_bytes": len(page_body),
                "map_generate_ms": page_t,
                "geojson_bytes": len(geo_body),
                "geojson_gzip_bytes": geo_wire,
                "geojson_build_ms": geo_t,
                "geojson_cached_ms": geo_warm,
                "naive_folium_markercluster": naive_folium(db),
            }
            if size == "large" and Path(CHROMIUM).exists():
                entry["chromium_first_clusters"] = first_clusters(base, args.browser_runs)
        results["sizes"][size] = entry
        print(json.dumps({size: entry}, ensure_ascii=False))
    a, b = results["sizes"]["default"], results["sizes"]["large"]
    results["html_size_delta_bytes"] = b["map_html_bytes"] - a["map_html_bytes"]
    args.out.parent.mkdir(parents=True, exist_ok=True)
    args.out.write_text(json.dumps(results, ensure_ascii=False, indent=2) + "\n")
    print(json.dumps(results, ensure_ascii=False, indent=2))


if __name__ == "__main__":
    main()

"""Point → county lookup speed (govmap.geo) on the shipped Guizhou boundaries.

    .venv/bin/python bench/bench_geo.py [--points 20000] [--repeat 7]

Uses a throw-away SQLite database (only govmap's table), loads the shipped extract, and times:
loading the regions (cold and idempotent re-load), building the STRtree index, the vectorised
`counties_at` for N random points in Guizhou's bounding box, the scalar `county_at`, and
`random_points_in`. Writes bench/results/geo.json.
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

from _bootstrap import ROOT, setup_django


def _setup_django(db_path: Path) -> None:
    settings = os.environ.get("DJANGO_SETTINGS_MODULE", "config.settings.test")
    setup_django(f"sqlite:///{db_path}", settings=settings, eager=None, migrate="govmap", quiet=False)


def _timed(fn, repeat: int) -> list[float]:  # type: ignore[no-untyped-def]
    times = []
    for _ in range(repeat):
        t0 = time.perf_counter()
        fn()
        times.append(time.perf_counter() - t0)
    return times


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--points", type=int, default=20_000)
    parser.add_argument("--repeat", type=int, default=7)
    parser.add_argument("--out", type=Path, default=ROOT / "bench" / "results" / "geo.json")
    args = parser.parse_args()

    with tempfile.TemporaryDirectory() as tmp:
        _setup_django(Path(tmp) / "bench.sqlite3")
        import numpy as np
        import shapely

        from govmap import geo, loaders

        t0 = time.perf_counter()
        summary = loaders.load_shipped_regions("520000")
        load_cold = time.perf_counter() - t0
        load_again = _timed(lambda: loaders.load_shipped_regions("520000"), 3)

        geo.invalidate_county_index()
        t0 = time.perf_counter()
        index = geo.county_index()
        build = time.perf_counter() - t0

        rng = np.random.default_rng(2020)
        lats = rng.uniform(24.6, 29.25, args.points)
        lons = rng.uniform(103.6, 109.6, args.points)
        result: list[str | None] = []

        def vectorised() -> None:
            nonlocal result
            result = geo.counties_at(lats, lons)

        vec = _timed(vectorised, args.repeat)
        inside = sum(c is not None for c in result)

        # Only points inside the province: the common case for halls and citizens.
        inner = np.array(geo.random_points_in("520000", args.points, 7))
        vec_inner = _timed(lambda: geo.counties_at(inner[:, 0], inner[:, 1]), args.repeat)

        # For comparison: the one-call STRtree predicate query (pairwise `within`).
        points = shapely.points(inner[:, 1], inner[:, 0])
        pairwise = _timed(lambda: index.tree.query(points, predicate="within"), 3)

        n_scalar = min(2000, args.points)
        scalar = _timed(
            lambda: [geo.county_at(float(a), float(b)) for a, b in zip(lats[:n_scalar], lons[:n_scalar], strict=True)],
            3,
        )
        sample = _timed(lambda: geo.random_points_in("520102", 1000, 1), args.repeat)

    out = {
        "benchmark": (
            "govmap point → county (STRtree bbox candidates + prepared contains_xy), shipped Guizhou extract"
        ),
        "python": platform.python_version(),
        "machine": platform.machine(),
        "cpus": os.cpu_count(),
        "counties_indexed": len(index),
        "regions_loaded": summary["total"],
        "load_shipped_regions_cold_s": round(load_cold, 4),
        "load_shipped_regions_idempotent_s": round(statistics.median(load_again), 4),
        "index_build_s": round(build, 4),
        "points": args.points,
        "points_in_a_county": inside,
        "counties_at_bbox_points_median_s": round(statistics.median(vec), 5),
        "counties_at_bbox_points_min_s": round(min(vec), 5),
        "counties_at_province_points_median_s": round(statistics.median(vec_inner), 5),
        "strtree_query_predicate_within_median_s": round(statistics.median(pairwise), 5),
        "points_per_second_vectorised": round(args.points / statistics.median(vec_inner)),
        "county_at_scalar_us_per_point": round(statistics.median(scalar) / n_scalar * 1e6, 1),
        "random_points_in_1000_in_520102_s": round(statistics.median(sample), 5),
        "shipped_extract_bytes": loaders.shipped_extract_path("520000").stat().st_size,
    }
    args.out.parent.mkdir(parents=True, exist_ok=True)
    args.out.write_text(json.dumps(out, ensure_ascii=False, indent=2) + "\n")
    print(json.dumps(out, ensure_ascii=False, indent=2))


if __name__ == "__main__":
    main()

"""Speed of the demo hall registry loader (demo.hall_registry.load_halls) on a fresh SQLite database.

    .venv/bin/python bench/bench_demo.py [--repeat 3] [--sizes default,large]

For every size and repetition a child process gets its own throw-away SQLite file (the embedded
default's settings: WAL, synchronous=NORMAL), migrates it, loads the regions and the catalog, then
times: load_halls on the fresh database, the idempotent re-run (nothing to write), and for "large"
also the incremental path (default first, then large adds the villages). Row counts come from the
database afterwards. Writes bench/results/demo.json.
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

from _bootstrap import ROOT, setup_django


def _child(size: str, db_path: Path) -> dict[str, Any]:
    """One measurement in this (fresh) process: prints and returns a JSON-able dict."""
    # Celery and SMS as the embedded default has them; migrate is timed below.
    setup_django(f"sqlite:///{db_path}", eager=None, migrate=False, quiet=False)
    from django.core.management import call_command

    t0 = time.perf_counter()
    call_command("migrate", verbosity=0)
    migrate_s = time.perf_counter() - t0

    from demo.hall_registry import load_halls
    from govmap.loaders import load_shipped_regions
    from halls.models import Hall, Window
    from services.catalog_data import load_catalog, load_departments

    t0 = time.perf_counter()
    load_shipped_regions("520000")
    regions_s = time.perf_counter() - t0
    t0 = time.perf_counter()
    load_catalog()
    load_departments()
    catalog_s = time.perf_counter() - t0

    out: dict[str, Any] = {"size": size, "migrate_s": migrate_s, "regions_s": regions_s, "catalog_s": catalog_s}
    if size == "large-incremental":
        first = load_halls(size="default")
        t0 = time.perf_counter()
        result = load_halls(size="large")
        out["fresh_s"] = time.perf_counter() - t0
        out["default_first_s"] = first["seconds"]["total"]
    else:
        t0 = time.perf_counter()
        result = load_halls(size=size)
        out["fresh_s"] = time.perf_counter() - t0
    out["phases"] = result["seconds"]
    t0 = time.perf_counter()
    again = load_halls(size="large" if size.startswith("large") else size)
    out["rerun_s"] = time.perf_counter() - t0
    out["rerun_created"] = again["halls"]["created"] + again["windows"]["created"] + again["window_items"]["added"]
    out["halls"] = Hall.objects.count()
    out["windows"] = Window.objects.count()
    out["window_items"] = Window.items.through.objects.count()
    out["by_type"] = result["by_type"]
    out["by_level"] = result["by_level"]
    out["db_bytes"] = db_path.stat().st_size
    return out


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--repeat", type=int, default=3)
    parser.add_argument("--sizes", default="default,large,large-incremental")
    parser.add_argument("--out", type=Path, default=ROOT / "bench" / "results" / "demo.json")
    parser.add_argument("--child", nargs=2, metavar=("SIZE", "DB"), help=argparse.SUPPRESS)
    args = parser.parse_args()

    if args.child:
        print(json.dumps(_child(args.child[0], Path(args.child[1]))))
        return

    runs: dict[str, list[dict[str, Any]]] = {}
    for size in args.sizes.split(","):
        for n in range(args.repeat):
            with tempfile.TemporaryDirectory() as tmp:
                db = Path(tmp) / "bench.sqlite3"
                proc = subprocess.run(  # each run on a fresh database in a fresh process
                    [sys.executable, __file__, "--child", size, str(db)],
                    capture_output=True,
                    text=True,
                    cwd=ROOT,
                    check=False,
                )
            if proc.returncode != 0:
                sys.stderr.write(proc.stderr)
                raise SystemExit(f"run {size} #{n + 1} failed")
            result = json.loads(proc.stdout.strip().splitlines()[-1])
            runs.setdefault(size, []).append(result)
            print(
                f"{size} #{n + 1}: {result['halls']} halls, fresh {result['fresh_s']:.2f}s, "
                f"re-run {result['rerun_s']:.2f}s"
            )

    summary: dict[str, Any] = {}
    for size, rs in runs.items():
        summary[size] = {
            "halls": rs[0]["halls"],
            "windows": rs[0]["windows"],
            "window_items": rs[0]["window_items"],
            "by_type": rs[0]["by_type"],
            "by_level": rs[0]["by_level"],
            "fresh_s_median": round(statistics.median(r["fresh_s"] for r in rs), 3),
            "fresh_s_min": round(min(r["fresh_s"] for r in rs), 3),
            "plan_s_median": round(statistics.median(r["phases"]["plan"] for r in rs), 3),
            "write_s_median": round(statistics.median(r["phases"]["write"] for r in rs), 3),
            "rerun_s_median": round(statistics.median(r["rerun_s"] for r in rs), 3),
            "rerun_rows_written": max(r["rerun_created"] for r in rs),
            "halls_per_s_fresh": round(rs[0]["halls"] / statistics.median(r["fresh_s"] for r in rs)),
            "regions_load_s_median": round(statistics.median(r["regions_s"] for r in rs), 3),
            "catalog_load_s_median": round(statistics.median(r["catalog_s"] for r in rs), 3),
            "db_bytes": rs[0]["db_bytes"],
        }
        if size == "large-incremental":
            summary[size]["note"] = "fresh_s = the large run after a default run (villages only)"
    report = {
        "benchmark": "demo.hall_registry.load_halls on a fresh SQLite database",
        "when": time.strftime("%Y-%m-%dT%H:%M:%S%z"),
        "machine": {
            "python": platform.python_version(),
            "platform": platform.platform(),
            "cpus": os.cpu_count(),
            "sqlite": __import__("sqlite3").sqlite_version,
        },
        "repeat": args.repeat,
        "results": summary,
        "runs": runs,
    }
    args.out.parent.mkdir(parents=True, exist_ok=True)
    args.out.write_text(json.dumps(report, ensure_ascii=False, indent=2) + "\n", encoding="utf-8")
    print(json.dumps(summary, ensure_ascii=False, indent=2))


if __name__ == "__main__":
    main()

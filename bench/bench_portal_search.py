"""Citizens' item search speed: the 40 real queries of tests/citizen_portal/test_search.py against
the shipped catalog, through citizen_portal.search (pinyin, initials, synonyms, typos, usage rank).

    .venv/bin/python bench/bench_portal_search.py [--rounds 20]

A throw-away SQLite database with the shipped catalog. Reports the first (cold: builds the pinyin
index) call, then p50/p95/max per query over all rounds, split into queries answered by exact
matching and those that fell through to typo matching. Writes bench/results/portal_search.json.
"""

from __future__ import annotations

import argparse
import json
import platform
import statistics
import sys
import tempfile
import time

from _bootstrap import ROOT, prepare_database, setup_django


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--rounds", type=int, default=20)
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as tmp:
        setup_django(prepare_database(None, tmp))
        from services.catalog_data import load_catalog

        load_catalog()
        sys.path.insert(0, str(ROOT))
        from citizen_portal import search
        from tests.citizen_portal.test_search import QUERIES

        started = time.perf_counter()
        search.rank("hkb")
        cold_ms = (time.perf_counter() - started) * 1000
        timings: dict[str, list[float]] = {q: [] for q, *_ in QUERIES}
        correct = 0
        for _ in range(args.rounds):
            for q, expected, _kind in QUERIES:
                t = time.perf_counter()
                found = search.search(q)
                timings[q].append((time.perf_counter() - t) * 1000)
                correct += int(bool(found) and found[0].name == expected)
        typo = {q for q, _e, kind in QUERIES if "typo" in kind or "homophone" in kind}

        def stats(values: list[float]) -> dict[str, float]:
            values = sorted(values)
            return {
                "p50_ms": round(statistics.median(values), 2),
                "p95_ms": round(values[int(len(values) * 0.95) - 1], 2),
                "max_ms": round(values[-1], 2),
            }

        result = {
            "queries": len(QUERIES),
            "rounds": args.rounds,
            "first_result_correct": f"{correct}/{len(QUERIES) * args.rounds}",
            "cold_first_call_ms": round(cold_ms, 1),
            "exact": stats([v for q, vs in timings.items() if q not in typo for v in vs]),
            "typo_or_homophone": stats([v for q, vs in timings.items() if q in typo for v in vs]),
            "worst_query": max(timings, key=lambda q: statistics.median(timings[q])),
            "python": platform.python_version(),
            "machine": platform.machine(),
        }
        print(json.dumps(result, ensure_ascii=False, indent=2))
        path = ROOT / "bench" / "results" / "portal_search.json"
        path.write_text(json.dumps(result, ensure_ascii=False, indent=2) + "\n")


if __name__ == "__main__":
    main()

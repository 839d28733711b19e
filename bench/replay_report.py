"""The replay's report: throughput, p50/p95/p99 per endpoint, errors, boards; and a ramp's verdict.
Used by bench/replay.py; never imported by the app.
"""

from __future__ import annotations

import argparse
import os
import platform
import time
from pathlib import Path
from typing import Any

from replay_http import Stats, percentiles


def report(args: argparse.Namespace, stats: Stats, replay: Any, timing: dict[str, Any]) -> dict[str, Any]:
    total = sum(len(v) for v in stats.latencies.values())
    endpoints = {}
    for name in sorted(stats.latencies):
        endpoints[name] = {**percentiles(stats.latencies[name]), "statuses": dict(stats.statuses[name])}
    worst = max(
        (v.get("p95_ms", 0) for k, v in endpoints.items() if v.get("n", 0) >= 20 and "/healthz" not in k), default=0
    )
    cases = sum(v for k, v in replay.counts.items() if k.startswith("cases_"))
    return {
        "bench": "replay",
        "when": time.strftime("%Y-%m-%dT%H:%M:%S%z"),
        "machine": {"python": platform.python_version(), "cpus": os.cpu_count(), "platform": platform.platform()},
        "args": {k: (str(v) if isinstance(v, Path) else v) for k, v in vars(args).items() if k != "world_data"},
        "timing": timing,
        "throughput": {
            "requests": total,
            "requests_per_s": round(total / max(timing["elapsed_s"], 1e-9), 2),
            "cases_started_per_s": round(cases / max(timing["offered_s"], 1e-9), 3),
        },
        "worst_p95_ms": worst,
        "counts": dict(replay.counts),
        "errors": {"total": sum(stats.errors.values()), "by_endpoint": dict(stats.errors.most_common())},
        "failovers": stats.failovers,
        "double_calls": replay.double_calls,
        "boards": {
            "n": len(replay.boards),
            "connects": sum(b["connects"] for b in replay.boards.values()),
            "messages": sum(b["messages"] for b in replay.boards.values()),
        },
        "endpoints": endpoints,
    }


def ramp_report(phases: list[dict[str, Any]], limit: float) -> dict[str, Any]:
    """One report for a ramp: each rate's figures, and the largest rate before p95 passed `limit`."""
    within = [p["args"]["rate"] for p in phases if p["worst_p95_ms"] <= limit and p["errors"]["total"] == 0]
    summary = {
        p["args"]["rate"]: {
            "worst_p95_ms": p["worst_p95_ms"],
            "requests_per_s": p["throughput"]["requests_per_s"],
            "cases_started_per_s": p["throughput"]["cases_started_per_s"],
            "errors": p["errors"]["total"],
            "p95_ms": {k: v.get("p95_ms") for k, v in p["endpoints"].items() if v.get("n", 0) >= 20},
        }
        for p in phases
    }
    last = phases[-1]
    return {
        **{
            k: last[k]
            for k in ("bench", "when", "machine", "timing", "throughput", "worst_p95_ms", "counts", "errors", "boards")
        },
        "ramp": summary,
        "p95_limit_ms": limit,
        "largest_rate_within_limit": max(within) if within else None,
        "phases": phases,
    }

"""Result documents: PDF render time per result and the verification API's latency.

    .venv/bin/python bench/bench_results.py [--n 200] [--requests 1000] [--database-url postgres://…/scratch]

The database named in --database-url is DROPPED and re-created (PostgreSQL); without it a throw-away
SQLite file is used. Phases:

1. render (pure): ``licences.pdf.render`` per template (licence / certificate / approval_notice) —
   signing excluded, the CJK font already loaded (the first render, which loads it, is reported
   apart). Target ≤ 60 ms per result.
2. render (action): ``licences.actions.render_result_document`` for freshly issued results — sign
   the QR claims, render, store the file, write the document row and the ledger entry.
3. verify API: GET /api/v1/results/<id>/verify/ through Django's test client (in-process, no
   network), with and without the QR payload (?p=, which adds the Ed25519 check); p50 / p95 / p99.
Writes bench/results/results.json (one entry per database vendor; --out elsewhere).
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import statistics
import tempfile
import time
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from _bootstrap import ROOT, prepare_database, setup_django
from benchworld import bench_world, proxy_lifecycle


def _setup(url: str, tmp: str) -> None:
    # Not eager: the phases render explicitly.
    setup_django(url, RESULT_SIGNING_KEYS_DIR=f"{tmp}/keys", MEDIA_ROOT=f"{tmp}/media")
    from django.conf import settings

    settings.ALLOWED_HOSTS = ["*"]
    settings.RESULT_VERIFY_RATE = "100000000/minute"  # measure the endpoint, not the throttle


def _pct(samples: list[float], p: float) -> float:
    s = sorted(samples)
    return round(s[min(len(s) - 1, int(len(s) * p))] * 1000, 2)


def _summary(samples: list[float]) -> dict[str, Any]:
    return {
        "n": len(samples),
        "mean_ms": round(statistics.fmean(samples) * 1000, 2),
        "p50_ms": _pct(samples, 0.50),
        "p95_ms": _pct(samples, 0.95),
        "p99_ms": _pct(samples, 0.99),
        "max_ms": round(max(samples) * 1000, 2),
    }


def bench_render_pure(n: int) -> dict[str, Any]:
    from datetime import date

    from licences import pdf

    def data(template: str, i: int) -> pdf.DocumentData:
        return pdf.DocumentData(
            template=template,
            title={
                "licence": "食品经营许可证",
                "certificate": "无犯罪记录证明",
                "approval_notice": "准予行政许可决定书",
            }[template],
            number=f"R520302-20261124-{i:06d}-1",
            case_number=f"520302-20261124-{i:06d}",
            holder_name="贵阳市云岩区某某餐饮管理有限公司",
            holder_id_masked="91520103********12",
            item_name="食品经营许可（新办）",
            item_code="520000-XK-00101-001",
            authority="贵阳市云岩区市场监督管理局",
            province="贵州省",
            jurisdiction="云岩区",
            issued_on=date(2026, 11, 24),
            valid_until=date(2031, 11, 23),
            legal_basis="《中华人民共和国食品安全法》第三十五条",
            qr_text="https://zwfw.example.gov.cn/verify/0123456789abcdef0123456789abcdef/?p=TB1."
            + "A" * 250
            + "."
            + "B" * 86,
            kid="1a2b3c4d",
        )

    started = time.perf_counter()
    first = pdf.render(data("licence", 0))
    first_ms = (time.perf_counter() - started) * 1000
    out: dict[str, Any] = {
        "first_render_ms_including_font_load": round(first_ms, 1),
        "font": first.font_name,
        "font_embedded": first.font_embedded,
        "pdf_bytes": len(first.pdf),
    }
    for template in ("licence", "certificate", "approval_notice"):
        samples = []
        for i in range(n):
            t = time.perf_counter()
            pdf.render(data(template, i))
            samples.append(time.perf_counter() - t)
        out[template] = _summary(samples)
    out["target_ms"] = 60
    return out


def _issue_cases(world: Any, n: int) -> list[Any]:
    from workflows.results import Result

    return [Result.objects.get(case=proxy_lifecycle(world, deliver=False)) for _ in range(n)]


def bench_render_action(results: list[Any]) -> dict[str, Any]:
    from licences.actions import render_result_document

    samples = []
    for r in results:
        t = time.perf_counter()
        render_result_document(result_id=r.pk)
        samples.append(time.perf_counter() - t)
    return _summary(samples)


def bench_verify_api(results: list[Any], requests: int) -> dict[str, Any]:
    from django.test import Client

    from licences.models import ResultDocument

    client = Client()
    docs = list(ResultDocument.objects.filter(result__in=results).values_list("result_id", "qr_payload"))
    out: dict[str, Any] = {}
    for name, with_token in (("by_id", False), ("with_qr_payload", True)):
        samples = []
        for i in range(requests):
            rid, token = docs[i % len(docs)]
            params = {"p": token} if with_token else {}
            t = time.perf_counter()
            response = client.get(f"/api/v1/results/{rid}/verify/", params)
            samples.append(time.perf_counter() - t)
            assert response.status_code == 200 and response.json()["valid"] is True
        out[name] = _summary(samples)
    return out


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--database-url", default="")
    parser.add_argument("--n", type=int, default=200, help="renders per template")
    parser.add_argument("--results", type=int, default=50, help="issued results for the action and API phases")
    parser.add_argument("--requests", type=int, default=1000)
    parser.add_argument(
        "--out", type=Path, default=ROOT / "bench" / "results" / "results.json", help="merged into, per vendor"
    )
    args = parser.parse_args()
    tmp = tempfile.TemporaryDirectory(prefix="bench-results-")
    url = prepare_database(args.database_url or None, tmp.name)
    _setup(url, tmp.name)
    from django.db import connection

    world = bench_world()
    out: dict[str, Any] = {
        "when": datetime.now(UTC).isoformat(timespec="seconds"),
        "machine": {"python": platform.python_version(), "cpus": os.cpu_count(), "platform": platform.platform()},
        "database": connection.vendor,
    }
    out["render_pure"] = bench_render_pure(args.n)
    print("render", json.dumps(out["render_pure"], ensure_ascii=False))
    results = _issue_cases(world, args.results)
    out["render_action"] = bench_render_action(results)
    print("render_action", json.dumps(out["render_action"]))
    out["verify_api"] = bench_verify_api(results, args.requests)
    print("verify_api", json.dumps(out["verify_api"]))
    path = args.out
    existing = json.loads(path.read_text()) if path.exists() else {}
    existing.setdefault(connection.vendor, {}).update(out)  # keep phases not re-run (e.g. the 1M verify)
    path.write_text(json.dumps(existing, ensure_ascii=False, indent=2) + "\n")
    print(f"wrote {path}")


if __name__ == "__main__":
    main()

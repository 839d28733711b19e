"""Outbox throughput: enqueue, send and sweep with the locmem backend.

    .venv/bin/python bench/bench_outbox.py [--n 2000] [--database-url postgres://.../scratch_db]

By default the database is a fresh SQLite file in a temporary directory (the embedded default, WAL).
With --database-url, use a scratch database: the outbox table is created there if missing and the
rows this run writes are deleted at the end. The rate limit is off (SMS_RATE_PER_SECOND=0), so the
numbers are what the outbox itself costs; a real provider is the limit in production.

Phases (each message in its own transaction unless said otherwise):
- eager_enqueue_and_send: the embedded default — enqueue, commit, the task sends inline on commit.
- enqueue_with_broker:     Celery with a (in-memory) broker — enqueue, commit, publish the task id.
- dispatch_sweep:          dispatch_pending over those pending rows, each sent inline (eager).
- one_transaction_batch:   N messages enqueued in ONE transaction (a bulk notice), sent on commit.
- dedupe_repeat:           enqueue again with keys already used (the idempotent path, no send).
Writes bench/results/outbox.json (one entry per database vendor).
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import tempfile
import time
from datetime import UTC, datetime
from typing import Any

from _bootstrap import ROOT, setup_django


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--n", type=int, default=2000, help="messages per phase")
    parser.add_argument("--database-url", default="", help="a scratch database (default: temporary SQLite)")
    args = parser.parse_args()

    tmp = tempfile.TemporaryDirectory(prefix="bench-outbox-")
    # A given database is not reset: only the outbox table is created below when missing.
    url = args.database_url or f"sqlite:///{tmp.name}/bench.sqlite3"
    setup_django(url, settings="config.settings.test", eager=True, migrate=False)

    from django.conf import settings
    from django.db import connection, transaction

    from config.celery import app
    from notifications import backends
    from notifications.actions import dispatch_due, enqueue_sms
    from notifications.models import OutboxMessage

    settings.SMS_RATE_PER_SECOND = 0
    settings.SMS_DISPATCH_GRACE = 0
    settings.SMS_DISPATCH_BATCH = max(500, args.n)

    if OutboxMessage._meta.db_table not in connection.introspection.table_names():
        with connection.schema_editor() as editor:
            editor.create_model(OutboxMessage)
    started = datetime.now(UTC)
    run = started.strftime("%Y%m%d%H%M%S%f")
    n = args.n
    phases: dict[str, dict[str, Any]] = {}

    def record(name: str, count: int, seconds: float, **extra: Any) -> None:
        phases[name] = {"messages": count, "seconds": round(seconds, 4), "per_second": round(count / seconds, 1)}
        phases[name].update(extra)
        print(f"{name:26s} {count:6d} msgs  {seconds:8.3f} s  {count / seconds:10.1f} msg/s")

    def ctx(i: int) -> dict[str, Any]:
        return {"case_number": f"GZ{run}-{i:06d}", "item_name": "食品经营许可", "tracking_number": f"EMS{i:09d}"}

    # 1. Embedded default: each enqueue commits and sends inline.
    backends.outbox.clear()
    t0 = time.perf_counter()
    for i in range(n):
        with transaction.atomic():
            enqueue_sms(to="13800138000", template="case_mailed", context=ctx(i), dedupe_key=f"bench:{run}:a{i}")
    record("eager_enqueue_and_send", n, time.perf_counter() - t0, sent=len(backends.outbox))

    # 2. With a broker: only the write and the publish (nobody consumes the in-memory queue).
    app.conf.task_always_eager = False
    app.conf.broker_url = "memory://"
    t0 = time.perf_counter()
    for i in range(n):
        with transaction.atomic():
            enqueue_sms(to="13800138000", template="case_mailed", context=ctx(i))
    record("enqueue_with_broker", n, time.perf_counter() - t0)

    # 3. The sweep sends those pending rows (eager again: each task runs inline).
    app.conf.task_always_eager = True
    backends.outbox.clear()
    t0 = time.perf_counter()
    report = dispatch_due()
    record("dispatch_sweep", len(report.queued), time.perf_counter() - t0, sent=len(backends.outbox))

    # 4. One transaction, many messages, sent on commit.
    backends.outbox.clear()
    t0 = time.perf_counter()
    with transaction.atomic():
        for i in range(n):
            enqueue_sms(to="13800138000", template="case_mailed", context=ctx(i))
    record("one_transaction_batch", n, time.perf_counter() - t0, sent=len(backends.outbox))

    # 5. Idempotent repeats: the keys of phase 1 again.
    t0 = time.perf_counter()
    for i in range(n):
        with transaction.atomic():
            enqueue_sms(to="13800138000", template="case_mailed", context=ctx(i), dedupe_key=f"bench:{run}:a{i}")
    record("dedupe_repeat", n, time.perf_counter() - t0)

    not_sent = OutboxMessage.objects.filter(created_at__gte=started).exclude(status="sent").count()
    if args.database_url:
        OutboxMessage.objects.filter(created_at__gte=started).delete()
    run_result = {
        "when": started.isoformat(),
        "n": n,
        "sms_backend": "locmem",
        "rate_limit": "off",
        "not_sent_at_end": not_sent,
        "phases": phases,
        "python": platform.python_version(),
        # Other work on the machine skews the numbers: the 1-minute load average at the end says how much.
        "machine": {"cpus": os.cpu_count(), "platform": platform.platform(), "load_average_1m": os.getloadavg()[0]},
    }
    out = ROOT / "bench" / "results" / "outbox.json"
    out.parent.mkdir(parents=True, exist_ok=True)
    # One entry per database vendor, so a SQLite run and a PostgreSQL run sit side by side.
    result: dict[str, Any] = {"benchmark": "outbox", "runs": {}}
    if out.exists():
        try:
            previous = json.loads(out.read_text(encoding="utf-8"))
            if isinstance(previous.get("runs"), dict):
                result["runs"] = previous["runs"]
        except ValueError:
            pass
    result["runs"][connection.vendor] = run_result
    out.write_text(json.dumps(result, ensure_ascii=False, indent=2) + "\n", encoding="utf-8")
    print(f"wrote {out.relative_to(ROOT)}")
    tmp.cleanup()


if __name__ == "__main__":
    main()

"""Ledger speed: append overhead per workflow transition, sealing, and verify_ledger over 10^6 entries.

    .venv/bin/python bench/bench_ledger.py                                   # SQLite: overhead only
    .venv/bin/python bench/bench_ledger.py --database-url postgres://postgres@127.0.0.1:5432/tongban_bench_ledger \
        --entries 1000000

The database named in --database-url is DROPPED and re-created (PostgreSQL); without it a throw-away
SQLite file is used. Phases:

1. overhead: N proxy lifecycles through workflows.actions (receive … hand_over, 10 transitions),
   alternately WITHOUT and WITH the ledger wired at the call site (a CaseEvent post_save hook in
   this script only, which runs in the transition's transaction right after the event row is
   written — exactly where the lead wires ``workflows.ledger_records.record_case_event``). Overhead =
   extra time per transition / time per transition without the ledger (target ≤ 15%).
2. seal: sealing the pending entries into signed 10,000-leaf batches.
3. verify (PostgreSQL, --entries): bulk-load synthetic chains (10 entries per case, interleaved
   like real traffic, hashed exactly as ``append`` does, COPY'd in), seal them into signed batches,
   then time ``verify_ledger()`` — every digest, chain link, Merkle root and signature, streamed
   through a server-side cursor (target ≤ 60 s for 1,000,000 entries).
Writes bench/results/ledger.json (one entry per database vendor).
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import statistics
import tempfile
import time
from datetime import UTC, datetime, timedelta
from typing import Any

from _bootstrap import ROOT, prepare_database, setup_django
from benchworld import bench_world, proxy_lifecycle


def _setup(url: str, tmp: str) -> None:
    # A given RESULT_SIGNING_KEYS_DIR is kept (for --verify-only on an earlier run's database).
    setup_django(url, RESULT_SIGNING_KEYS_DIR=os.environ.get("RESULT_SIGNING_KEYS_DIR", f"{tmp}/keys"))


def _lifecycle(world: Any) -> int:
    return int(proxy_lifecycle(world).last_event_seq)


def bench_overhead(world: Any, rounds: int, per_round: int) -> dict[str, Any]:
    """Median time per transition without and with the ledger, alternating variants per round.

    If workflows already records its events (the lead's wiring), "without" swaps the recording
    functions for no-ops; otherwise "with" wires them here through a CaseEvent post_save hook, which
    runs in the transition's transaction right after the event row, where the call site is.
    """
    from django.db.models.signals import post_save

    from ledger.models import Entry
    from workflows import ledger_records as records
    from workflows.models import CaseEvent

    original = (records.record_case_event, records.record_material)
    original_fused = records.insert_and_append

    def insert_without_ledger(
        *, insert_sql: str, params: Any, guard: Any = None, ref_prefix: str, **_ignored: Any
    ) -> Any:
        # The same event INSERT (and, on PostgreSQL, the same guarding conditional UPDATE in the
        # same statement) with the ledger_append() call left out: what the transition costs
        # without a ledger.
        from django.db import connection

        head, head_params = (f"guard AS ({guard[0]}), ", list(guard[1])) if guard is not None else ("", [])
        sql = f"WITH {head}fact AS ({insert_sql}) SELECT fact.id FROM fact" if head else insert_sql
        with connection.cursor() as cur:
            cur.execute(sql, [*head_params, *params])
            row = cur.fetchone()
        return None if row is None else (row[0], object())

    before = Entry.objects.count()
    _lifecycle(world)
    wired_in_workflows = Entry.objects.count() > before

    def wire(sender: Any, instance: Any, created: bool, **kwargs: Any) -> None:
        if created:
            original[0](instance)

    def variant(with_ledger: bool) -> None:
        if wired_in_workflows:
            if with_ledger:
                records.record_case_event, records.record_material = original
                records.insert_and_append = original_fused  # type: ignore[assignment]
            else:
                records.record_case_event = lambda *a, **k: None  # type: ignore[assignment]
                records.record_material = lambda *a, **k: None  # type: ignore[assignment]
                # Events are written together with their entry (workflows.ledger_records.create_case_event).
                records.insert_and_append = insert_without_ledger  # type: ignore[assignment]
        elif with_ledger:
            post_save.connect(wire, sender=CaseEvent, dispatch_uid="bench-ledger")
        else:
            post_save.disconnect(sender=CaseEvent, dispatch_uid="bench-ledger")

    for wired in (False, True):  # warm up both paths
        variant(wired)
        _lifecycle(world)
    without: list[float] = []
    with_ledger: list[float] = []
    transitions = 0
    entries0 = Entry.objects.count()
    for _ in range(rounds):
        for wired in (False, True):
            variant(wired)
            started = time.perf_counter()
            events = sum(_lifecycle(world) for _ in range(per_round))
            elapsed = time.perf_counter() - started
            (with_ledger if wired else without).append(elapsed / events)
            transitions = events // per_round
    variant(False)
    records.record_case_event, records.record_material = original
    records.insert_and_append = original_fused  # type: ignore[assignment]
    base = statistics.median(without)
    wired_t = statistics.median(with_ledger)
    return {
        "wiring": "workflows call sites" if wired_in_workflows else "post_save hook in this script",
        "lifecycles_per_variant": rounds * per_round,
        "transitions_per_lifecycle": transitions,
        "ms_per_transition_without_ledger": round(base * 1000, 3),
        "ms_per_transition_with_ledger": round(wired_t * 1000, 3),
        "append_ms_per_transition": round((wired_t - base) * 1000, 3),
        "overhead_pct": round((wired_t - base) / base * 100, 1),
        "target_pct": 15,
        "entries_written": Entry.objects.count() - entries0,
    }


def bench_append_micro(n: int) -> dict[str, Any]:
    from django.db import transaction

    from ledger.actions import append

    samples = []
    for i in range(n):
        started = time.perf_counter()
        with transaction.atomic():
            append(subject=f"case:MICRO-{i % 50}", kind="other", payload={"i": i, "transition": "verify", "x": "值"})
        samples.append(time.perf_counter() - started)
    samples.sort()
    return {
        "appends": n,
        "p50_ms": round(samples[n // 2] * 1000, 3),
        "p95_ms": round(samples[int(n * 0.95)] * 1000, 3),
        "note": "one append in its own transaction (commit included); inside a transition it shares the commit",
    }


def bench_seal() -> dict[str, Any]:
    from ledger.actions import seal_pending
    from ledger.models import Entry

    pending = Entry.objects.filter(batch__isnull=True).count()
    started = time.perf_counter()
    batches = seal_pending()
    seconds = time.perf_counter() - started
    return {
        "entries": pending,
        "batches": len(batches),
        "seconds": round(seconds, 3),
        "entries_per_s": round(pending / seconds) if seconds else None,
    }


def load_synthetic(total: int, per_subject: int = 10, batch_size: int = 10_000) -> dict[str, Any]:
    """COPY ``total`` entries (chains of ``per_subject``, interleaved like real traffic) with real
    hashes, sealed into signed batches. Streamed: rows go to COPY as they are generated; one
    transaction, so the deferred foreign keys to the batches are checked at commit."""
    import hashlib

    from django.db import connection, transaction

    from ledger import merkle
    from ledger.actions import statement_for
    from ledger.hashing import GENESIS, canonical_json, entry_hash, timestamp_us
    from ledger.models import Batch, Entry, SubjectHead
    from ledger.signing import sign_statement

    subjects = total // per_subject
    started = time.perf_counter()
    t0 = datetime(2026, 1, 5, 1, 0, tzinfo=UTC)
    heads = [GENESIS] * subjects
    prevs = [GENESIS] * subjects
    batch_rows: list[tuple[Any, ...]] = []
    leaves: list[bytes] = []
    state = {"prev": GENESIS, "first": 1}

    def flush_batch(last_id: int) -> None:
        seq = len(batch_rows) + 1
        root = merkle.root_from_leaf_hashes(leaves).hex()
        at = (t0 + timedelta(hours=seq)).isoformat()
        statement = statement_for(
            seq=seq, size=len(leaves), root=root, prev=state["prev"], first=state["first"], last=last_id, at=at
        )
        kid, signature = sign_statement(statement)
        shash = hashlib.sha256(statement.encode()).hexdigest()
        batch_rows.append(
            (seq, seq, len(leaves), state["first"], last_id, root, state["prev"], statement, shash, kid, signature, at)
        )
        state["prev"] = shash
        state["first"] = last_id + 1
        leaves.clear()

    next_id = 1
    with transaction.atomic(), connection.cursor() as cur:
        raw = cur.cursor
        with raw.copy(
            f"COPY {Entry._meta.db_table} (id, subject, seq, kind, ref, payload, payload_digest, prev_hash, "
            "entry_hash, created_at, batch_id, leaf_index) FROM STDIN"
        ) as copy:
            for seq in range(1, per_subject + 1):
                for s in range(subjects):
                    subject = f"case:520302-20260105-{s:06d}"
                    payload = canonical_json(
                        {
                            "case": subject[5:],
                            "seq": seq,
                            "transition": "verify",
                            "from": "received",
                            "to": "verified",
                            "actor": 7,
                            "actor_label": "遵义收件员",
                            "at": "2026-01-05T01:00:00+00:00",
                            "payload": {"id_checked": True, "originals_sighted": ["id_card"]},
                        }
                    )
                    digest = hashlib.sha256(payload.encode()).hexdigest()
                    created = t0 + timedelta(microseconds=next_id * 37)
                    h = entry_hash(subject, seq, "case_event", digest, heads[s], timestamp_us(created))
                    copy.write_row(
                        (
                            next_id,
                            subject,
                            seq,
                            "case_event",
                            None,
                            payload,
                            digest,
                            heads[s],
                            h,
                            created,
                            len(batch_rows) + 1,
                            len(leaves),
                        )
                    )
                    leaves.append(merkle.leaf_hash(bytes.fromhex(h)))
                    prevs[s] = heads[s]
                    heads[s] = h
                    if len(leaves) == batch_size:
                        flush_batch(next_id)
                    next_id += 1
            if leaves:
                flush_batch(next_id - 1)
        with raw.copy(
            f"COPY {Batch._meta.db_table} (id, seq, size, first_entry_id, last_entry_id, root, prev_hash, statement, "
            "statement_hash, kid, signature, created_at) FROM STDIN"
        ) as copy:
            for r in batch_rows:
                copy.write_row(r)
        with raw.copy(
            f"COPY {SubjectHead._meta.db_table} (subject, seq, prev_hash, head_hash, updated_at) FROM STDIN"
        ) as copy:
            for s in range(subjects):
                copy.write_row((f"case:520302-20260105-{s:06d}", per_subject, prevs[s], heads[s], t0))
        cur.execute(f"SELECT setval(pg_get_serial_sequence('{Entry._meta.db_table}', 'id'), %s)", [next_id])
        cur.execute(f"SELECT setval(pg_get_serial_sequence('{Batch._meta.db_table}', 'id'), %s)", [len(batch_rows) + 1])
    with connection.cursor() as cur:
        cur.execute(f"VACUUM ANALYZE {Entry._meta.db_table}")
    return {
        "entries": next_id - 1,
        "subjects": subjects,
        "batches": len(batch_rows),
        "load_s": round(time.perf_counter() - started, 1),
    }


def bench_verify() -> dict[str, Any]:
    from ledger.verify import verify_ledger

    started = time.perf_counter()
    report = verify_ledger()
    seconds = time.perf_counter() - started
    assert report.ok, report.first.describe() if report.first else "?"
    return {
        "entries": report.entries,
        "batches": report.batches,
        "subjects": report.subjects,
        "seconds": round(seconds, 2),
        "entries_per_s": round(report.entries / seconds),
        "target_s_for_1m": 60,
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--database-url", default="")
    parser.add_argument("--rounds", type=int, default=6)
    parser.add_argument("--per-round", type=int, default=20)
    parser.add_argument("--entries", type=int, default=0, help="synthetic entries for verify (PostgreSQL)")
    parser.add_argument(
        "--verify-only", action="store_true", help="time verify_ledger on the database as it is (no reset, no load)"
    )
    args = parser.parse_args()
    tmp = tempfile.TemporaryDirectory(prefix="bench-ledger-")
    if args.verify_only:
        _setup(args.database_url, tmp.name)
        print("verify", json.dumps(bench_verify()))
        return
    url = prepare_database(args.database_url or None, tmp.name)
    _setup(url, tmp.name)
    from django.db import connection

    out: dict[str, Any] = {
        "when": datetime.now(UTC).isoformat(timespec="seconds"),
        "machine": {"python": platform.python_version(), "cpus": os.cpu_count(), "platform": platform.platform()},
        "database": connection.vendor,
    }
    world = bench_world()
    out["overhead"] = bench_overhead(world, args.rounds, args.per_round)
    print("overhead", json.dumps(out["overhead"], ensure_ascii=False))
    out["append_micro"] = bench_append_micro(2000)
    print("append", json.dumps(out["append_micro"]))
    out["seal"] = bench_seal()
    print("seal", json.dumps(out["seal"]))
    if args.entries and connection.vendor == "postgresql":
        from ledger.models import Batch, Entry, SubjectHead

        Entry.objects.all().delete()
        Batch.objects.all().delete()
        SubjectHead.objects.all().delete()
        out["load"] = load_synthetic(args.entries)
        print("load", json.dumps(out["load"]))
        out["verify"] = bench_verify()
        print("verify", json.dumps(out["verify"]))
    path = ROOT / "bench" / "results" / "ledger.json"
    existing = json.loads(path.read_text()) if path.exists() else {}
    existing.setdefault(connection.vendor, {}).update(out)  # keep phases not re-run (e.g. the 1M verify)
    path.write_text(json.dumps(existing, ensure_ascii=False, indent=2) + "\n")
    print(f"wrote {path}")


if __name__ == "__main__":
    main()

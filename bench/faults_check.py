"""The fault drill's checks, from the database and the SMS stand-in's journal (its own process).

    DATABASE_URL=... .venv/bin/python bench/faults_check.py --record rec.jsonl --journal sms.jsonl

Reads what the replay was answered (bench/replay.py --record) and what the provider took, and
prints one line per violation, naming the object; exit 1 when there is any. Checks:
- every case the API answered 201 exists, its event chain is unbroken (each event starts where the
  previous one ended) and holds every transition the API answered 200, in order; a case the replay
  saw finish is in that state;
- SMS: every row marked sent has its copy at the provider; every copy at the provider belongs to
  exactly one row (a copy no row claims is a message sent twice); no row was given up. Rows still
  pending or failing are "still retrying" (allowed, counted);
- every result has its rendered document;
- no ticket was called twice (the replay's answers, and the window the database holds for it);
- every live board shows the hall's current state (waiting count) at the end.
Prints a JSON summary as its last line.
"""

from __future__ import annotations

import argparse
import itertools
import json
import sys
from collections import Counter, defaultdict
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--record", type=Path, required=True)
    parser.add_argument("--journal", type=Path, required=True)
    parser.add_argument(
        "--files", action="store_true", help="also read back every material and result document from storage"
    )
    args = parser.parse_args()

    import django

    django.setup()
    from halls import queue
    from halls.models import Hall, QueueTicket
    from notifications.models import OutboxMessage
    from workflows.models import Case, CaseEvent
    from workflows.results import Result

    violations: list[str] = []
    records = [json.loads(line) for line in args.record.read_text(encoding="utf-8").splitlines() if line.strip()]
    cases = [r for r in records if r["kind"] == "case"]

    # --- cases -------------------------------------------------------------------------------------
    by_number = {c.number: c for c in Case.objects.filter(number__in=[r["number"] for r in cases])}
    events: dict[int, list[tuple[str, str, str]]] = defaultdict(list)
    for ev in CaseEvent.objects.filter(case__in=list(by_number.values())).order_by("case_id", "seq"):
        events[ev.case_id].append((ev.transition, ev.from_state, ev.to_state))
    for rec in cases:
        case = by_number.get(rec["number"])
        if case is None:
            violations.append(f"case {rec['number']}: answered 201 but not in the database")
            continue
        chain = events[case.pk]
        for prev, nxt in itertools.pairwise(chain):
            if nxt[1] != prev[2]:
                violations.append(f"case {case.number}: event chain broken at {prev} → {nxt}")
        remaining = iter(t for t, _f, _to in chain)
        if not all(any(t == want for t in remaining) for want in rec["answered"]):
            violations.append(
                f"case {case.number}: answered {rec['answered']} but its events are {[t for t, _f, _to in chain]}"
            )
        final = rec["final"]
        if not final.startswith(("stuck", "unfinished")) and case.state != final:
            violations.append(f"case {case.number}: the replay saw it end {final}, the database has {case.state}")

    # --- SMS -------------------------------------------------------------------------------------------
    journal = [json.loads(line) for line in args.journal.read_text(encoding="utf-8").splitlines() if line.strip()]
    sids = {j["sid"]: j for j in journal}
    rows = list(OutboxMessage.objects.values("pk", "to", "template", "status", "provider_message_id", "attempts"))
    retried = sum(1 for r in rows if r["attempts"] > 1)
    claimed = Counter(r["provider_message_id"] for r in rows if r["provider_message_id"])
    status_counts = Counter(r["status"] for r in rows)
    for r in rows:
        if r["status"] == OutboxMessage.Status.SENT and r["provider_message_id"] not in sids:
            violations.append(f"SMS {r['pk']} ({r['template']} → {r['to']}): marked sent, the provider never took it")
        if r["status"] == OutboxMessage.Status.DEAD:
            violations.append(f"SMS {r['pk']} ({r['template']} → {r['to']}): given up after {r['attempts']} attempts")
    for sid, j in sids.items():
        if claimed[sid] == 0:
            same = [str(r["pk"]) for r in rows if r["to"] == j["to"]]
            violations.append(
                f"SMS sent twice or unrecorded: provider message {sid} to {j['to']} «{j['body'][:40]}» belongs to "
                f"no outbox row (rows to that number: {', '.join(same) or 'none'})"
            )
        elif claimed[sid] > 1:
            violations.append(f"SMS provider message {sid} is claimed by {claimed[sid]} rows")

    # --- results ---------------------------------------------------------------------------------------
    missing = list(Result.objects.filter(document__isnull=True).values_list("pk", "case__number"))
    for pk, number in missing:
        violations.append(f"result {pk} of case {number}: never rendered")

    # --- tickets -----------------------------------------------------------------------------------------
    calls = [r for r in records if r["kind"] == "ticket_called"]
    seen: dict[int, int] = {}
    for c in calls:
        if c["ticket"] in seen:
            violations.append(f"ticket {c['ticket']}: called twice (windows {seen[c['ticket']]} and {c['window']})")
        seen[c["ticket"]] = c["window"]
    held = dict(QueueTicket.objects.filter(pk__in=list(seen)).values_list("pk", "window_id"))
    for tid, window in seen.items():
        if held.get(tid) != window:
            violations.append(
                f"ticket {tid}: the replay's window {window} called it, the database says {held.get(tid)}"
            )

    # --- boards --------------------------------------------------------------------------------------
    boards = [r for r in records if r["kind"] == "board"]
    hall_ids = dict(Hall.objects.filter(code__in=[b["hall"] for b in boards]).values_list("code", "pk"))
    for b in boards:
        now = queue.queue_state(hall_ids[b["hall"]])["waiting"]
        if b["connects"] < 1:
            violations.append(f"board {b['hall']}: never connected")
        elif b["waiting"] != now:
            violations.append(
                f"board {b['hall']}: shows {b['waiting']} waiting (as of {b['at']}), the hall has {now} "
                f"({b['connects']} connects, {b['drops']} drops)"
            )

    # --- files (after a restore: the media archive matches the database) -------------------------
    files_checked = 0
    if args.files:
        import hashlib

        from django.core.files.storage import default_storage

        from licences.models import ResultDocument
        from workflows.models import Material

        wanted = [(f"material {m.pk}", m.file.name, m.sha256) for m in Material.objects.exclude(file="")]
        wanted += [(f"result document {d.result_id}", d.storage_name, d.sha256) for d in ResultDocument.objects.all()]
        for label, name, digest in wanted:
            files_checked += 1
            try:
                with default_storage.open(name, "rb") as fh:
                    got = hashlib.sha256(fh.read()).hexdigest()
            except OSError as exc:
                violations.append(f"{label}: file {name} unreadable: {exc}")
                continue
            if got != digest:
                violations.append(f"{label}: file {name} has SHA-256 {got[:12]}…, the database says {digest[:12]}…")

    for v in violations:
        print("VIOLATION", v)
    summary = {
        "cases_checked": len(cases),
        "events_checked": sum(len(v) for v in events.values()),
        "sms_rows": dict(status_counts),
        "sms_provider_copies": len(sids),
        "sms_rows_retried": retried,
        "results": Result.objects.count(),
        "results_unrendered": len(missing),
        "tickets_called": len(calls),
        "boards": len(boards),
        "board_reconnects": sum(max(0, b["connects"] - 1) for b in boards),
        "files_checked": files_checked,
        "violations": len(violations),
    }
    print(json.dumps(summary, ensure_ascii=False))
    sys.exit(1 if violations else 0)


if __name__ == "__main__":
    main()

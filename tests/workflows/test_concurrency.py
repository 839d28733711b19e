"""Concurrency on PostgreSQL: one winner per decision; a stress run keeps every event chain intact.

Run with e.g. DATABASE_URL=postgres://postgres@127.0.0.1:5432/tongban_workflows (skipped on SQLite,
whose single writer cannot show the race). STRESS_SECONDS shortens the 30 s stress run.
"""

from __future__ import annotations

import os
import random
import threading
import time
from collections import Counter
from itertools import pairwise
from typing import Any

import pytest
from django.db import close_old_connections, connection, connections

from workflows import actions
from workflows.actions import CorrectionItem, TransitionConflict
from workflows.models import Case, CaseEvent
from workflows.rules import SYSTEM_ONLY, Actor, available_transitions

pytestmark = [
    pytest.mark.postgres,
    pytest.mark.django_db(transaction=True),
    pytest.mark.skipif(connection.vendor != "postgresql", reason="needs PostgreSQL"),
]


def _in_thread(fn, *args) -> Any:
    try:
        return fn(*args)
    finally:
        connections.close_all()


def test_two_approvers_decide_at_once_exactly_one_wins(wf, drive):
    for _round in range(5):
        case = drive(wf.receive(), "under_review")
        barrier = threading.Barrier(2)
        outcomes: list[str] = []
        lock = threading.Lock()

        def decide(who: str, name: str) -> None:
            def run() -> None:
                c = Case.objects.get(pk=case.pk)  # each approver loaded the case on their own
                barrier.wait()
                try:
                    if name == "approve":
                        actions.approve(case=c, actor=wf.users[who])
                    else:
                        actions.deny(case=c, actor=wf.users[who], reason="不符合条件")
                    result = "won"
                except TransitionConflict as exc:
                    result = f"409:{exc.state}"
                with lock:
                    outcomes.append(result)

            _in_thread(run)

        threads = [
            threading.Thread(target=decide, args=("yy_approver", "approve")),
            threading.Thread(target=decide, args=("yy_approver2", "deny")),
        ]
        for t in threads:
            t.start()
        for t in threads:
            t.join()
        assert sorted(o.split(":")[0] for o in outcomes) == ["409", "won"], outcomes
        decisions = CaseEvent.objects.filter(case_id=case.pk, transition__in=["approve", "deny"])
        assert decisions.count() == 1
        final = Case.objects.get(pk=case.pk)
        assert final.state in ("print_queued", "denied")
        loser_state = next(o for o in outcomes if o.startswith("409")).split(":")[1]
        assert loser_state == final.state
        # The decision's text rides on the guarded UPDATE: only the winner's is written.
        from notifications.models import OutboxMessage

        texts = OutboxMessage.objects.filter(template="case_decided", context__case_number=case.number)
        assert [m.context["decision"].startswith("准予") for m in texts] == [final.state == "print_queued"]


def test_both_sub_cases_decided_at_once_the_parent_follows_once(wf, drive):
    """Two authorities approve their parts of one joint case at the same moment: the parent's row
    lock serializes them, the second sees the first's approval, and the parent takes its chain
    (approve → issue → queue_print) exactly once, with one result per part and its events and
    ledger entries in seq order."""
    from ledger.models import Entry
    from ledger.verify import verify_ledger
    from workflows.results import Result

    for _round in range(4):
        parent = drive(wf.receive(item="joint", mode="joint"), "transferred")
        children = list(parent.children.order_by("number"))
        approvers = ["yy_approver", "yy_health"]
        for child, who in zip(children, approvers, strict=True):
            for name in ("accept", "start_review"):
                getattr(actions, name)(case=Case.objects.get(pk=child.pk), actor=wf.users[who])
        barrier = threading.Barrier(2)
        errors: list[BaseException] = []

        def approve(pk: int, who: str) -> None:
            def run() -> None:
                c = Case.objects.get(pk=pk)
                barrier.wait()
                try:
                    actions.approve(case=c, actor=wf.users[who])
                except BaseException as exc:  # reported below: a thread cannot fail the test itself
                    errors.append(exc)

            _in_thread(run)

        threads = [
            threading.Thread(target=approve, args=(child.pk, who))
            for child, who in zip(children, approvers, strict=True)
        ]
        for t in threads:
            t.start()
        for t in threads:
            t.join()
        assert errors == []
        final = Case.objects.get(pk=parent.pk)
        assert final.state == "print_queued"
        events = list(CaseEvent.objects.filter(case=final).order_by("seq"))
        assert [e.transition for e in events].count("approve") == 1
        assert [e.transition for e in events][-3:] == ["approve", "issue", "queue_print"]
        assert [e.seq for e in events] == list(range(1, final.last_event_seq + 1))
        refs = list(Entry.objects.filter(subject=f"case:{final.number}", kind="case_event").order_by("seq"))
        assert [e.ref for e in refs] == [f"case_event:{e.pk}" for e in events]
        assert Result.objects.filter(case=final).count() == 2
    assert verify_ledger(check_sources=True).ok


PEOPLE = ["zy_clerk", "zy_printer", "yy_approver", "yy_approver2", "citizen"]


def _kwargs(name: str) -> dict[str, Any]:
    return {
        "verify": {"id_checked": True, "originals_sighted": ["id_card"]},
        "request_correction": {"items": [CorrectionItem("form", "请补充")]},
        "resubmit": {"notes": {1: "已补充"}},  # every notice item answered (resubmit refuses otherwise)
        "reject": {"reason": "不予受理"},
        "deny": {"reason": "不符合条件"},
        "suspend": {"reason": "听证"},
        "mail": {"tracking_number": "SF1234567890"},
    }.get(name, {})


@pytest.mark.slow
def test_stress_random_transitions_keep_chains_consistent(wf):
    seconds = float(os.environ.get("STRESS_SECONDS", "30"))
    methods = ["pickup", "mail", "electronic"]
    ids = []
    for i in range(200):
        m = methods[i % 3]
        case = wf.receive(delivery_method=m, delivery_address="遵义市某路1号" if m == "mail" else "")
        wf.upload_required(case)
        ids.append(case.pk)
    users = {k: wf.users[k] for k in PEOPLE}
    successes: list[tuple[int, str]] = []
    conflicts = Counter()
    errors: list[str] = []
    lock = threading.Lock()
    deadline = time.monotonic() + seconds

    def worker(seed: int) -> None:
        rnd = random.Random(seed)
        close_old_connections()
        try:
            while time.monotonic() < deadline:
                pk = rnd.choice(ids)
                case = Case.objects.get(pk=pk)
                options = [
                    (who, name)
                    for who, u in users.items()
                    for name in available_transitions(Actor(u), case)
                    if name not in SYSTEM_ONLY and name != "withdraw"
                ]
                if not options:
                    continue
                who, name = rnd.choice(options)
                try:
                    actions.TRANSITION_ACTIONS[name](case=case, actor=users[who], **_kwargs(name))
                except TransitionConflict:
                    with lock:
                        conflicts[name] += 1
                    continue
                except Exception as exc:  # anything else is a bug
                    with lock:
                        errors.append(f"{name}: {exc!r}")
                    continue
                with lock:
                    successes.append((pk, name))
        finally:
            connections.close_all()

    threads = [threading.Thread(target=worker, args=(i,)) for i in range(8)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert not errors, errors[:5]
    assert len(successes) > 100, (len(successes), conflicts)

    # every case: seq 1..n, each event starts where the previous ended, the last is the case's state
    events_by_case: dict[int, list[CaseEvent]] = {}
    for e in CaseEvent.objects.filter(case_id__in=ids).order_by("case_id", "seq"):
        events_by_case.setdefault(e.case_id, []).append(e)
    states = dict(Case.objects.filter(pk__in=ids).values_list("pk", "state"))
    recorded = Counter(successes)
    for pk in ids:
        events = events_by_case[pk]
        assert [e.seq for e in events] == list(range(1, len(events) + 1))
        for prev, nxt in pairwise(events):
            assert nxt.from_state == prev.to_state, (pk, prev.transition, nxt.transition)
        assert events[-1].to_state == states[pk]
        # no lost update and no phantom: the human-taken transitions in the ledger are exactly the
        # ones the workers saw succeed
        human = Counter((pk, e.transition) for e in events[1:] if e.actor_id is not None)
        assert human == Counter({k: v for k, v in recorded.items() if k[0] == pk}), pk

"""Joint mode: one sub-case per authority; the parent follows its children."""

from __future__ import annotations

import pytest

from workflows import actions
from workflows.models import Case
from workflows.results import Result

pytestmark = pytest.mark.skipif(
    not hasattr(__import__("services.models", fromlist=["Item"]).Item, "co_department_kinds"),
    reason="catalog has no co-deciding department kinds yet",
)


def joint_case(wf, drive) -> tuple[Case, Case, Case]:
    parent = wf.receive(item="joint", mode="joint")
    assert parent.authority is None
    parent = drive(parent, "transferred")
    children = list(parent.children.order_by("number"))
    assert [c.authority for c in children] == [wf.departments["yy_market"], wf.departments["yy_health"]]
    assert [c.number for c in children] == [f"{parent.number}-01", f"{parent.number}-02"]
    assert all(c.state == "transferred" and c.clock_due_at is not None for c in children)
    assert parent.clock_due_at is None  # the parent has no clock of its own
    return parent, children[0], children[1]


def step(case: Case, who, *names: str, **kw) -> Case:
    for name in names:
        case = actions.TRANSITION_ACTIONS[name](case=Case.objects.get(pk=case.pk), actor=who, **kw)
    return case


def test_parent_approved_when_all_children_approved(wf, drive):
    parent, market, health = joint_case(wf, drive)
    step(market, wf.users["yy_approver"], "accept")
    assert Case.objects.get(pk=parent.pk).state == "transferred"  # not all accepted yet
    step(health, wf.users["yy_health"], "accept")
    assert Case.objects.get(pk=parent.pk).state == "accepted"
    step(market, wf.users["yy_approver"], "start_review", "approve")
    assert Case.objects.get(pk=parent.pk).state == "under_review"
    step(health, wf.users["yy_health"], "start_review", "approve")
    parent = Case.objects.get(pk=parent.pk)
    assert parent.state == "print_queued"  # approved → issued → routed to the print queue
    results = Result.objects.filter(case=parent).order_by("number")
    assert [r.issuing_department for r in results] == [wf.departments["yy_market"], wf.departments["yy_health"]]
    follow = list(parent.events.filter(seq__gt=3).values_list("transition", "actor"))
    assert follow == [
        ("accept", None),
        ("start_review", None),
        ("approve", None),
        ("issue", None),
        ("queue_print", None),
    ]
    assert Case.objects.get(pk=market.pk).state == "approved"  # sub-cases rest at their decision


def test_parent_denied_when_any_child_denied(wf, drive):
    parent, market, health = joint_case(wf, drive)
    step(market, wf.users["yy_approver"], "accept", "start_review")
    step(market, wf.users["yy_approver"], "deny", reason="场所面积不足")
    parent = Case.objects.get(pk=parent.pk)
    assert parent.state == "denied" and "场所面积不足" in parent.decision_reason
    assert Case.objects.get(pk=health.pk).state == "transferred"


def test_parent_rejected_when_a_part_is_refused_before_acceptance(wf, drive):
    parent, _market, health = joint_case(wf, drive)
    step(health, wf.users["yy_health"], "reject", reason="不属于受理范围")
    assert Case.objects.get(pk=parent.pk).state == "rejected"


def test_withdrawing_the_parent_withdraws_open_children(wf, drive):
    parent, market, _health = joint_case(wf, drive)
    step(market, wf.users["yy_approver"], "accept")
    actions.withdraw(case=Case.objects.get(pk=parent.pk), actor=wf.users["citizen"])
    assert set(parent.children.values_list("state", flat=True)) == {"withdrawn"}


def test_children_cannot_be_withdrawn_alone_and_parent_refuses_authority_steps(wf, drive):
    parent, market, _health = joint_case(wf, drive)
    with pytest.raises(actions.TransitionConflict):
        actions.withdraw(case=market, actor=wf.users["citizen"])
    with pytest.raises(actions.TransitionForbidden):
        actions.accept(case=parent, actor=wf.users["yy_approver"])


def test_child_correction_goes_back_to_its_authority(wf, drive):
    parent, market, _health = joint_case(wf, drive)
    market = actions.request_correction(
        case=market, actor=wf.users["yy_approver"], items=[actions.CorrectionItem("form", "缺签字")]
    )
    market = actions.resubmit(case=market, actor=wf.users["zy_clerk"], notes={1: "已补签字"})
    assert market.state == "transferred"
    assert Case.objects.get(pk=parent.pk).state == "transferred"


def test_online_joint(wf, drive):
    parent = drive(wf.online(item="joint", mode="joint"), "submitted")
    assert sorted(parent.children.values_list("state", flat=True)) == ["submitted", "submitted"]


@pytest.mark.django_db
def test_sub_cases_are_written_with_their_create_events_and_ledger_entries(wf, drive):
    """The sub-cases, their create events and the events' ledger entries (one statement on
    PostgreSQL): each sub-case's own chain starts at its create event, and the ledger verifies
    against the stored rows."""
    from ledger.models import Entry
    from ledger.verify import verify_ledger
    from workflows.models import CaseEvent

    parent, market, health = joint_case(wf, drive)
    for child, authority in ((market, "520103-market"), (health, "520103-health")):
        events = list(CaseEvent.objects.filter(case=child).order_by("seq"))
        assert [(e.seq, e.transition, e.to_state, e.actor_id) for e in events] == [(1, "create", "transferred", None)]
        assert events[0].payload == {"parent": parent.number, "authority": authority}
        entries = list(Entry.objects.filter(subject=f"case:{child.number}").order_by("seq"))
        assert [(e.seq, e.ref) for e in entries] == [(1, f"case_event:{events[0].pk}")]
        assert child.last_event_seq == 1 and child.parent_id == parent.pk
    report = verify_ledger(check_sources=True)
    assert report.ok, report.as_dict()["first_problem"]


@pytest.mark.django_db
def test_the_parents_follow_up_chain_is_recorded_in_seq_order(wf, drive):
    """A joint parent's follow-up steps (accept → start_review; approve → issue → queue_print) are
    one chain, written in one statement on PostgreSQL: every event has its ledger entry, the
    entries follow the events' seq order, and the ledger verifies against the stored rows."""
    from ledger.models import Entry
    from ledger.verify import verify_ledger
    from notifications.models import OutboxMessage
    from workflows.models import CaseEvent

    parent, market, health = joint_case(wf, drive)
    step(market, wf.users["yy_approver"], "accept", "start_review", "approve")
    step(health, wf.users["yy_health"], "accept", "start_review", "approve")
    parent = Case.objects.get(pk=parent.pk)
    events = list(CaseEvent.objects.filter(case=parent).order_by("seq"))
    assert [e.seq for e in events] == list(range(1, parent.last_event_seq + 1))
    assert [e.pk for e in events] == sorted(e.pk for e in events)  # inserted in seq order
    entries = list(Entry.objects.filter(subject=f"case:{parent.number}", kind="case_event").order_by("seq"))
    assert [e.ref for e in entries] == [f"case_event:{e.pk}" for e in events]
    assert [e.transition for e in events][-5:] == ["accept", "start_review", "approve", "issue", "queue_print"]
    assert Result.objects.filter(case=parent).count() == 2
    decided = OutboxMessage.objects.filter(template="case_decided", context__case_number=parent.number)
    assert decided.count() == 1, list(OutboxMessage.objects.values_list("template", "context"))
    report = verify_ledger(check_sources=True)
    assert report.ok, report.as_dict()["first_problem"]

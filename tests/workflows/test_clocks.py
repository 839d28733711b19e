"""Acceptance and decision clocks, deemed acceptance, suspension, colours and the sweep."""

from __future__ import annotations

import datetime as dt

from django.utils import timezone

from notifications.models import OutboxMessage
from workdays import calendar
from workflows import actions
from workflows.models import Case, CaseEvent
from workflows.sla import mark_colours, sweep


def test_acceptance_clock_is_five_working_days(wf, drive):
    case = drive(wf.receive(), "transferred")
    today = calendar.local_date(case.submitted_at)
    assert calendar.local_date(case.accept_by) == calendar.add_working_days(today, 5)
    assert case.sla_status == "green" and case.clock_due_at == case.accept_by


def test_decision_clock_is_committed_working_days_from_acceptance(wf, drive):
    case = drive(wf.receive(), "accepted")
    start = calendar.local_date(case.accepted_at)
    assert calendar.local_date(case.decide_by) == calendar.add_working_days(start, 10)
    assert calendar.local_date(case.clock_warn_at) == calendar.add_working_days(start, 8)  # 80%


def test_deemed_acceptance_by_the_system(wf, drive):
    case = drive(wf.receive(), "transferred")
    past = timezone.now() - dt.timedelta(minutes=1)
    Case.objects.filter(pk=case.pk).update(accept_by=past, clock_due_at=past)
    report = sweep()
    assert report.deemed_accepted == 1
    case = Case.objects.get(pk=case.pk)
    assert case.state == "accepted" and case.decide_by is not None
    event = case.events.get(transition="accept")
    assert event.actor is None and event.actor_label == "系统" and event.payload == {"deemed": True}
    assert sweep().deemed_accepted == 0  # idempotent


def test_deemed_acceptance_can_be_switched_off_per_item(wf, drive):
    case = drive(wf.receive(item="no_deemed"), "transferred")
    past = timezone.now() - dt.timedelta(minutes=1)
    Case.objects.filter(pk=case.pk).update(accept_by=past, clock_due_at=past)
    report = sweep()
    assert report.deemed_accepted == 0 and report.turned_red == 1
    case = Case.objects.get(pk=case.pk)
    assert case.state == "transferred" and case.sla_status == "red"


def test_deemed_acceptance_is_refused_before_the_deadline(wf, drive):
    import pytest
    from django.core.exceptions import ValidationError

    case = drive(wf.receive(), "transferred")
    with pytest.raises(ValidationError):
        actions.accept(case=case, actor=None, deemed=True)
    assert Case.objects.get(pk=case.pk).state == "transferred"


def test_suspended_time_does_not_count(wf, drive):
    case = drive(wf.receive(), "under_review")
    original_due = case.decide_by
    case = actions.suspend(case=case, actor=wf.users["yy_approver"], reason="专家评审")
    # pretend the suspension started 3 working days ago
    today = timezone.localdate()
    back = today
    while calendar.working_days_between(back, today) < 3:
        back -= dt.timedelta(days=1)
    started = dt.datetime.combine(back, dt.time(10), tzinfo=calendar._tz())
    Case.objects.filter(pk=case.pk).update(suspended_at=started)
    case = Case.objects.get(pk=case.pk)
    paused = calendar.working_days_between(back, today)
    assert paused == 3
    case = actions.resume(case=case, actor=wf.users["yy_approver"])
    assert case.suspended_days == 3
    start = calendar.local_date(case.accepted_at)
    assert calendar.local_date(case.decide_by) == calendar.add_working_days(start, 10 + 3)
    assert case.decide_by > original_due
    assert case.events.get(transition="resume").payload == {"paused_working_days": 3}


def test_suspended_cases_are_not_swept(wf, drive):
    case = drive(wf.receive(), "under_review")
    actions.suspend(case=case, actor=wf.users["yy_approver"], reason="现场核查")
    assert mark_colours(timezone.now() + dt.timedelta(days=365)) == (0, 0)
    assert Case.objects.get(pk=case.pk).sla_status == "green"


def test_colours_and_alerts(wf, drive):
    green = drive(wf.receive(), "under_review")
    yellow = drive(wf.receive(), "under_review")
    red = drive(wf.receive(), "accepted")
    now = timezone.now()
    Case.objects.filter(pk=yellow.pk).update(clock_warn_at=now - dt.timedelta(hours=1))
    Case.objects.filter(pk=red.pk).update(
        clock_warn_at=now - dt.timedelta(days=5),
        clock_due_at=now - dt.timedelta(days=3),
        decide_by=now - dt.timedelta(days=3),
    )
    report = sweep()
    assert (report.turned_red, report.turned_yellow) == (1, 1)
    statuses = dict(Case.objects.filter(pk__in=[green.pk, yellow.pk, red.pk]).values_list("pk", "sla_status"))
    assert statuses == {green.pk: "green", yellow.pk: "yellow", red.pk: "red"}
    # yellow: the authority's approvers (with a phone); red: also the supervisors whose region covers it
    overdue = OutboxMessage.objects.filter(template="case_overdue").values_list("to", flat=True)
    due_soon = OutboxMessage.objects.filter(template="case_due_soon").values_list("to", flat=True)
    assert sorted(due_soon) == ["+8613900000001"]
    assert sorted(overdue) == ["+8613900000001", "+8613900000008", "+8613900000009"]
    # a second sweep changes and sends nothing
    again = sweep()
    assert (again.turned_red, again.turned_yellow, again.alert_messages) == (0, 0, 0)


def test_correction_stops_the_clock_and_resubmission_restarts_it(wf, drive):
    case = drive(wf.receive(), "transferred")
    case = actions.request_correction(
        case=case, actor=wf.users["yy_approver"], items=[actions.CorrectionItem("form", "缺页")]
    )
    assert case.clock_due_at is None and case.sla_status == ""
    case = actions.resubmit(case=case, actor=wf.users["zy_clerk"], notes={1: "已补页"})
    assert case.clock_due_at is not None and case.sla_status == "green"


def test_terminal_cases_have_no_clock(wf, drive):
    case = drive(wf.receive(), "under_review")
    case = actions.deny(case=case, actor=wf.users["yy_approver"], reason="不符合条件")
    assert case.sla_status == "" and case.clock_due_at is None and CaseEvent.objects.filter(case=case).count() == 6

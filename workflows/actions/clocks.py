"""The case's clocks: the acceptance clock (5 working days) and the decision clock."""

from __future__ import annotations

from datetime import datetime

from workdays import calendar
from workflows.models import (
    Case,
    SlaStatus,
)

ACCEPTANCE_DAYS = 5


def _status(now: datetime, warn: datetime | None, due: datetime | None) -> str:
    if due is None:
        return ""
    if now > due:
        return SlaStatus.RED
    if warn is not None and now > warn:
        return SlaStatus.YELLOW
    return SlaStatus.GREEN


CLOCK_FIELDS = ["accept_by", "decide_by", "clock_warn_at", "clock_due_at", "sla_status", "sla_alert_pending"]


def _stop_clock(case: Case) -> None:
    case.clock_warn_at = None
    case.clock_due_at = None
    case.sla_status = ""
    case.sla_alert_pending = False


def _start_acceptance_clock(case: Case, now: datetime) -> None:
    case.submitted_at = now
    case.decide_by = None
    if case.is_joint_parent:
        # A joint parent has no clock of its own: each sub-case runs at its authority.
        case.accept_by = None
        _stop_clock(case)
        return
    case.accept_by = calendar.deadline(now, ACCEPTANCE_DAYS)
    case.clock_warn_at = calendar.deadline(now, calendar.warning_days(ACCEPTANCE_DAYS))
    case.clock_due_at = case.accept_by
    case.sla_status = _status(now, case.clock_warn_at, case.clock_due_at)
    case.sla_alert_pending = False


def _set_decision_clock(case: Case, now: datetime) -> None:
    """decide_by = committed working days after acceptance, pushed out by working days suspended."""
    assert case.accepted_at is not None
    if case.is_joint_parent:
        case.decide_by = None
        _stop_clock(case)
        return
    extra = case.suspended_days
    case.decide_by = calendar.deadline(case.accepted_at, case.committed_days + extra)
    case.clock_warn_at = calendar.deadline(case.accepted_at, calendar.warning_days(case.committed_days) + extra)
    case.clock_due_at = case.decide_by
    status = _status(now, case.clock_warn_at, case.clock_due_at)
    if status != case.sla_status and status != SlaStatus.GREEN:
        case.sla_alert_pending = True
    case.sla_status = status

"""The deadline sweep: a few set-based UPDATEs over indexed clock columns, then alerts.

Every open case stores its running clock's thresholds (``clock_warn_at``, ``clock_due_at``) and
its colour (``sla_status``); the sweep never loads the million open cases, it asks the database
for the few whose threshold passed since the last run:

1. deemed acceptance for cases past their 5 working days (one action each: event + SMS);
2. ``UPDATE ... SET sla_status='red'    WHERE sla_status IN ('green','yellow') AND clock_due_at < now``;
3. ``UPDATE ... SET sla_status='yellow' WHERE sla_status = 'green' AND clock_warn_at < now``;
4. the approvers of each newly yellow/red case's authority (and, for red, the supervisors whose
   region covers it) get a text; the partial index on ``sla_alert_pending`` finds those cases.
"""

from __future__ import annotations

import time
from dataclasses import asdict, dataclass
from datetime import datetime
from typing import Any

from django.db import transaction
from django.db.models import Q
from django.utils import timezone

from accounts.models import Role, User
from accounts.scope import region_prefix
from workdays import calendar
from workflows import notify
from workflows.actions import deem_accept_overdue
from workflows.models import ACCEPTANCE_STATES, Case, SlaStatus


@dataclass
class SweepReport:
    deemed_accepted: int = 0
    turned_red: int = 0
    turned_yellow: int = 0
    alerted_cases: int = 0
    alert_messages: int = 0
    seconds: float = 0.0

    def as_dict(self) -> dict[str, Any]:
        return asdict(self)


def mark_colours(now: datetime) -> tuple[int, int]:
    """Steps 2 and 3: returns (turned_red, turned_yellow)."""
    # Cases whose deemed acceptance is pending are not "late": the system accepts them (step 1).
    deemed_pending = Q(state__in=ACCEPTANCE_STATES, auto_accept=True)
    red = (
        Case.objects.filter(sla_status__in=[SlaStatus.GREEN, SlaStatus.YELLOW], clock_due_at__lt=now)
        .exclude(deemed_pending)
        .update(sla_status=SlaStatus.RED, sla_alert_pending=True)
    )
    yellow = Case.objects.filter(sla_status=SlaStatus.GREEN, clock_warn_at__lt=now).update(
        sla_status=SlaStatus.YELLOW, sla_alert_pending=True
    )
    return red, yellow


def send_alerts(now: datetime, *, batch: int = 2000) -> tuple[int, int]:
    """Step 4 for up to ``batch`` cases: returns (cases, messages)."""
    with transaction.atomic():
        cases = list(
            Case.objects.select_for_update(skip_locked=True, of=("self",))
            .filter(sla_alert_pending=True)
            .select_related("item", "authority")
            .order_by("pk")[:batch]
        )
        if not cases:
            return 0, 0
        departments = {c.authority_id for c in cases if c.authority_id}
        approvers: dict[int, list[User]] = {}
        for u in User.objects.filter(role=Role.APPROVER, is_active=True, department_id__in=departments).exclude(
            phone=""
        ):
            approvers.setdefault(u.department_id or 0, []).append(u)
        supervisors = [
            (region_prefix(str(u.region_id)), u)
            for u in User.objects.filter(role=Role.SUPERVISOR, is_active=True, region__isnull=False).exclude(phone="")
        ]
        messages = 0
        today = calendar.local_date(now)
        for case in cases:
            if case.sla_status not in (SlaStatus.YELLOW, SlaStatus.RED):
                continue
            days_over = 0
            if case.sla_status == SlaStatus.RED and case.clock_due_at is not None:
                days_over = calendar.working_days_between(calendar.local_date(case.clock_due_at), today)
            recipients = list(approvers.get(case.authority_id or 0, []))
            if case.sla_status == SlaStatus.RED:
                region = str(case.jurisdiction_id)
                recipients += [u for prefix, u in supervisors if region.startswith(prefix)]
            for user in recipients:
                notify.staff_alert(case, to=user.phone, status=case.sla_status, days_over=days_over, user_id=user.pk)
                messages += 1
        Case.objects.filter(pk__in=[c.pk for c in cases]).update(sla_alert_pending=False)
    return len(cases), messages


def sweep(*, now: datetime | None = None, alert_batches: int = 10) -> SweepReport:
    """Run the whole sweep once (idempotent: a second run right after changes nothing)."""
    started = time.perf_counter()
    now = now or timezone.now()
    report = SweepReport()
    report.deemed_accepted = deem_accept_overdue(now=now)
    report.turned_red, report.turned_yellow = mark_colours(now)
    for _ in range(alert_batches):
        cases, messages = send_alerts(now)
        report.alerted_cases += cases
        report.alert_messages += messages
        if cases == 0:
            break
    report.seconds = round(time.perf_counter() - started, 4)
    return report

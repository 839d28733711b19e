"""The applicant's milestone texts and the staff's deadline alerts, written to the SMS outbox.

Called inside the action's transaction: the outbox row exists if and only if the event does. The
dedupe key ties each text to one event, so a retried task never texts twice.
"""

from __future__ import annotations

import logging
from collections.abc import Iterable, Mapping
from typing import Any

from django.conf import settings
from django.urls import NoReverseMatch, reverse
from django.utils import timezone

from halls.models import Window
from notifications.actions import enqueue_sms
from notifications.templates_sms import SmsTemplate, all_templates, register
from workflows.models import Case

logger = logging.getLogger(__name__)

# Staff-facing deadline warnings this app needs besides the platform's case_overdue.
DUE_SOON = "case_due_soon"


def register_templates() -> None:
    """Register this app's own templates once (called from WorkflowsConfig.ready)."""
    if DUE_SOON not in {t.name for t in all_templates()}:
        register(
            SmsTemplate(
                DUE_SOON,
                "办件临近时限提醒（工作人员）",
                "办件{case_number}（{item_name}）已用去承诺时限的80%，将于{due}到期，请及时办理。",
            )
        )


def _send(case: Case, template: str, context: Mapping[str, Any], *, to: str | None = None, key: str = "") -> None:
    phone = to if to is not None else case.applicant_phone
    if not phone:
        return  # no number on file: the milestone stays visible on the tracking page
    base = {"case_number": case.number, "item_name": case.item.name}
    try:
        enqueue_sms(
            to=phone,
            template=template,
            context={**base, **context},
            # A milestone text is written in the transaction of its event, which can commit once
            # only (the state check), so it needs no dedupe lookup; staff alerts are keyed.
            dedupe_key=f"case:{case.pk}:{case.last_event_seq}:{template}{key}" if key else None,
        )
    except ValueError:
        # An unusable phone number must not block the transition; the event is the record.
        logger.warning("SMS %s for case %s not queued: invalid number", template, case.number)


def _fmt(moment: Any) -> str:
    return timezone.localtime(moment).strftime("%Y年%m月%d日") if moment else ""


def case_received(case: Case) -> None:
    # Name the public lookup (number + ID, no login) by its address, so the text promises only
    # what works for an applicant without an account.
    try:
        path = reverse("citizen_portal:query-case")
    except NoReverseMatch:
        _send(case, "case_received", {})
        return
    _send(case, "case_received", {"lookup": f"{settings.PUBLIC_BASE_URL.rstrip('/')}{path}"})


def case_needs_correction(case: Case, items: Iterable[Mapping[str, str]]) -> None:
    problems = [f"{i['name']}：{i['reason']}" if i.get("name") else i["reason"] for i in items]
    _send(case, "case_needs_correction", {"problems": problems})


def case_accepted(case: Case) -> None:
    _send(case, "case_accepted", {"decide_by": _fmt(case.decide_by)})


def case_decided(case: Case, decision: str) -> None:
    _send(case, "case_decided", {"decision": decision})


def case_ready_for_pickup(case: Case, window: Window) -> None:
    hall = case.delivery_hall
    _send(case, "case_ready_for_pickup", {"hall_name": hall.name if hall else "", "window": window.number})


def case_mailed(case: Case) -> None:
    _send(case, "case_mailed", {"tracking_number": case.tracking_number})


def staff_alert(case: Case, *, to: str, status: str, days_over: int, user_id: int) -> None:
    """A deadline alert to one staff member (approver or supervisor) about one case."""
    if status == "red":
        _send(case, "case_overdue", {"days_over": max(days_over, 1)}, to=to, key=f":red:{user_id}")
    else:
        _send(case, DUE_SOON, {"due": _fmt(case.clock_due_at)}, to=to, key=f":yellow:{user_id}")

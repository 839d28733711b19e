"""Rectification (整改) of bad ratings: who owns one, opening it, moving it on, the escalation
sweep."""

from __future__ import annotations

import datetime as dt
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from django.core.exceptions import PermissionDenied, ValidationError
from django.db import transaction
from django.db.models import Q
from django.utils.translation import gettext as _
from django_fsm import ConcurrentTransition, TransitionNotAllowed, can_proceed

from accounts.models import Role, User
from halls.models import Hall
from halls.scope import hall_supervisor_of, scope_for
from notifications.actions import enqueue_sms
from ratings.actions._common import RatingConflict, _now, _text, province_escalation_days, rectification_days
from ratings.models import (
    TRANSITION_METHODS,
    UNANSWERED_STATES,
    CallbackResult,
    EscalationLevel,
    Rating,
    Rectification,
    RectificationEvent,
    RectState,
)
from services.models import Department, Mode
from workdays import calendar
from workflows.models import Case

# --- who owns a bad rating ------------------------------------------------------------------------


def department_approver_for(department_id: int | None) -> int | None:
    """The approver who holds the department's post (the first active one, a stable choice)."""
    if department_id is None:
        return None
    return (
        User.objects.filter(department_id=department_id, role=Role.APPROVER, is_active=True)
        .order_by("id")
        .values_list("id", flat=True)
        .first()
    )


def competent_department(case: Case) -> Department | None:
    """The case's competent authority; for a joint parent (no authority of its own) the lead one,
    i.e. the authority of its first sub-case."""
    if case.authority_id is not None:
        return case.authority
    child = case.children.filter(authority__isnull=False).select_related("authority").order_by("pk").first()
    return child.authority if child is not None else None


@dataclass(frozen=True)
class RectificationOwner:
    hall_id: int | None
    department_id: int | None
    assignee_id: int | None
    post: str


def hall_post_name(hall: Hall) -> str:
    return _("%(unit)s 大厅监督岗") % {"unit": hall.name}


def department_post_name(department: Department) -> str:
    return _("%(unit)s 审批岗") % {"unit": department.name}


def rectification_owner(rating: Rating) -> RectificationOwner:
    """Who answers for a bad rating.

    A visit, or a case a hall received: that hall (its hall supervisor). An online case: nobody at
    a hall served the applicant (at most one printed the result), so the competent department that
    decided it owns the rating, through its approver's post. ValidationError when neither exists,
    so that no bad rating is ever left without an owner.
    """
    case = rating.case if rating.case_id is not None else None
    if case is not None and (case.mode == Mode.ONLINE or rating.hall_id is None):
        department = competent_department(case)
        if department is not None:
            return RectificationOwner(
                hall_id=rating.hall_id,
                department_id=department.pk,
                assignee_id=department_approver_for(department.pk),
                post=department_post_name(department),
            )
    if rating.hall_id is not None and rating.hall is not None:
        return RectificationOwner(
            hall_id=rating.hall_id,
            department_id=None,
            assignee_id=hall_supervisor_of(rating.hall_id),
            post=hall_post_name(rating.hall),
        )
    raise ValidationError({"rating": [_("无法确定该评价的责任场所或责任部门。")]})


def rectification_deadline(opened_at: dt.datetime) -> dt.datetime:
    """End of the RECTIFICATION_DAYS-th working day after the opening day (case-clock calendar)."""
    return calendar.deadline(opened_at, rectification_days())


def open_rectification(*, rating: Rating, at: dt.datetime | None = None) -> Rectification:
    """Open the rectification (整改) of a bad rating; called inside the rating's transaction.

    Owned by the rated hall (assigned to its hall supervisor) or, for an online case, by the
    competent department (assigned to its approver), see ``rectification_owner``; the post is
    named even when nobody holds it. Deadline RECTIFICATION_DAYS working days (default 15).
    Side effects: the rectification and its first record.
    """
    now = _now(at)
    deadline = rectification_deadline(now)
    owner = rectification_owner(rating)
    rect = Rectification.objects.create(
        rating=rating,
        assignee_id=owner.assignee_id,
        hall_id=owner.hall_id,
        department_id=owner.department_id,
        responsible_post=owner.post,
        province_code=rating.province_code,
        city_code=rating.city_code,
        county_code=rating.county_code,
        rated_on=rating.rated_on,
        counted=rating.counted,
        opened_at=now,
        deadline=deadline,
        province_escalate_at=calendar.deadline(deadline, province_escalation_days()),
    )
    RectificationEvent.objects.create(
        rectification=rect, kind="open", to_state=rect.state, at=now, payload={"deadline": deadline.isoformat()}
    )
    return rect


# --- rectification transitions --------------------------------------------------------------------


def may_handle_rectification(user: User | None, rect: Rectification) -> bool:
    """Hall supervisors posted at the rated hall; approvers of the owning department; supervisors
    and admins whose region covers it."""
    scope = scope_for(user)
    if scope.user_id is None:
        return False
    if scope.everything:
        return True
    if scope.role == Role.HALL_SUPERVISOR:
        # A hall that only printed an online case's result sees its rectification, but the
        # department owns it.
        return rect.department_id is None and rect.hall_id is not None and rect.hall_id in scope.hall_ids
    if scope.role in (Role.SUPERVISOR, Role.ADMIN):
        return scope.covers_region(rect.county_code)
    if scope.role == Role.APPROVER:
        # The owning department's approvers answer for bad ratings of its online cases.
        return rect.department_id is not None and rect.department_id in scope.department_ids
    return False


def allowed_transitions(user: User | None, rect: Rectification) -> list[str]:
    if not may_handle_rectification(user, rect):
        return []
    return [name for name, method in TRANSITION_METHODS.items() if can_proceed(getattr(rect, method))]


def transition_rectification(
    *,
    rectification: Rectification,
    actor: User,
    name: str,
    body: Mapping[str, Any] | None = None,
    at: dt.datetime | None = None,
) -> Rectification:
    """Move a rectification on: start {measures?}, reply {reply}, record_callback {result, note?},
    close {}, reopen {reason?}.

    PermissionDenied for someone who may not handle it, RatingConflict (409) from a wrong state or
    when another supervisor moved it first, ValidationError for missing text. Side effects: the
    record; ``reply`` texts the answer to the rater (rectification_reply SMS) after commit.
    """
    body = body or {}
    if name not in TRANSITION_METHODS:
        raise ValidationError({"transition": [_("未知的整改操作。")]})
    if not may_handle_rectification(actor, rectification):
        raise PermissionDenied(_("您无权处理该整改。"))
    now = _now(at)
    rect = rectification
    method = getattr(rect, TRANSITION_METHODS[name])
    if not can_proceed(method):
        raise RatingConflict(
            _("整改当前状态为“%(state)s”，不能执行该操作。") % {"state": RectState(rect.state).label},
            state=rect.state,
            allowed=allowed_transitions(actor, rect),
        )
    fields = ["state", "updated_at"]
    payload: dict[str, Any] = {}
    if name == "start":
        measures = (body.get("measures") or "").strip()
        if measures:
            rect.measures = measures
            fields.append("measures")
            payload["measures"] = measures
    elif name == "reply":
        rect.reply = _text(body.get("reply"), "reply", _("请填写给评价人的答复。"), limit=300)
        rect.replied_at = now
        rect.replied_on_time = now <= rect.deadline
        fields += ["reply", "replied_at", "replied_on_time"]
        payload["reply"] = rect.reply
    elif name == "record_callback":
        result = body.get("result") or ""
        if result not in CallbackResult.values:
            raise ValidationError({"result": [_("回访结果须为：满意、不满意或无法联系。")]})
        rect.callback_result = result
        rect.callback_note = (body.get("note") or "").strip()[:2000]
        rect.callback_at = now
        fields += ["callback_result", "callback_note", "callback_at"]
        payload.update(result=result, note=rect.callback_note)
    elif name == "close":
        rect.closed_at = now
        fields.append("closed_at")
    elif name == "reopen":
        payload["reason"] = (body.get("reason") or "").strip()[:2000]
    from_state = rect.state
    try:
        with transaction.atomic():
            method()
            rect.save(update_fields=fields)
            RectificationEvent.objects.create(
                rectification=rect,
                kind=name,
                from_state=from_state,
                to_state=rect.state,
                actor=actor,
                at=now,
                payload=payload,
            )
            if name == "reply":
                _send_reply(rect)
    except ConcurrentTransition:
        rect.refresh_from_db()
        raise RatingConflict(
            _("整改已被他人处理，当前状态为“%(state)s”。") % {"state": RectState(rect.state).label},
            state=rect.state,
            allowed=allowed_transitions(actor, rect),
        ) from None
    except TransitionNotAllowed:
        rect.refresh_from_db()
        raise RatingConflict(_("当前状态不能执行该操作。"), state=rect.state) from None
    except Exception:
        rect.refresh_from_db()
        raise
    return rect


def _send_reply(rect: Rectification) -> None:
    rating = Rating.objects.select_related("case", "ticket").get(pk=rect.rating_id)
    if not rating.contact_phone:
        return  # an anonymous pad rating: nobody to text; the record keeps the reply
    replies = rect.events.filter(kind="reply").count()
    enqueue_sms(
        to=rating.contact_phone,
        template="rectification_reply",
        context={"case_number": rating.subject_label, "reply": rect.reply},
        dedupe_key=f"rectification-reply:{rect.pk}:{replies}",
    )


# --- escalation sweep ------------------------------------------------------------------------------


def escalate_overdue(*, now: dt.datetime | None = None) -> dict[str, int]:
    """Escalate unanswered rectifications past their deadline to the city, and those still
    unanswered ``RECTIFICATION_PROVINCE_ESCALATION_DAYS`` working days later to the province.

    Set-based and idempotent: two conditional UPDATEs (a row moves up at most once per level), plus
    one record per escalated row. Returns {"city": n, "province": m}.
    """
    now = _now(now)
    result = {"city": 0, "province": 0}
    base = Rectification.objects.filter(state__in=list(UNANSWERED_STATES), counted=True)
    steps = (
        ("province", EscalationLevel.PROVINCE, Q(province_escalate_at__lt=now, escalation_level__lt=2)),
        ("city", EscalationLevel.CITY, Q(deadline__lt=now, escalation_level=0)),
    )
    with transaction.atomic():
        for label, level, cond in steps:
            ids = list(base.filter(cond).values_list("pk", flat=True))
            if not ids:
                continue
            moved = base.filter(cond, pk__in=ids).update(escalation_level=level, escalated_at=now)
            RectificationEvent.objects.bulk_create(
                [
                    RectificationEvent(rectification_id=pk, kind=f"escalate_{label}", at=now, payload={"level": level})
                    for pk in ids
                ]
            )
            result[label] = moved
    return result

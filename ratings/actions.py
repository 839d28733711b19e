"""Every write of the ratings app: rating a case or a visit, rectifications, appeals, sweeps.

Each action runs in ONE transaction, checks who acts, keeps the tallies (ratings.tally) in step
with the ratings, writes the rectification's record, and queues SMS through the notifications
outbox in the same transaction (sent after commit). Invalid input raises django ValidationError
(400); a refused state raises ``RatingConflict`` (409 with the current state and what is allowed);
a caller who may see the object but not act raises PermissionDenied (403).

``at`` parameters exist for the demo loader and tests that need a history; requests never pass it.
"""

from __future__ import annotations

import datetime as dt
import hashlib
import secrets
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from django.conf import settings
from django.core import signing
from django.core.exceptions import PermissionDenied, ValidationError
from django.db import IntegrityError, transaction
from django.db.models import F, Q
from django.db.models.functions import Coalesce
from django.utils import timezone
from django.utils.translation import gettext as _
from django_fsm import ConcurrentTransition, TransitionNotAllowed, can_proceed

from accounts.models import STAFF_ROLES, Role, User
from core import errors as domain
from halls.models import Hall, QueueTicket, StaffPost, TicketStatus
from halls.scope import scope_for
from notifications.actions import enqueue_sms
from ratings import tally
from ratings.models import (
    BAD_LEVELS,
    TRANSITION_METHODS,
    UNANSWERED_STATES,
    Appeal,
    AppealState,
    CallbackResult,
    Channel,
    EscalationLevel,
    Invitation,
    PadToken,
    Rating,
    RatingKind,
    Rectification,
    RectificationEvent,
    RectState,
    indicators_for,
)
from services.models import Department, Mode
from workdays import calendar
from workflows.models import Case, CaseEvent, CaseState

# A case can be rated once it reached one of these (一事一评 after the result, or the refusal).
RATEABLE_STATES = (CaseState.DELIVERED, CaseState.DENIED, CaseState.REJECTED)
SMS_LINK_SALT = "ratings.sms-link"
SMS_LINK_MAX_AGE = 60 * 60 * 24 * 30
PAD_TOKEN_TTL = dt.timedelta(minutes=30)
INVITATION_AFTER = dt.timedelta(days=3)
# Cases that finished longer ago than this are not invited any more (keeps the sweep bounded).
INVITATION_LOOKBACK = dt.timedelta(days=30)
MAX_COMMENT = 1000


class RatingConflict(domain.Conflict):
    """Not allowed in the current state, or a duplicate (409, with ``state`` and ``allowed``)."""

    def __init__(self, detail: str, *, state: str, allowed: list[str] | None = None) -> None:
        super().__init__(detail, state=state, allowed=allowed or [])
        self.state = state
        self.allowed = self.extra["allowed"]


def rectification_days() -> int:
    return int(settings.RECTIFICATION_DAYS)


def province_escalation_days() -> int:
    """Working days the city has after the deadline before the province takes over."""
    return int(settings.RECTIFICATION_PROVINCE_ESCALATION_DAYS)


# --- input ---------------------------------------------------------------------------------------


@dataclass(frozen=True)
class RatingInput:
    level: Any
    indicators: Mapping[str, Any] | None = None
    comment: str = ""


def _clean(kind: str, data: RatingInput) -> tuple[int, dict[str, int], str]:
    errors: dict[str, list[str]] = {}
    level = data.level
    if isinstance(level, bool) or not isinstance(level, int | str):
        level = None
    try:
        level = int(level) if level is not None else None
    except (TypeError, ValueError):
        level = None
    if level is None or not 1 <= level <= 5:
        errors["level"] = [_("评价等级须为 1（非常不满意）至 5（非常满意）。")]
    allowed = indicators_for(kind)
    cleaned: dict[str, int] = {}
    raw = data.indicators or {}
    if not isinstance(raw, Mapping):
        errors["indicators"] = [_("分项评价格式不正确。")]
    else:
        for name, value in raw.items():
            if name not in allowed:
                errors.setdefault("indicators", []).append(
                    _("未知的评价指标“%(name)s”，可选：%(names)s。") % {"name": name, "names": "、".join(allowed)}
                )
                continue
            try:
                number = int(value)
            except (TypeError, ValueError):
                number = 0
            if isinstance(value, bool) or not 1 <= number <= 5:
                errors.setdefault("indicators", []).append(_("指标“%(label)s”须为 1 至 5。") % {"label": allowed[name]})
                continue
            cleaned[name] = number
    comment = (data.comment or "").strip()
    if len(comment) > MAX_COMMENT:
        errors["comment"] = [_("评价内容不能超过 %(n)s 字。") % {"n": MAX_COMMENT}]
    if errors:
        raise ValidationError(errors)
    assert level is not None
    # "overall" IS the rating's level (a different overall would make two answers to one question).
    cleaned["overall"] = level
    return level, cleaned, comment


def _codes(adcode: str) -> dict[str, str]:
    return {"province_code": adcode[:2], "city_code": adcode[:4], "county_code": adcode}


def _now(at: dt.datetime | None) -> dt.datetime:
    return at if at is not None else timezone.now()


# --- rating a case (一事一评) -------------------------------------------------------------------


def _case_staff(case: Case) -> int | None:
    """The staff member who served: the receiving clerk, else whoever decided the case."""
    if case.created_by_id is not None and case.created_by is not None and case.created_by.role in STAFF_ROLES:
        return case.created_by_id
    return (
        CaseEvent.objects.filter(case=case, transition__in=["approve", "deny", "reject", "accept"], actor__isnull=False)
        .order_by("-seq")
        .values_list("actor_id", flat=True)
        .first()
    )


def _case_attribution(case: Case) -> dict[str, Any]:
    hall = case.receiving_hall or case.delivery_hall
    window_id = case.receiving_window_id if hall is not None and hall.pk == case.receiving_hall_id else None
    adcode = str(hall.region_id) if hall is not None else str(case.jurisdiction_id)
    return {
        "hall": hall,
        "window_id": window_id,
        "staff_id": _case_staff(case),
        "item_id": case.item_id,
        **_codes(adcode),
    }


def _check_rateable(case: Case) -> None:
    if case.parent_id is not None:
        raise RatingConflict(_("联办子件不单独评价，请对主件评价。"), state=case.state)
    if case.state not in RATEABLE_STATES:
        raise RatingConflict(
            _("办件办结（已送达、不予批准或不予受理）后才能评价，当前状态为“%(state)s”。")
            % {"state": CaseState(case.state).label},
            state=case.state,
        )
    if Rating.objects.filter(case=case).exists():
        raise RatingConflict(_("该办件已评价，每件只能评价一次。"), state=case.state)


def rate_case(
    *,
    case: Case,
    actor: User,
    data: RatingInput,
    channel: str = Channel.ONLINE,
    at: dt.datetime | None = None,
) -> Rating:
    """The applicant rates their finished case (一事一评).

    Refused with PermissionDenied for anyone but the case's applicant, RatingConflict (409) for a
    case not yet finished, a sub-case or a second rating. Side effects: the rating, the tallies,
    and for a bad rating (1 or 2) a rectification assigned to the rated hall's supervisor.
    """
    if actor is None or not actor.is_authenticated or case.applicant_id != actor.pk:
        raise PermissionDenied(_("只有申请人本人可以评价该办件。"))
    return _rate_case(case=case, rater=actor, data=data, channel=channel, at=at)


def _rate_case(*, case: Case, rater: User | None, data: RatingInput, channel: str, at: dt.datetime | None) -> Rating:
    level, indicators, comment = _clean(RatingKind.CASE, data)
    now = _now(at)
    with transaction.atomic():
        # Lock the case row: its state cannot change under us and two tabs cannot both rate.
        locked = Case.objects.select_for_update(of=("self",)).select_related(
            "receiving_hall", "delivery_hall", "created_by"
        )
        case = locked.get(pk=case.pk)
        _check_rateable(case)
        attribution = _case_attribution(case)
        try:
            with transaction.atomic():
                rating = Rating.objects.create(
                    kind=RatingKind.CASE,
                    channel=channel,
                    case=case,
                    rater=rater,
                    contact_phone=case.applicant_phone,
                    level=level,
                    indicators=indicators,
                    comment=comment,
                    rated_at=now,
                    rated_on=calendar.local_date(now),
                    **attribution,
                )
        except IntegrityError:
            raise RatingConflict(_("该办件已评价，每件只能评价一次。"), state=case.state) from None
        _after_rating(rating, now)
    return rating


def sms_link_token(case: Case) -> str:
    """The signed token of the case's SMS reply link (/ratings/sms/<token>/), valid 30 days."""
    return signing.dumps({"c": case.pk}, salt=SMS_LINK_SALT, compress=True)


def case_for_sms_token(token: str) -> Case:
    """The case a link token names; ValidationError for a forged or expired link."""
    try:
        payload = signing.loads(token, salt=SMS_LINK_SALT, max_age=SMS_LINK_MAX_AGE)
    except signing.SignatureExpired:
        raise ValidationError({"token": [_("评价链接已过期。")]}) from None
    except signing.BadSignature:
        raise ValidationError({"token": [_("评价链接无效。")]}) from None
    case = Case.objects.filter(pk=payload.get("c")).first() if isinstance(payload, dict) else None
    if case is None:
        raise ValidationError({"token": [_("评价链接无效。")]})
    return case


def rate_case_by_link(*, token: str, data: RatingInput, session_user: User | None = None) -> Rating:
    """Rate a case from the SMS reply link: the signed token stands for the applicant.

    A logged-in session of someone other than the applicant is refused (PermissionDenied): staff
    cannot rate on a citizen's behalf. Side effects as ``rate_case``; channel sms_link.
    """
    case = case_for_sms_token(token)
    if session_user is not None and session_user.is_authenticated and session_user.pk != case.applicant_id:
        raise PermissionDenied(_("请由申请人本人通过短信链接评价。"))
    return _rate_case(case=case, rater=case.applicant, data=data, channel=Channel.SMS_LINK, at=None)


# --- rating a visit at the window pad (一次一评) ---------------------------------------------------


def _hash(token: str) -> str:
    return hashlib.sha256(token.encode()).hexdigest()


def _may_open_pad(user: User, ticket: QueueTicket) -> bool:
    scope = scope_for(user)
    if scope.everything:
        return True
    return user.role in (Role.WINDOW_CLERK, Role.HALL_SUPERVISOR) and ticket.hall_id in scope.hall_ids


def open_pad(*, ticket: QueueTicket, actor: User, at: dt.datetime | None = None) -> tuple[PadToken, str]:
    """Hand a served visit to the window's citizen-facing rating pad: a one-time token.

    Only staff posted at the ticket's hall (else PermissionDenied); only for a ticket whose service
    is finished (status done) and not yet rated (else RatingConflict). Calling it again replaces
    the previous unused token. Returns the row and the raw token (only its hash is stored).
    """
    if not _may_open_pad(actor, ticket):
        raise PermissionDenied(_("只有本大厅工作人员可以发起窗口评价。"))
    now = _now(at)
    raw = secrets.token_urlsafe(24)
    with transaction.atomic():
        ticket = QueueTicket.objects.select_for_update().get(pk=ticket.pk)
        if ticket.status != TicketStatus.DONE:
            raise RatingConflict(
                _("排队号“%(number)s”尚未办结（当前：%(state)s），办结后才能评价。")
                % {"number": ticket.number, "state": TicketStatus(ticket.status).label},
                state=ticket.status,
            )
        if Rating.objects.filter(ticket=ticket).exists():
            raise RatingConflict(_("该次服务已评价。"), state=ticket.status)
        pad, _created = PadToken.objects.update_or_create(
            ticket=ticket,
            defaults={
                "token_hash": _hash(raw),
                "created_by": actor,
                "created_at": now,
                "expires_at": now + PAD_TOKEN_TTL,
                "used_at": None,
            },
        )
    return pad, raw


def pad_for_token(token: str) -> PadToken | None:
    if not token:
        return None
    return (
        PadToken.objects.select_related("ticket", "ticket__hall", "ticket__window")
        .filter(token_hash=_hash(token))
        .first()
    )


def _refuse_staff_session(session_user: User | None) -> None:
    if (
        session_user is not None
        and session_user.is_authenticated
        and (session_user.role in STAFF_ROLES or session_user.is_staff or session_user.is_superuser)
    ):
        raise PermissionDenied(_("工作人员账号不能代替群众评价，请由办事群众在评价器上操作。"))


def rate_visit(
    *, token: str, data: RatingInput, session_user: User | None = None, at: dt.datetime | None = None
) -> Rating:
    """The citizen rates a served visit on the window pad (一次一评, channel window_pad).

    The one-time token is the only key: unknown → ValidationError; used, expired, or a ticket not
    served → RatingConflict; a staff session submitting it → PermissionDenied (the clerk cannot
    rate for the citizen). Side effects: the rating, tallies, a rectification when bad; the token
    is spent.
    """
    _refuse_staff_session(session_user)
    level, indicators, comment = _clean(RatingKind.VISIT, data)
    now = _now(at)
    with transaction.atomic():
        pad = pad_for_token(token)
        if pad is None:
            raise ValidationError({"token": [_("评价器令牌无效，请工作人员重新发起评价。")]})
        pad = PadToken.objects.select_for_update().get(pk=pad.pk)
        ticket = QueueTicket.objects.select_related("hall", "window").get(pk=pad.ticket_id)
        if pad.used_at is not None or Rating.objects.filter(ticket=ticket).exists():
            raise RatingConflict(_("该次服务已评价。"), state=ticket.status)
        if pad.expires_at < now:
            raise RatingConflict(_("评价器令牌已过期，请工作人员重新发起评价。"), state=ticket.status)
        if ticket.status != TicketStatus.DONE:
            raise RatingConflict(_("该次服务尚未办结，不能评价。"), state=ticket.status)
        appointment_item = ticket.appointment.item_id if hasattr(ticket, "appointment") and ticket.appointment else None
        try:
            with transaction.atomic():
                rating = Rating.objects.create(
                    kind=RatingKind.VISIT,
                    channel=Channel.WINDOW_PAD,
                    ticket=ticket,
                    rater=ticket.applicant,
                    contact_phone=ticket.phone,
                    level=level,
                    indicators=indicators,
                    comment=comment,
                    hall=ticket.hall,
                    window_id=ticket.window_id,
                    staff_id=ticket.called_by_id,
                    item_id=appointment_item,
                    rated_at=now,
                    rated_on=calendar.local_date(now),
                    **_codes(str(ticket.hall.region_id)),
                )
        except IntegrityError:
            raise RatingConflict(_("该次服务已评价。"), state=ticket.status) from None
        pad.used_at = now
        pad.save(update_fields=["used_at"])
        _after_rating(rating, now)
    return rating


# --- after a rating: tallies and rectification ----------------------------------------------------


def _after_rating(rating: Rating, now: dt.datetime) -> None:
    tally.apply(rating, +1)
    if rating.level in BAD_LEVELS:
        open_rectification(rating=rating, at=now)


def hall_supervisor_for(hall_id: int | None) -> int | None:
    if hall_id is None:
        return None
    return (
        StaffPost.objects.filter(hall_id=hall_id, is_active=True, user__role=Role.HALL_SUPERVISOR, user__is_active=True)
        .order_by("id")
        .values_list("user_id", flat=True)
        .first()
    )


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
            assignee_id=hall_supervisor_for(rating.hall_id),
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


def _text(value: str | None, field: str, message: str, *, limit: int = 2000) -> str:
    text = (value or "").strip()
    if not text:
        raise ValidationError({field: [message]})
    if len(text) > limit:
        raise ValidationError({field: [_("内容不能超过 %(n)s 字。") % {"n": limit}]})
    return text


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


# --- appeals ---------------------------------------------------------------------------------------


def _may_appeal(user: User, rating: Rating) -> bool:
    if user.pk is not None and rating.staff_id == user.pk:
        return True
    scope = scope_for(user)
    if scope.everything:
        return True
    return (
        user.role in (Role.WINDOW_CLERK, Role.HALL_SUPERVISOR)
        and rating.hall_id is not None
        and rating.hall_id in scope.hall_ids
    )


def file_appeal(*, rating: Rating, actor: User, reason: str, at: dt.datetime | None = None) -> Appeal:
    """Staff appeal a rating as malicious (恶意评价). PermissionDenied unless the rated staff member
    or staff posted at the rated hall; RatingConflict when it is already out of the statistics or
    an appeal is pending. Side effects: the appeal row (the rating stays counted until upheld)."""
    if not _may_appeal(actor, rating):
        raise PermissionDenied(_("只有被评价的工作人员或该大厅工作人员可以申诉。"))
    text = _text(reason, "reason", _("请填写申诉理由。"))
    now = _now(at)
    with transaction.atomic():
        rating = Rating.objects.select_for_update().get(pk=rating.pk)
        if not rating.counted:
            raise RatingConflict(_("该评价已因申诉成立不计入统计。"), state="excluded")
        try:
            with transaction.atomic():
                return Appeal.objects.create(rating=rating, reason=text, filed_by=actor, filed_at=now)
        except IntegrityError:
            raise RatingConflict(_("该评价已有待审核的申诉。"), state=AppealState.PENDING) from None


def may_decide_appeal(user: User | None, rating: Rating) -> bool:
    # Supervisors above the hall decide: a hall's own people never judge appeals about that hall.
    scope = scope_for(user)
    if scope.everything:
        return True
    return scope.role in (Role.SUPERVISOR, Role.ADMIN) and scope.covers_region(rating.county_code)


def decide_appeal(
    *, appeal: Appeal, actor: User, uphold: bool, note: str = "", at: dt.datetime | None = None
) -> Appeal:
    """Uphold or dismiss a pending appeal. Upheld: the rating leaves the statistics (tallies −1,
    its rectification no longer counts) but stays on record. PermissionDenied for anyone but a
    supervisor in scope; RatingConflict when already decided."""
    if not may_decide_appeal(actor, appeal.rating):
        raise PermissionDenied(_("只有上级监督人员可以审核申诉。"))
    now = _now(at)
    with transaction.atomic():
        appeal = Appeal.objects.select_for_update(of=("self",)).select_related("rating").get(pk=appeal.pk)
        if appeal.state != AppealState.PENDING:
            raise RatingConflict(_("该申诉已审核。"), state=appeal.state)
        appeal.state = AppealState.UPHELD if uphold else AppealState.DISMISSED
        appeal.decided_by = actor
        appeal.decided_at = now
        appeal.decision_note = (note or "").strip()[:2000]
        appeal.save(update_fields=["state", "decided_by", "decided_at", "decision_note"])
        if uphold:
            rating = Rating.objects.select_for_update().get(pk=appeal.rating_id)
            if rating.counted:
                Rating.objects.filter(pk=rating.pk).update(counted=False)
                tally.apply(rating, -1)
                rect = Rectification.objects.filter(rating=rating).first()
                if rect is not None:
                    Rectification.objects.filter(pk=rect.pk).update(counted=False)
                    RectificationEvent.objects.create(
                        rectification=rect,
                        kind="appeal_upheld",
                        from_state=rect.state,
                        to_state=rect.state,
                        actor=actor,
                        at=now,
                        payload={"appeal": appeal.pk},
                    )
    return appeal


# --- invitation sweep ------------------------------------------------------------------------------


def send_invitations(*, now: dt.datetime | None = None, limit: int = 5000) -> int:
    """Text one rating invitation to the applicant of every case that finished more than 3 days
    ago (and less than 30) and is still unrated. Set-based and idempotent: the Invitation row is
    unique per case and the SMS is enqueued with dedupe_key ``rating-invitation:<case id>``.
    Returns how many invitations were written."""
    now = _now(now)
    finished = Coalesce(F("delivered_at"), F("decided_at"))
    candidates = (
        Case.objects.annotate(finished_at=finished)
        .filter(
            state__in=list(RATEABLE_STATES),
            parent__isnull=True,
            finished_at__lte=now - INVITATION_AFTER,
            finished_at__gte=now - INVITATION_LOOKBACK,
        )
        .exclude(applicant_phone="")
        .filter(rating__isnull=True, rating_invitation__isnull=True)
        .select_related("item")
        .order_by("pk")[:limit]
    )
    sent = 0
    with transaction.atomic():
        rows = list(candidates)
        Invitation.objects.bulk_create([Invitation(case=case, sent_at=now) for case in rows], ignore_conflicts=True)
        for case in rows:
            try:
                enqueue_sms(
                    to=case.applicant_phone,
                    template="rating_invitation",
                    context={
                        "case_number": case.number,
                        "item_name": case.item.name,
                        # The signed link lets the applicant rate from the SMS (channel sms_link).
                        "link": f"{settings.PUBLIC_BASE_URL.rstrip('/')}/ratings/sms/{sms_link_token(case)}/",
                    },
                    dedupe_key=f"rating-invitation:{case.pk}",
                )
            except ValueError:
                continue  # an unusable phone number: the Invitation row stops retrying it forever
            sent += 1
    return sent

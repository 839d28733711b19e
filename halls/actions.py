"""Every write of the live side: tickets, calls, appointments, coverage snapshots.

Each action is keyword-only, runs in one transaction, checks the acting user, and schedules its
side effects (board broadcast, SMS) with `transaction.on_commit`.

Concurrency: `call_next` claims a ticket with SELECT … FOR UPDATE SKIP LOCKED on PostgreSQL (two
windows never wait on, nor get, the same row) and, on every backend, with a conditional UPDATE
(… WHERE status = 'waiting') whose row count decides who won. SQLite runs our transactions as
BEGIN IMMEDIATE (see settings), so writers are serialised there.
"""

from __future__ import annotations

import datetime as dt
import logging
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from functools import partial
from typing import Any

from django.conf import settings
from django.core.exceptions import PermissionDenied, ValidationError
from django.db import IntegrityError, connection, transaction
from django.db.models import F, Q
from django.http import Http404
from django.utils import timezone
from django.utils.translation import gettext as _

from accounts.models import Role, User
from core.errors import Conflict
from core.phones import normalize_phone
from halls import queue
from halls.models import (
    TICKET_TRANSITIONS,
    Appointment,
    AppointmentSlot,
    AppointmentStatus,
    CountyCoverage,
    Hall,
    HallType,
    QueueTicket,
    TicketCounter,
    TicketPriority,
    TicketStatus,
    Window,
    allowed_ticket_transitions,
)
from halls.scope import active_posts, posted_at, scope_for
from workdays import calendar

logger = logging.getLogger(__name__)

# The SMS goes out when this many tickets remain ahead.
NEAR_AHEAD = 3


# --- who may act ------------------------------------------------------------------------------------


def _is_global_staff(user: User) -> bool:
    return scope_for(user).everything


def is_posted_at_hall(user: User | None, hall_id: int) -> bool:
    """A clerk or hall supervisor with an active post at the hall (or province-wide staff). Asks
    the request's one answer to "where is this user posted" (halls.scope.active_posts)."""
    if user is None or not user.is_authenticated or not user.is_active:
        return False
    if _is_global_staff(user):
        return True
    if user.role not in (Role.WINDOW_CLERK, Role.HALL_SUPERVISOR):
        return False
    return posted_at(user, hall_id)


def can_operate_window(user: User | None, window: Window) -> bool:
    """A clerk posted at this window, or at the hall without a fixed window, or a hall supervisor."""
    if user is None or not user.is_authenticated or not user.is_active:
        return False
    if _is_global_staff(user):
        return True
    posts = [p for p in active_posts(user) if p.hall_id == window.hall_id]
    if user.role == Role.HALL_SUPERVISOR:
        return bool(posts)
    if user.role == Role.WINDOW_CLERK:
        return any(p.window_id in (window.pk, None) for p in posts)
    return False


# --- tickets ---------------------------------------------------------------------------------------


def _normalize_phone(phone: str) -> str:
    if not phone:
        return ""
    try:
        return normalize_phone(phone)
    except ValueError:
        raise ValidationError({"phone": [_("手机号码格式不正确。")]}) from None


def _next_seq(hall: Hall, day: dt.date, category: str) -> int:
    # The counter row serialises numbering per queue: the UPDATE takes its row lock (PostgreSQL) and
    # SQLite's IMMEDIATE transaction holds the write lock, so no two tickets share a number.
    counter, _created = TicketCounter.objects.get_or_create(hall=hall, service_date=day, category=category)
    TicketCounter.objects.filter(pk=counter.pk).update(last=F("last") + 1)
    return TicketCounter.objects.values_list("last", flat=True).get(pk=counter.pk)


def _validate_category(hall: Hall, category: str) -> str:
    category = (category or "").strip().upper()
    codes = [c["code"] for c in queue.hall_categories(hall)]
    if category not in codes:
        raise ValidationError(
            {"category": [_("该场所没有此排队类别，可选：%(codes)s。") % {"codes": "、".join(codes)}]}
        )
    return category


@dataclass(frozen=True)
class IssuedTicket:
    ticket: QueueTicket
    position: int
    estimated_wait_s: int


def issue_ticket(
    *,
    hall: Hall,
    category: str,
    actor: User | None,
    priority: int = TicketPriority.NORMAL,
    phone: str = "",
    _appointment: Appointment | None = None,
) -> IssuedTicket:
    """Hand out the next number of `category` at `hall` today.

    Priority 帮办代办 (elderly, disabled) is granted only by staff posted at the hall; the
    appointment priority only through `check_in_appointment`. Side effects: the hall's board is
    broadcast after commit.
    """
    if not queue.hall_takes_tickets(hall):
        raise ValidationError({"hall": [_("该场所不提供排队取号。")]})
    category = _validate_category(hall, category)
    try:
        priority = TicketPriority(int(priority))
    except (TypeError, ValueError):
        raise ValidationError({"priority": [_("优先级无效。")]}) from None
    if priority == TicketPriority.ASSISTED and not is_posted_at_hall(actor, hall.pk):
        raise PermissionDenied(_("帮办代办优先号须由本场所工作人员发放。"))
    if priority == TicketPriority.APPOINTMENT and _appointment is None:
        raise ValidationError({"priority": [_("预约优先号须通过预约签到获取。")]})
    phone = _normalize_phone(phone)
    applicant = actor if actor is not None and actor.is_authenticated and actor.role == Role.CITIZEN else None
    if not phone and applicant is not None and applicant.phone:
        phone = applicant.phone
    day = queue.service_day()
    with transaction.atomic():
        seq = _next_seq(hall, day, category)
        ticket = QueueTicket.objects.create(
            hall=hall,
            service_date=day,
            category=category,
            seq=seq,
            number=queue.format_number(category, seq),
            priority=priority,
            phone=phone,
            applicant=applicant,
            issued_by=actor if actor is not None and actor.is_authenticated else None,
        )
        ahead = queue.waiting_ahead(ticket)
        if ahead <= NEAR_AHEAD and not ticket.near_notified:
            # Already near the front: the "three ahead" reminder would only confuse.
            QueueTicket.objects.filter(pk=ticket.pk).update(near_notified=True)
            ticket.near_notified = True
        transaction.on_commit(partial(queue.broadcast_queue, hall.pk))
    return IssuedTicket(
        ticket=ticket, position=ahead + 1, estimated_wait_s=queue.estimate_wait_seconds(hall.pk, category, ahead)
    )


def _notify_near_front(hall: Hall, category: str) -> None:
    """Queue the "three ahead of you" SMS for tickets that just moved to the front of the line.

    Runs inside the caller's transaction: the outbox row commits with the call, or not at all.
    """
    head = list(
        QueueTicket.objects.filter(
            hall_id=hall.pk, service_date=queue.service_day(), category=category, status=TicketStatus.WAITING
        )
        .order_by(*queue.QUEUE_ORDER)
        .values("pk", "number", "phone", "near_notified")[: NEAR_AHEAD + 1]
    )
    due = [(ahead, row) for ahead, row in enumerate(head) if not row["near_notified"]]
    if not due:
        return
    # Lock only rows nobody else holds: a ticket another window is claiming right now is skipped
    # (it is being called, not waiting), and two callers never wait on each other's rows.
    candidates = QueueTicket.objects.filter(
        pk__in=[row["pk"] for _a, row in due], near_notified=False, status=TicketStatus.WAITING
    )
    if connection.features.has_select_for_update_skip_locked:
        candidates = candidates.select_for_update(skip_locked=True)
    mine = set(candidates.values_list("pk", flat=True))
    due = [(ahead, row) for ahead, row in due if row["pk"] in mine]
    if not due:
        return
    QueueTicket.objects.filter(pk__in=mine).update(near_notified=True)
    for ahead, row in due:
        if not row["phone"]:
            continue
        _enqueue_sms(
            to=row["phone"],
            template="queue_near",
            context={"hall_name": hall.name, "ticket_number": row["number"], "ahead": ahead},
            dedupe_key=f"queue_near:{row['pk']}",
        )


def _enqueue_sms(**kwargs: Any) -> None:
    try:
        from notifications.actions import enqueue_sms
    except ImportError:
        logger.warning("notifications.actions.enqueue_sms unavailable; SMS %s not queued", kwargs.get("dedupe_key"))
        return
    enqueue_sms(**kwargs)


def call_next(*, window: Window, actor: User, categories: Sequence[str] | None = None) -> QueueTicket | None:
    """Call the head of the hall's queue to `window`; None when nobody waits.

    Safe with several windows calling at once: a ticket is claimed by exactly one caller. Side
    effects: the "three ahead" SMS is queued in the same transaction for tickets that reached the
    front; the board is broadcast after commit.
    """
    if not can_operate_window(actor, window):
        raise PermissionDenied(_("您不在该窗口的岗位上。"))
    hall = window.hall
    wanted = [c.strip().upper() for c in categories or [] if c and c.strip()]
    if not wanted:
        # A window calls the queues its kinds serve (an issuing window calls 出件领证 tickets only);
        # a window with no kind at all calls every queue of the hall.
        wanted = queue.window_categories(window)
    day = queue.service_day()
    skip_locked = connection.features.has_select_for_update_skip_locked
    # Each attempt either claims a row or proves the queue empty; a lost race (the conditional
    # UPDATE matched nothing) retries with the next head.
    for _attempt in range(20):
        with transaction.atomic():
            pending = QueueTicket.objects.filter(hall_id=hall.pk, service_date=day, status=TicketStatus.WAITING)
            if wanted:
                pending = pending.filter(category__in=wanted)
            pending = pending.order_by(*queue.QUEUE_ORDER)
            if skip_locked:
                pending = pending.select_for_update(skip_locked=True)
            head = pending.only("pk", "category").first()
            if head is None:
                return None
            now = timezone.now()
            claimed = QueueTicket.objects.filter(pk=head.pk, status=TicketStatus.WAITING).update(
                status=TicketStatus.CALLED, window=window, called_by=actor, called_at=now
            )
            if claimed != 1:
                continue
            ticket = QueueTicket.objects.select_related("window", "hall").get(pk=head.pk)
            _notify_near_front(hall, ticket.category)
            transaction.on_commit(partial(queue.broadcast_queue, hall.pk))
            return ticket
    raise Conflict(_("叫号繁忙，请重试。"), state="busy", allowed=["call_next"])


def _ticket_for_staff(ticket_id: int, actor: User) -> QueueTicket:
    ticket = QueueTicket.objects.select_related("hall", "window").filter(pk=ticket_id).first()
    if ticket is None or not is_posted_at_hall(actor, ticket.hall_id):
        raise Http404
    return ticket


def transition_ticket(*, ticket_id: int, transition: str, actor: User, category: str = "") -> QueueTicket:
    """Move a called ticket on: start, finish, no_show, transfer (to another queue) or recall.

    `transfer` issues a new ticket in `category` that keeps the original priority and arrival time,
    so the applicant does not go to the back of the line. Refused transitions raise 409 naming the
    current state and the allowed transitions. Side effects: board broadcast after commit.
    """
    if transition not in TICKET_TRANSITIONS:
        raise Http404
    ticket = _ticket_for_staff(ticket_id, actor)
    sources, target = TICKET_TRANSITIONS[transition]
    target_category = ""
    if transition == "transfer":
        target_category = _validate_category(ticket.hall, category)
        if target_category == ticket.category:
            raise ValidationError({"category": [_("转移目标不能是原排队类别。")]})
    now = timezone.now()
    changes: dict[str, Any] = {"status": target}
    if transition == "start":
        changes["serving_at"] = now
    elif transition in ("finish", "no_show", "transfer"):
        changes["finished_at"] = now
    elif transition == "recall":
        # A late arrival re-joins the line where they were, not at the back.
        changes.update(window=None, called_at=None, called_by=None, finished_at=None)
    with transaction.atomic():
        moved = QueueTicket.objects.filter(pk=ticket.pk, status__in=list(sources)).update(**changes)
        if moved != 1:
            current = QueueTicket.objects.values_list("status", flat=True).get(pk=ticket.pk)
            raise Conflict(
                _("排队号当前状态不允许此操作。"), state=current, allowed=allowed_ticket_transitions(current)
            )
        if transition == "transfer":
            seq = _next_seq(ticket.hall, ticket.service_date, target_category)
            moved_to = QueueTicket.objects.create(
                hall=ticket.hall,
                service_date=ticket.service_date,
                category=target_category,
                seq=seq,
                number=queue.format_number(target_category, seq),
                priority=ticket.priority,
                phone=ticket.phone,
                applicant=ticket.applicant,
                issued_by=actor,
            )
            # auto_now_add ignores a value given to create(); keep the original arrival explicitly.
            QueueTicket.objects.filter(pk=moved_to.pk).update(issued_at=ticket.issued_at)
            QueueTicket.objects.filter(pk=ticket.pk).update(transferred_to=moved_to)
        transaction.on_commit(partial(queue.broadcast_queue, ticket.hall_id))
    ticket.refresh_from_db()
    return ticket


# --- appointments ----------------------------------------------------------------------------------

# Bookable periods of a working day (local time). Halls differ; this is the default template.
DEFAULT_SLOT_PERIODS: tuple[tuple[dt.time, dt.time], ...] = (
    (dt.time(9, 0), dt.time(10, 0)),
    (dt.time(10, 0), dt.time(11, 0)),
    (dt.time(11, 0), dt.time(12, 0)),
    (dt.time(14, 0), dt.time(15, 0)),
    (dt.time(15, 0), dt.time(16, 0)),
    (dt.time(16, 0), dt.time(17, 0)),
)


def booking_horizon_days() -> int:
    return int(settings.APPOINTMENT_HORIZON_DAYS)


def slot_capacity(hall: Hall) -> int:
    """People per hour and queue: two per window, at least two (a one-window station still books)."""
    per_window = int(settings.APPOINTMENT_CAPACITY_PER_WINDOW)
    return max(2, per_window * hall.windows.count())


def ensure_slots(*, hall: Hall, day: dt.date) -> list[AppointmentSlot]:
    """Open the day's slots at `hall` from the default template (idempotent); returns them.

    Nothing is opened for kiosks, closed days, the past or beyond the booking horizon.
    """
    today = queue.service_day()
    existing = list(AppointmentSlot.objects.filter(hall=hall, date=day).order_by("start", "category"))
    if existing:
        return existing
    if (
        not queue.hall_takes_tickets(hall)
        or hall.type == HallType.KIOSK
        or day < today
        or day > today + dt.timedelta(days=booking_horizon_days())
        # The same calendar as the case clocks: an admin-declared holiday opens no slots.
        or not calendar.is_workday(day)
    ):
        return []
    capacity = slot_capacity(hall)
    rows = [
        AppointmentSlot(hall=hall, date=day, start=start, end=end, category=cat["code"], capacity=capacity)
        for start, end in DEFAULT_SLOT_PERIODS
        for cat in queue.hall_categories(hall)
    ]
    with transaction.atomic():
        AppointmentSlot.objects.bulk_create(rows, ignore_conflicts=True)
    return list(AppointmentSlot.objects.filter(hall=hall, date=day).order_by("start", "category"))


class SlotFull(Conflict):
    """409: the slot has no capacity left (the API adds nearby halls with free slots)."""

    def __init__(self, slot: AppointmentSlot) -> None:
        super().__init__(_("该时段已约满。"), state="full", allowed=[])
        self.slot = slot


def no_show_count(user: User, *, days: int = 90) -> int:
    since = queue.service_day() - dt.timedelta(days=days)
    return Appointment.objects.filter(applicant=user, status=AppointmentStatus.NO_SHOW, date__gte=since).count()


def book_appointment(*, slot: AppointmentSlot, actor: User, phone: str = "", item_id: int | None = None) -> Appointment:
    """Book one place in `slot` for the acting citizen.

    Refused: slots in the past (400), a second live booking at the same hall that day (409), more
    no-shows than allowed in the last 90 days (403), a full slot (SlotFull, 409). The capacity check
    is one conditional UPDATE (booked < capacity), so concurrent bookings never overfill a slot.
    """
    if actor is None or not actor.is_authenticated:
        raise PermissionDenied(_("请先登录。"))
    slot_start = timezone.make_aware(dt.datetime.combine(slot.date, slot.start))
    if slot_start <= timezone.now():
        raise ValidationError({"slot": [_("只能预约尚未开始的时段。")]})
    limit = int(settings.APPOINTMENT_NO_SHOW_LIMIT)
    if no_show_count(actor) >= limit:
        raise PermissionDenied(_("近90天爽约次数过多，暂停网上预约，请现场取号。"))
    phone = _normalize_phone(phone) or actor.phone
    with transaction.atomic():
        if Appointment.objects.filter(
            applicant=actor,
            hall_id=slot.hall_id,
            date=slot.date,
            status__in=[AppointmentStatus.BOOKED, AppointmentStatus.CHECKED_IN],
        ).exists():
            raise Conflict(_("您当天在该场所已有预约。"), state="booked", allowed=["cancel"])
        taken = AppointmentSlot.objects.filter(pk=slot.pk, booked__lt=F("capacity")).update(booked=F("booked") + 1)
        if taken != 1:
            raise SlotFull(slot)
        try:
            with transaction.atomic():
                appointment = Appointment.objects.create(
                    slot=slot,
                    hall_id=slot.hall_id,
                    date=slot.date,
                    category=slot.category,
                    applicant=actor,
                    phone=phone,
                    item_id=item_id,
                )
        except IntegrityError:
            # The partial unique constraint caught a concurrent second booking by the same person.
            raise Conflict(_("您当天在该场所已有预约。"), state="booked", allowed=["cancel"]) from None
    return appointment


def _appointment_for(appointment_id: int, actor: User) -> Appointment:
    appointment = Appointment.objects.select_related("slot", "hall").filter(pk=appointment_id).first()
    if appointment is None:
        raise Http404
    if appointment.applicant_id != getattr(actor, "pk", None) and not is_posted_at_hall(actor, appointment.hall_id):
        raise Http404
    return appointment


def cancel_appointment(*, appointment_id: int, actor: User) -> Appointment:
    """Cancel a booking (the applicant, or staff at the hall) and free its place in the slot."""
    appointment = _appointment_for(appointment_id, actor)
    with transaction.atomic():
        moved = Appointment.objects.filter(pk=appointment.pk, status=AppointmentStatus.BOOKED).update(
            status=AppointmentStatus.CANCELLED, cancelled_at=timezone.now()
        )
        if moved != 1:
            current = Appointment.objects.values_list("status", flat=True).get(pk=appointment.pk)
            raise Conflict(_("预约当前状态不能取消。"), state=current, allowed=[])
        AppointmentSlot.objects.filter(pk=appointment.slot_id, booked__gt=0).update(booked=F("booked") - 1)
    appointment.refresh_from_db()
    return appointment


def check_in_window() -> tuple[dt.timedelta, dt.timedelta]:
    """How early before the slot and how late after its end a check-in is accepted."""
    early = int(settings.APPOINTMENT_CHECKIN_EARLY_MINUTES)
    late = int(settings.APPOINTMENT_CHECKIN_LATE_MINUTES)
    return dt.timedelta(minutes=early), dt.timedelta(minutes=late)


def check_in_appointment(*, appointment_id: int, actor: User, phone: str = "") -> IssuedTicket:
    """Check a booking in at the hall: it becomes a priority ticket in its queue.

    Accepted from an hour before the slot until 15 minutes after its end (settings). Side effects:
    the board is broadcast after commit (through `issue_ticket`).
    """
    appointment = _appointment_for(appointment_id, actor)
    now = timezone.now()
    early, late = check_in_window()
    opens = timezone.make_aware(dt.datetime.combine(appointment.date, appointment.slot.start)) - early
    closes = timezone.make_aware(dt.datetime.combine(appointment.date, appointment.slot.end)) + late
    if appointment.status != AppointmentStatus.BOOKED:
        raise Conflict(_("预约当前状态不能签到。"), state=appointment.status, allowed=[])
    if not opens <= now <= closes:
        raise Conflict(
            _("不在签到时间内（%(opens)s 至 %(closes)s）。")
            % {
                "opens": timezone.localtime(opens).strftime("%H:%M"),
                "closes": timezone.localtime(closes).strftime("%H:%M"),
            },
            state=appointment.status,
            allowed=["cancel"],
        )
    with transaction.atomic():
        moved = Appointment.objects.filter(pk=appointment.pk, status=AppointmentStatus.BOOKED).update(
            status=AppointmentStatus.CHECKED_IN, checked_in_at=now
        )
        if moved != 1:
            current = Appointment.objects.values_list("status", flat=True).get(pk=appointment.pk)
            raise Conflict(_("预约当前状态不能签到。"), state=current, allowed=[])
        issued = issue_ticket(
            hall=appointment.hall,
            category=appointment.category,
            actor=actor,
            priority=TicketPriority.APPOINTMENT,
            phone=phone or appointment.phone,
            _appointment=appointment,
        )
        Appointment.objects.filter(pk=appointment.pk).update(ticket=issued.ticket)
        if issued.ticket.applicant_id is None:
            QueueTicket.objects.filter(pk=issued.ticket.pk).update(applicant_id=appointment.applicant_id)
    return issued


def queue_appointment_reminders(*, day: dt.date | None = None) -> int:
    """System (daily beat): the "your appointment is tomorrow" SMS for every live booking on `day`
    (default: the day after today's service day) that has a phone number.

    Idempotent: one outbox row per appointment (dedupe key), so a re-run or a retried task never
    sends twice; a booking cancelled before the sweep gets nothing. Returns how many were queued.
    """
    day = day or queue.service_day() + dt.timedelta(days=1)
    rows = (
        Appointment.objects.filter(date=day, status=AppointmentStatus.BOOKED)
        .exclude(phone="")
        .select_related("hall", "slot", "item")
        .order_by("pk")
    )
    queued = 0
    for appointment in rows.iterator():
        context: dict[str, Any] = {
            "date": f"{day.month}月{day.day}日",
            "start": appointment.slot.start.strftime("%H:%M"),
            "end": appointment.slot.end.strftime("%H:%M"),
            "hall_name": appointment.hall.name,
        }
        if appointment.item is not None:
            context["item_name"] = appointment.item.name
        with transaction.atomic():
            _enqueue_sms(
                to=appointment.phone,
                template="appointment_reminder",
                context=context,
                dedupe_key=f"appointment_reminder:{appointment.pk}",
            )
        queued += 1
    return queued


def mark_no_shows(*, now: dt.datetime | None = None) -> int:
    """System: bookings never checked in by the end of their check-in window become no-shows.

    Idempotent (only `booked` rows move); returns how many were marked.
    """
    now = now or timezone.now()
    _early, late = check_in_window()
    local = timezone.localtime(now - late)
    ended = Q(date__lt=local.date()) | Q(date=local.date(), slot__end__lte=local.time())
    ids = list(Appointment.objects.filter(ended, status=AppointmentStatus.BOOKED).values_list("pk", flat=True))
    # A conditional UPDATE by id: a check-in racing this sweep keeps its `checked_in`.
    return Appointment.objects.filter(pk__in=ids, status=AppointmentStatus.BOOKED).update(
        status=AppointmentStatus.NO_SHOW
    )


# --- coverage --------------------------------------------------------------------------------------


def save_coverage(*, rows: Iterable[dict[str, Any]], distance_m: int) -> int:
    """System (`manage.py coverage`): replace the per-county coverage figures; returns the count."""
    now = timezone.now()
    n = 0
    with transaction.atomic():
        for row in rows:
            CountyCoverage.objects.update_or_create(
                region_id=row["adcode"],
                defaults={
                    "distance_m": distance_m,
                    "covered_share": row["covered_share"],
                    "area_km2": row["area_km2"],
                    "uncovered_km2": row["uncovered_km2"],
                    "points": row["points"],
                    "gaps": row["gaps"],
                    "computed_at": now,
                },
            )
            n += 1
    return n

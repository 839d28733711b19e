"""Queue rules shared by the actions, the APIs, the boards and the consumers.

Reads only: numbering, the calling order, positions, wait estimates and the board snapshot that
every WebSocket client receives. Writes live in `halls.actions`.
"""

from __future__ import annotations

import asyncio
import datetime as dt
import json
import logging
import re
import statistics
from typing import Any, TypedDict

from django.conf import settings
from django.db.models import Count, Q, QuerySet
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from halls.models import Hall, HallType, QueueTicket, TicketStatus, Window

logger = logging.getLogger(__name__)

# Calling order: priority lane first (帮办代办, then checked-in appointments), then arrival.
QUEUE_ORDER = ("-priority", "issued_at", "id")

# Tickets that hold a window: shown on the call screen.
ACTIVE_AT_WINDOW = (TicketStatus.CALLED, TicketStatus.SERVING)

_CATEGORY_CODE = re.compile(r"^[A-Z][A-Z0-9]{0,7}$")


class QueueCategory(TypedDict):
    code: str
    name: str


class CalledEntry(TypedDict):
    ticket: str
    window: str
    category: str
    status: str
    called_at: str | None


class QueueState(TypedDict):
    type: str
    hall: str
    waiting: int
    waiting_by_category: dict[str, int]
    called: list[CalledEntry]
    at: str


def service_day() -> dt.date:
    """Tickets are numbered per local (Asia/Shanghai) day."""
    return timezone.localdate()


def group_name(hall_id: int) -> str:
    # Channels group names allow only ASCII letters, digits, hyphens, underscores and periods.
    return f"hall-queue.{hall_id}"


def hall_categories(hall: Hall) -> list[QueueCategory]:
    """The queue categories a hall issues tickets for, from the registry's `halls.categories`.

    Derived from the kinds of the hall's windows; a hall whose windows carry no kind still gets the
    general queue (A), so a ticket machine is never left without a button.
    """
    from halls.categories import categories_for_windows

    if hall.type == HallType.KIOSK:
        return []
    found = categories_for_windows(hall.windows.all(), hall_type=hall.type)
    if found:
        return [QueueCategory(code=c.code, name=str(c.name)) for c in found]
    return [QueueCategory(code="A", name=str(_("综合业务")))]


def window_categories(window: Window) -> list[str]:
    """The queue categories a window calls (by its kinds); every category if it has no kind."""
    from halls.categories import QUEUE_CATEGORIES, windows_serving

    served = [c.code for c in QUEUE_CATEGORIES if windows_serving(c.code, [window])]
    return served


def category_prefix(category: str) -> str:
    """The letters printed before the number: A001, B012, …"""
    return category if _CATEGORY_CODE.match(category) and len(category) <= 2 else category[:1].upper()


def format_number(category: str, seq: int) -> str:
    return f"{category_prefix(category)}{seq:03d}"


def hall_takes_tickets(hall: Hall) -> bool:
    # A 24-hour self-service kiosk has no windows to call from.
    return hall.is_active and hall.type != HallType.KIOSK


def waiting_ahead(ticket: QueueTicket) -> int:
    """How many waiting tickets of the same queue will be called before this one."""
    if ticket.status != TicketStatus.WAITING:
        return 0
    same_queue = QueueTicket.objects.filter(
        hall_id=ticket.hall_id,
        service_date=ticket.service_date,
        category=ticket.category,
        status=TicketStatus.WAITING,
    )
    before = Q(priority__gt=ticket.priority) | Q(priority=ticket.priority, issued_at__lt=ticket.issued_at)
    before |= Q(priority=ticket.priority, issued_at=ticket.issued_at, id__lt=ticket.id)
    return same_queue.filter(before).count()


def default_service_seconds() -> float:
    return float(settings.QUEUE_DEFAULT_SERVICE_SECONDS)


def average_service_seconds(hall_id: int, category: str, *, now: dt.datetime | None = None) -> float:
    """Median time a window spent per ticket recently (called → finished), in seconds.

    The median of the last 30 finished tickets of this queue in the last week, else of the whole
    hall, else the configured default. Outliers (a window left open over lunch) are clipped.
    """
    now = now or timezone.now()
    recent = QueueTicket.objects.filter(
        hall_id=hall_id,
        status=TicketStatus.DONE,
        finished_at__gte=now - dt.timedelta(days=7),
        called_at__isnull=False,
    ).order_by("-finished_at")
    for qs in (recent.filter(category=category), recent):
        rows = list(qs.values_list("called_at", "finished_at")[:30])
        durations = [
            min(3600.0, max(30.0, (finished - called).total_seconds()))
            for called, finished in rows
            if called and finished
        ]
        if len(durations) >= 3:
            return float(statistics.median(durations))
    return default_service_seconds()


def active_windows(hall_id: int, *, now: dt.datetime | None = None) -> int:
    """Windows that called a ticket in the last hour (at least one, so a wait is never infinite)."""
    now = now or timezone.now()
    n = (
        QueueTicket.objects.filter(hall_id=hall_id, called_at__gte=now - dt.timedelta(hours=1), window__isnull=False)
        .values("window_id")
        .distinct()
        .count()
    )
    return max(1, n)


def estimate_wait_seconds(hall_id: int, category: str, ahead: int) -> int:
    if ahead <= 0:
        return 0
    per_ticket = average_service_seconds(hall_id, category)
    return round(ahead * per_ticket / active_windows(hall_id))


def waiting_counts(hall_ids: list[int] | None = None, *, day: dt.date | None = None) -> dict[int, int]:
    """Waiting tickets today per hall (one GROUP BY, for the map and the hall API)."""
    qs = QueueTicket.objects.filter(service_date=day or service_day(), status=TicketStatus.WAITING)
    return count_per_hall(qs, hall_ids)


# Above this many ids, grouping every row of the day and filtering in Python beats a long IN list.
_MAX_IN_LIST = 500


def count_per_hall(qs: QuerySet[Any], hall_ids: list[int] | None) -> dict[int, int]:
    """Rows of `qs` per hall_id in one GROUP BY, limited to `hall_ids` (None: every hall)."""
    if hall_ids is not None:
        if not hall_ids:
            return {}
        if len(hall_ids) <= _MAX_IN_LIST:
            qs = qs.filter(hall_id__in=hall_ids)
    counts = {row["hall_id"]: row["n"] for row in qs.values("hall_id").annotate(n=Count("id")).order_by()}
    if hall_ids is not None and len(hall_ids) > _MAX_IN_LIST:
        wanted = set(hall_ids)
        counts = {k: v for k, v in counts.items() if k in wanted}
    return counts


def queue_state(hall_id: int, *, limit: int = 12) -> QueueState:
    """What the call screen shows; the payload of every `queue.updated` message."""
    day = service_day()
    today = QueueTicket.objects.filter(hall_id=hall_id, service_date=day)
    by_category = {
        row["category"]: row["n"]
        for row in today.filter(status=TicketStatus.WAITING).values("category").annotate(n=Count("id")).order_by()
    }
    called_rows = (
        today.filter(status__in=ACTIVE_AT_WINDOW, window__isnull=False)
        .order_by("-called_at", "-id")
        .values("number", "window__number", "category", "status", "called_at")[:limit]
    )
    called: list[CalledEntry] = [
        CalledEntry(
            ticket=row["number"],
            window=row["window__number"],
            category=row["category"],
            status=row["status"],
            called_at=timezone.localtime(row["called_at"]).isoformat() if row["called_at"] else None,
        )
        for row in called_rows
    ]
    hall_code = Hall.objects.filter(pk=hall_id).values_list("code", flat=True).first() or ""
    return QueueState(
        type="queue.updated",
        hall=hall_code,
        waiting=sum(by_category.values()),
        waiting_by_category=dict(sorted(by_category.items())),
        called=called,
        at=timezone.localtime().isoformat(),
    )


def broadcast_queue(hall_id: int) -> None:
    """Send the hall's current board to every connected screen and console.

    Called after commit, so the message never announces a change that was rolled back. A channel
    layer outage must not turn a committed call into an error for the clerk: it is logged, and
    reconnecting boards read the current state on connect anyway.
    """
    from asgiref.sync import async_to_sync
    from channels.layers import get_channel_layer

    layer = get_channel_layer()
    if layer is None:
        return
    try:
        asyncio.get_running_loop()
    except RuntimeError:
        pass
    else:
        # Sync code inside an event loop (only ever a test harness): we cannot block here. Boards
        # catch up on the next change and on reconnect.
        logger.warning("queue.updated for hall %s skipped: called inside a running event loop", hall_id)
        return
    state = queue_state(hall_id)
    message: dict[str, Any] = {"type": "queue.updated", "text": json.dumps(state, ensure_ascii=False)}
    try:
        async_to_sync(layer.group_send)(group_name(hall_id), message)
    except Exception:  # the board is a convenience; the committed queue is the truth
        logger.exception("queue.updated broadcast failed for hall %s", hall_id)

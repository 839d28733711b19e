"""Demo history of 好差评 for ``manage.py load_demo``.

``load_ratings()`` adds about half a year of rated, finished cases (一事一评) and rated window visits
(一次一评) at the province's comprehensive halls: mostly satisfied, each hall with its own quality
so rankings differ, and a few bad ratings in every state of rectification (open, rectifying,
replied, callback recorded, closed; some overdue and escalated; one appeal upheld, one pending).

Reproducible (a seeded generator; dates relative to the day of loading) and idempotent (a second
run finds the demo cases and does nothing). Fast: bulk inserts in one transaction, then the tallies
are rebuilt set-based. Demo cases are numbered ``<county>-<yyyymmdd>-R<nnnnn>`` — the "R" keeps them
apart from numbers the system allocates (all digits).
"""

from __future__ import annotations

import datetime as dt
import random
from typing import Any
from zoneinfo import ZoneInfo

from django.conf import settings
from django.core.exceptions import ValidationError
from django.db import transaction
from django.utils import timezone

from accounts.models import Role, User
from halls.models import Hall, QueueTicket, StaffPost, Window
from halls.scope import hall_supervisor_of
from ratings import actions, tally
from ratings.models import (
    Appeal,
    AppealState,
    Channel,
    EscalationLevel,
    Rating,
    RatingKind,
    Rectification,
    RectificationEvent,
    RectState,
)
from services.models import Item
from workdays import calendar
from workflows.models import Case, CaseState

DAYS = 182
DEMO_MARK = "-R"
SURNAMES = "王李张刘陈杨黄赵吴周徐孙马朱胡郭何罗高林"
GIVEN = "伟芳娜敏静丽强磊军洋勇艳杰娟涛明超秀霞平刚桂英华"
BAD_COMMENTS = [
    "排队时间太长，窗口只开了一个",
    "工作人员态度生硬，解释不清楚",
    "材料要求前后说法不一致，跑了两趟",
    "网上说可以通办，到窗口又说不行",
    "办理时间超过承诺时限",
]
GOOD_COMMENTS = ["办事很快，点赞", "工作人员耐心细致", "一次就办好了", "", "", "", "不用跑腿，很方便"]
REPLIES = [
    "已对窗口人员进行批评教育，并增开高峰时段窗口",
    "已统一材料清单并在办事指南中更正，感谢您的反馈",
    "已核实情况并整改，今后将加强业务培训",
]


def _level(rng: random.Random, quality: float) -> int:
    """Mostly satisfied; worse halls (lower quality) give more 3s and bad ratings."""
    x = rng.random()
    bad = 0.05 * (1.6 - quality)
    if x < bad * 0.45:
        return 1
    if x < bad:
        return 2
    if x < bad + 0.06 * (1.5 - quality):
        return 3
    if x < 0.32 - 0.1 * quality:
        return 4
    return 5


def _citizens() -> list[User]:
    users = []
    for n in range(1, 21):
        phone = f"+861700000{n:04d}"  # the stored form (core.phones)
        user, _ = User.objects.get_or_create(
            username=f"demo-citizen-{n:02d}",
            defaults={"role": Role.CITIZEN, "phone": phone, "real_name": f"演示群众{n:02d}"},
        )
        users.append(user)
    return users


_authorities: dict[tuple[int, str], Any] = {}


def _authority(item: Any, region: Any) -> Any:
    """The competent department, as real cases have it (memoised: the history reuses few pairs)."""
    from services.selectors import competent_department

    key = (item.pk, region.pk)
    if key not in _authorities:
        try:
            _authorities[key] = competent_department(item=item, jurisdiction=region)
        except ValidationError:
            _authorities[key] = None
    return _authorities[key]


def load_ratings(*, seed: int = 52, scale: float = 1.0) -> dict[str, Any]:
    """Load the demo history (see the module docstring). Returns counts (or {"skipped": ...})."""
    if Case.objects.filter(number__contains=DEMO_MARK).exists():
        return {"skipped": "演示评价已存在", "ratings": Rating.objects.count()}
    halls = list(Hall.objects.filter(type="comprehensive", is_active=True).select_related("region").order_by("code"))
    items = list(Item.objects.order_by("code")[:300])
    if not halls or not items:
        return {"skipped": "没有服务场所或事项（请先加载场所和事项目录）"}
    rng = random.Random(seed)
    tz = ZoneInfo(settings.TIME_ZONE)
    now = timezone.now()
    today = calendar.local_date(now)
    windows: dict[int, list[Window]] = {}
    for w in Window.objects.filter(hall__in=halls).order_by("hall_id", "number"):
        windows.setdefault(w.hall_id, []).append(w)
    clerks = dict(
        StaffPost.objects.filter(hall__in=halls, is_active=True, user__role=Role.WINDOW_CLERK).values_list(
            "hall_id", "user_id"
        )
    )
    citizens = _citizens()
    quality = {h.pk: rng.uniform(0.4, 1.5) for h in halls}
    # Busier city-level halls; about 60 ratings per hall-month at scale 1.
    per_day = {h.pk: (0.9 if h.level in ("province", "city") else 0.45) * scale for h in halls}

    cases: list[Case] = []
    case_meta: list[tuple[dt.datetime, Hall | None, Window | None, int]] = []
    tickets: list[QueueTicket] = []
    ticket_meta: list[tuple[dt.datetime, Hall, Window | None, int]] = []
    seq = 0
    for back in range(DAYS, 0, -1):
        day = today - dt.timedelta(days=back)
        if not calendar.is_workday(day):
            continue
        for hall in halls:
            n = int(per_day[hall.pk] * 2 * rng.random() + rng.random())
            hall_windows: list[Window | None] = list(windows.get(hall.pk, [])) or [None]
            for _ in range(n):
                seq += 1
                at = dt.datetime.combine(day, dt.time(9 + rng.randrange(8), rng.randrange(60)), tzinfo=tz)
                window = rng.choice(hall_windows)
                level = _level(rng, quality[hall.pk])
                if rng.random() < 0.5:
                    # A visit (一次一评) at the window.
                    tickets.append(
                        QueueTicket(
                            hall=hall, service_date=day, category="A", seq=9000 + seq % 90000,
                            number=f"A{seq % 1000:03d}", status="done", window=window,
                            called_by_id=clerks.get(hall.pk), called_at=at, serving_at=at, finished_at=at,
                        )
                    )  # fmt: skip
                    ticket_meta.append((at, hall, window, level))
                    continue
                item = rng.choice(items)
                citizen = rng.choice(citizens)
                authority = _authority(item, hall.region)
                # An online case is always decided by its competent department, which then owns its
                # bad ratings: without one (a gap in the demo catalog) it was received at the hall.
                online = rng.random() < 0.3 and authority is not None
                state = rng.choices([CaseState.DELIVERED, CaseState.DENIED, CaseState.REJECTED], weights=[90, 7, 3])[0]
                decided = at - dt.timedelta(days=rng.randint(1, 3))
                cases.append(
                    Case(
                        number=f"{hall.region_id}-{day:%Y%m%d}{DEMO_MARK}{seq:05d}",
                        mode="online" if online else "proxy",
                        state=state,
                        item=item,
                        jurisdiction_id=hall.region_id,
                        authority=authority,
                        receiving_hall=None if online else hall,
                        receiving_window=None if online else window,
                        delivery_method="electronic" if online else "pickup",
                        delivery_hall=None if online else hall,
                        applicant=citizen,
                        applicant_name=f"{rng.choice(SURNAMES)}{rng.choice(GIVEN)}",
                        applicant_phone=citizen.phone,
                        created_by_id=None if online else clerks.get(hall.pk),
                        committed_days=item.committed_days or 10,
                        legal_days=item.legal_days or 20,
                        submitted_at=decided - dt.timedelta(days=5),
                        accepted_at=decided - dt.timedelta(days=4),
                        decided_at=decided,
                        delivered_at=at if state == CaseState.DELIVERED else None,
                        decision_reason="" if state == CaseState.DELIVERED else "申请材料不符合法定条件",
                    )
                )
                case_meta.append((at, None if online else hall, None if online else window, level))

    with transaction.atomic():
        Case.objects.bulk_create(cases, batch_size=1000)
        # auto_now_add stamped "now": give the history its real creation times (one UPDATE per day).
        by_day: dict[dt.date, list[int]] = {}
        for case in cases:
            assert case.submitted_at is not None
            by_day.setdefault(calendar.local_date(case.submitted_at), []).append(case.pk)
        for day, ids in by_day.items():
            when = dt.datetime.combine(day, dt.time(9), tzinfo=tz)
            Case.objects.filter(pk__in=ids).update(created_at=when, updated_at=when)
        QueueTicket.objects.bulk_create(tickets, batch_size=1000, ignore_conflicts=True)
        saved_tickets = {
            (t.hall_id, t.service_date, t.seq): t.pk
            for t in QueueTicket.objects.filter(category="A", seq__gte=9000, hall__in=halls).only(
                "pk", "hall_id", "service_date", "seq"
            )
        }
        ratings: list[Rating] = []
        for case, (at, case_hall, case_window, level) in zip(cases, case_meta, strict=True):
            region = str(case_hall.region_id) if case_hall is not None else str(case.jurisdiction_id)
            ratings.append(
                Rating(
                    kind=RatingKind.CASE, channel=rng.choice([Channel.ONLINE, Channel.ONLINE, Channel.SMS_LINK]),
                    case_id=case.pk, rater=case.applicant, contact_phone=case.applicant_phone, level=level,
                    indicators={"overall": level, "efficiency": max(1, min(5, level + rng.choice([-1, 0, 0, 1])))},
                    comment=rng.choice(BAD_COMMENTS if level <= 2 else GOOD_COMMENTS),
                    hall=case_hall, window=case_window, staff_id=case.created_by_id, item_id=case.item_id,
                    province_code=region[:2], city_code=region[:4], county_code=region,
                    rated_at=at, rated_on=calendar.local_date(at),
                )
            )  # fmt: skip
        for ticket, (at, t_hall, t_window, level) in zip(tickets, ticket_meta, strict=True):
            tid = saved_tickets.get((t_hall.pk, ticket.service_date, ticket.seq))
            if tid is None:
                continue
            region = str(t_hall.region_id)
            ratings.append(
                Rating(
                    kind=RatingKind.VISIT, channel=Channel.WINDOW_PAD, ticket_id=tid, level=level,
                    indicators={"overall": level, "attitude": max(1, min(5, level + rng.choice([-1, 0, 0, 1])))},
                    comment=rng.choice(BAD_COMMENTS if level <= 2 else GOOD_COMMENTS),
                    hall=t_hall, window=t_window, staff_id=ticket.called_by_id,
                    province_code=region[:2], city_code=region[:4], county_code=region,
                    rated_at=at, rated_on=calendar.local_date(at),
                )
            )  # fmt: skip
        Rating.objects.bulk_create(ratings, batch_size=2000)
        owners = {c.pk: c.authority for c in cases if c.mode == "online" and c.authority is not None}
        rects = _rectifications(rng, [r for r in ratings if r.level <= 2], now, owners)
        tally.rebuild()
        escalated = actions.escalate_overdue(now=now)
    return {
        "cases": len(cases),
        "visits": len(tickets),
        "ratings": len(ratings),
        "bad": sum(1 for r in ratings if r.level <= 2),
        "rectifications": rects,
        "escalated": escalated,
    }


def _rectifications(rng: random.Random, bad: list[Rating], now: dt.datetime, online_owners: dict[int, Any]) -> int:
    """Rectifications of the bad ratings, in states that fit their age, owned as
    ``actions.rectification_owner`` owns them (online cases: the competent department)."""
    deadlines: dict[dt.date, dt.datetime] = {}
    escalations: dict[dt.date, dt.datetime] = {}
    owners: dict[tuple[str, int], tuple[int | None, str]] = {}
    rows: list[Rectification] = []
    for rating in bad:
        day = rating.rated_on
        if day not in deadlines:
            deadlines[day] = actions.rectification_deadline(rating.rated_at)
            escalations[day] = calendar.deadline(deadlines[day], actions.province_escalation_days())
        department = online_owners.get(rating.case_id) if rating.case_id is not None else None
        if department is not None:
            key = ("department", department.pk)
            if key not in owners:
                owners[key] = (actions.department_approver_for(department.pk), actions.department_post_name(department))
        else:
            assert rating.hall is not None
            key = ("hall", rating.hall.pk)
            if key not in owners:
                owners[key] = (hall_supervisor_of(rating.hall.pk), actions.hall_post_name(rating.hall))
        assignee_id, post = owners[key]
        deadline = deadlines[day]
        age = (now - rating.rated_at).days
        late = rng.random() < 0.12
        fields: dict[str, Any] = {"state": RectState.OPEN}
        # The oldest few stay unanswered: overdue, to show escalation on the pages.
        answered = len(rows) >= 4 and (age > 8 or (age > 3 and rng.random() < 0.5))
        if answered:
            if late and deadline < now:
                replied = deadline + dt.timedelta(days=rng.randint(1, 4))
            else:
                replied = rating.rated_at + dt.timedelta(days=rng.randint(1, min(12, max(1, age))))
            replied = min(replied, now - dt.timedelta(hours=1))
            fields.update(
                reply=rng.choice(REPLIES), replied_at=replied, replied_on_time=replied <= deadline,
                measures="窗口人员培训、优化叫号", state=RectState.REPLIED,
            )  # fmt: skip
            roll = rng.random()
            if age > 25 and roll < 0.9:
                fields.update(
                    callback_result="satisfied", callback_at=replied + dt.timedelta(days=1),
                    callback_note="电话回访，群众表示满意", closed_at=replied + dt.timedelta(days=2),
                    state=RectState.CLOSED,
                )  # fmt: skip
            elif roll < 0.5:
                fields.update(
                    callback_result=rng.choice(["satisfied", "unsatisfied"]),
                    callback_at=replied + dt.timedelta(days=1),
                    state=RectState.CALLBACK_RECORDED,
                )
        elif len(rows) >= 4 and age > 1 and rng.random() < 0.6:
            fields.update(state=RectState.RECTIFYING, measures="已约谈窗口负责人，正在核实")
        # Still open otherwise; old open ones get escalated by the sweep at the end of load_ratings.
        rows.append(
            Rectification(
                rating=rating, assignee_id=assignee_id, hall_id=rating.hall_id,
                department_id=department.pk if department is not None else None, responsible_post=post,
                province_code=rating.province_code, city_code=rating.city_code, county_code=rating.county_code,
                rated_on=day, opened_at=rating.rated_at, deadline=deadline,
                province_escalate_at=escalations[day], escalation_level=EscalationLevel.HALL, **fields,
            )
        )  # fmt: skip
    Rectification.objects.bulk_create(rows, batch_size=1000)
    RectificationEvent.objects.bulk_create(
        [RectificationEvent(rectification=r, kind="open", to_state="open", at=r.opened_at) for r in rows]
        + [
            RectificationEvent(
                rectification=r,
                kind="reply",
                from_state="rectifying",
                to_state="replied",
                actor_id=r.assignee_id,
                at=r.replied_at,
                payload={"reply": r.reply},
            )
            for r in rows
            if r.replied_at is not None
        ]
    )
    # Two appeals: one upheld (out of the statistics, kept on record), one waiting for a decision.
    appealed = [(r, r.rating.staff) for r in rows if r.rating.staff is not None][:2]
    for i, (rect, staff) in enumerate(appealed):
        assert staff is not None
        rating = rect.rating
        upheld = i == 0
        Appeal.objects.create(
            rating=rating,
            reason="评价人因不符合办理条件情绪激动，当场表示要给差评，有同步录音录像",
            filed_by=staff,
            filed_at=rating.rated_at + dt.timedelta(days=1),
            state=AppealState.UPHELD if upheld else AppealState.PENDING,
            decided_at=rating.rated_at + dt.timedelta(days=3) if upheld else None,
            decision_note="经调阅录像，属恶意评价，申诉成立" if upheld else "",
        )
        if upheld:
            Rating.objects.filter(pk=rating.pk).update(counted=False)
            Rectification.objects.filter(pk=rect.pk).update(counted=False)
    return len(rows)

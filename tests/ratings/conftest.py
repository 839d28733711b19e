"""Fixtures for the ratings tests, on top of the workflows ``wf`` world (tests/fixtures/workflows.py):
two cities (遵义 红花岗区 with the hall H-ZY, 贵阳 云岩区 with H-GY), their staff and supervisors."""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable
from typing import Any
from zoneinfo import ZoneInfo

import pytest

TZ = ZoneInfo("Asia/Shanghai")


@pytest.fixture(autouse=True)
def _fresh_holiday_cache():
    from workdays.calendar import invalidate_overrides

    invalidate_overrides()
    yield
    invalidate_overrides()


def local(*args: int) -> dt.datetime:
    return dt.datetime(*args, tzinfo=TZ)


@pytest.fixture
def deliver(wf: Any, drive: Callable[..., Any]) -> Callable[..., Any]:
    """deliver(state="delivered") → a proxy case received at 遵义 (window 1 by zy_clerk) for 云岩区,
    walked to ``state`` (picked up at 遵义 by default)."""
    from workflows import actions
    from workflows.models import Case

    def _deliver(state: str = "delivered") -> Any:
        case = wf.receive()
        case = drive(case, "approved")
        case = Case.objects.get(pk=case.pk)
        if state in ("approved", "print_queued", case.state):
            return case
        case = actions.print_result(case=case, actor=wf.users["zy_printer"])
        if state == "ready_for_pickup":
            return case
        case = actions.hand_over(case=case, actor=wf.users["zy_printer"])
        assert case.state == "delivered"
        return case

    return _deliver


@pytest.fixture
def online_delivered(wf: Any, drive: Callable[..., Any]) -> Callable[..., Any]:
    """An online case for 云岩区 (贵阳), delivered electronically: rated without a hall, in 贵阳."""

    def _make() -> Any:
        case = wf.online()
        case = drive(case, "approved")
        assert case.state == "delivered", case.state
        return case

    return _make


@pytest.fixture
def make_ticket(wf: Any) -> Callable[..., Any]:
    """make_ticket(hall="zunyi", status="done") — a queue ticket served at the hall's first window."""
    from django.utils import timezone

    from halls.models import QueueTicket

    counter = {"n": 0}

    def _make(hall: str = "zunyi", status: str = "done", window: str | None = None, phone: str = "13800138000"):
        counter["n"] += 1
        h = wf.halls[hall]
        w = wf.windows[window or ("zy_tongban" if hall == "zunyi" else "gy_tongban")]
        clerk = wf.users["zy_clerk" if hall == "zunyi" else "gy_clerk"]
        now = timezone.now()
        served = status in ("called", "serving", "done")
        return QueueTicket.objects.create(
            hall=h,
            service_date=now.date(),
            category="A",
            seq=counter["n"],
            number=f"A{counter['n']:03d}",
            status=status,
            phone=phone,
            window=w if served else None,
            called_by=clerk if served else None,
            called_at=now if served else None,
            finished_at=now if status == "done" else None,
        )

    return _make

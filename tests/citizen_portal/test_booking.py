"""Citizens book a hall appointment (nearest halls first), get the reminder SMS the day before,
cancel; take a remote ticket and see its position; a full slot suggests a nearby hall. The clock is
pinned (time_machine) to a Tuesday so the days offered never depend on when the suite runs."""

from __future__ import annotations

import datetime as dt
from typing import Any

import pytest
import time_machine
from django.utils import timezone

from halls import actions
from halls.models import Appointment, AppointmentSlot, AppointmentStatus, Hall, HallType, QueueTicket
from notifications.models import OutboxMessage

pytestmark = pytest.mark.django_db

TUESDAY = dt.datetime(2026, 6, 9, 9, 0)  # no holiday near it
WEDNESDAY = dt.date(2026, 6, 10)


@pytest.fixture
def tuesday() -> Any:
    with time_machine.travel(TUESDAY.replace(tzinfo=timezone.get_current_timezone()), tick=True):
        yield


@pytest.fixture
def citizen(tuesday: None, client: Any, make_user: Any) -> Any:
    # Log in on the pinned Tuesday: a session opened on the real (or CI-pinned) day and then carried
    # to 9 June has long expired, and every request would bounce to the login page.
    user = make_user(phone="13900001234", real_name="李四")
    client.force_login(user)
    return user


def _zunyi_hall() -> Hall:
    return Hall.objects.filter(type=HallType.COMPREHENSIVE, level="city", region__adcode__startswith="5203").first()


def test_book_remind_cancel(client: Any, demo_halls: Any, citizen: Any, tuesday: None, on_commit: Any) -> None:
    hall = _zunyi_hall()
    # Step 1: the halls nearest the 遵义 site's centre come first, the centre itself at the top.
    from demo.portal import load_sites

    load_sites()
    html = client.get("/book/", {"site": "520300"}).content.decode()
    first = html.split('<ol class="halls">', 1)[1].split("</li>", 1)[0]
    assert hall.name in first
    # Steps 2–4: a day and a slot
    page = client.get(f"/book/{hall.code}/", {"day": WEDNESDAY.isoformat()})
    assert page.status_code == 200 and "6月10日" in page.content.decode()
    slot = AppointmentSlot.objects.filter(hall=hall, date=WEDNESDAY).order_by("start", "category").first()
    item = hall.windows.first().items.first() if hall.windows.first().items.exists() else None
    resp = client.post(
        f"/book/{hall.code}/",
        {"slot": slot.pk, "item": item.code if item else "", "phone": "13900001234", "day": WEDNESDAY.isoformat()},
    )
    assert resp.status_code == 302, resp.content.decode()[:2000]
    appointment = Appointment.objects.get(applicant=citizen)
    assert appointment.status == AppointmentStatus.BOOKED and appointment.date == WEDNESDAY
    assert "取消预约" in client.get("/my/appointments/").content.decode()
    # The evening before: one reminder, however often the sweep runs.
    with time_machine.travel(dt.datetime(2026, 6, 9, 18, 0, tzinfo=timezone.get_current_timezone())):
        assert actions.queue_appointment_reminders() == 1
        actions.queue_appointment_reminders()
    sms = OutboxMessage.objects.filter(template="appointment_reminder")
    assert sms.count() == 1
    assert hall.name in sms.get().body and "6月10日" in sms.get().body and sms.get().to.endswith("13900001234")
    # Cancel: the place is free again and a cancelled booking gets no reminder.
    resp = client.post(f"/my/appointments/{appointment.pk}/cancel/")
    assert resp.status_code == 302
    appointment.refresh_from_db()
    slot.refresh_from_db()
    assert appointment.status == AppointmentStatus.CANCELLED and slot.booked == 0
    again = client.post(f"/my/appointments/{appointment.pk}/cancel/", follow=True)
    assert "不能取消" in again.content.decode()


def test_bad_bookings_are_refused(client: Any, demo_halls: Any, citizen: Any, make_user: Any, tuesday: None) -> None:
    hall = _zunyi_hall()
    client.get(f"/book/{hall.code}/", {"day": WEDNESDAY.isoformat()})
    slot = AppointmentSlot.objects.filter(hall=hall, date=WEDNESDAY).order_by("start", "category").first()
    assert client.post(f"/book/{hall.code}/", {"slot": ""}).status_code == 400
    assert client.post(f"/book/{hall.code}/", {"slot": slot.pk, "item": "NOPE"}).status_code == 400
    assert not Appointment.objects.exists()
    # Full: the page suggests nearby halls with room.
    AppointmentSlot.objects.filter(pk=slot.pk).update(booked=slot.capacity)
    resp = client.post(f"/book/{hall.code}/", {"slot": slot.pk})
    assert resp.status_code == 409
    assert "附近大厅还有空余时段" in resp.content.decode()
    # Someone else's booking cannot be cancelled (not even seen).
    other = make_user(phone="13900009999")
    free = AppointmentSlot.objects.filter(hall=hall, date=WEDNESDAY, booked=0).first()
    theirs = actions.book_appointment(slot=free, actor=other)
    assert client.post(f"/my/appointments/{theirs.pk}/cancel/").status_code == 404
    theirs.refresh_from_db()
    assert theirs.status == AppointmentStatus.BOOKED


def test_remote_ticket_and_position(client: Any, demo_halls: Any, citizen: Any, tuesday: None) -> None:
    hall = _zunyi_hall()
    category = actions.queue.hall_categories(hall)[0]["code"]
    actions.issue_ticket(hall=hall, category=category, actor=None)  # someone at the machine first
    resp = client.post(f"/book/{hall.code}/ticket/", {"category": category})
    assert resp.status_code == 302
    ticket = QueueTicket.objects.get(applicant=citizen)
    html = client.get(resp["Location"]).content.decode()
    assert ticket.number in html and '<strong id="ticket-position">2</strong>' in html
    # Asking again returns the same ticket, not a second place in the line.
    again = client.post(f"/book/{hall.code}/ticket/", {"category": category})
    assert again["Location"] == resp["Location"] and QueueTicket.objects.filter(applicant=citizen).count() == 1
    api = client.get(f"/api/v1/tickets/{ticket.pk}/").json()
    assert api["position"] == 2
    assert client.post(f"/book/{hall.code}/ticket/", {"category": "ZZ"}).status_code == 400


def test_anonymous_visitors_go_to_login(client: Any, demo_halls: Any) -> None:
    resp = client.get("/book/")
    assert resp.status_code == 302 and "/accounts/sms-login/" in resp["Location"]

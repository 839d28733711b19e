"""Appointments: slots, booking within capacity, cancel, check-in as a priority ticket, no-shows."""

from __future__ import annotations

import datetime as dt

import pytest
import time_machine
from django.utils import timezone

from halls import actions
from halls.models import (
    Appointment,
    AppointmentSlot,
    AppointmentStatus,
    QueueTicket,
    TicketPriority,
    Window,
)
from workdays import calendar


def _working_day_after(day: dt.date) -> dt.date:
    day += dt.timedelta(days=1)
    while not calendar.is_workday(day):
        day += dt.timedelta(days=1)
    return day


def _next_working_day() -> dt.date:
    return _working_day_after(timezone.localdate())


@pytest.fixture
def mid_morning():
    """Today at 10:00 Beijing time (the clock keeps ticking): a same-day slot an hour either side of
    "now" must not straddle midnight, whatever hour the suite runs at."""
    today = timezone.localdate()
    with time_machine.travel(
        dt.datetime.combine(today, dt.time(10), tzinfo=timezone.get_current_timezone()), tick=True
    ):
        yield


def _slot_around_now(hall, *, starts_in_minutes: int, category: str = "A", capacity: int = 2) -> AppointmentSlot:
    start = timezone.localtime() + dt.timedelta(minutes=starts_in_minutes)
    end = start + dt.timedelta(minutes=60)
    assert end.date() == start.date(), "pin the clock with the mid_morning fixture"
    return AppointmentSlot.objects.create(
        hall=hall,
        date=start.date(),
        start=start.time().replace(microsecond=0),
        end=end.time().replace(microsecond=0),
        category=category,
        capacity=capacity,
    )


@pytest.mark.django_db
class TestSlots:
    def test_opened_on_first_look_with_capacity_per_category(self, api_client, live_hall):
        day = _next_working_day()
        response = api_client.get(f"/api/v1/halls/{live_hall.code}/slots/", {"date": day.isoformat()})
        assert response.status_code == 200
        slots = response.json()
        assert {s["category"] for s in slots} == {"A", "B", "C", "D"}
        assert len(slots) == 6 * 4
        assert all(s["capacity"] == 8 and s["free"] == 8 for s in slots)  # 4 windows × 2 per hour
        again = api_client.get(f"/api/v1/halls/{live_hall.code}/slots/", {"date": day.isoformat(), "category": "a"})
        assert [s["category"] for s in again.json()] == ["A"] * 6
        assert AppointmentSlot.objects.count() == 24

    def test_none_in_the_past_beyond_horizon_or_at_kiosks(self, api_client, live_hall, hall_factory):
        past = (timezone.localdate() - dt.timedelta(days=1)).isoformat()
        far = (timezone.localdate() + dt.timedelta(days=60)).isoformat()
        for day in (past, far):
            assert api_client.get(f"/api/v1/halls/{live_hall.code}/slots/", {"date": day}).json() == []
        kiosk = hall_factory("520102", type="kiosk", windows="kiosk")
        assert api_client.get(f"/api/v1/halls/{kiosk.code}/slots/", {"date": _next_working_day()}).json() == []
        assert not AppointmentSlot.objects.exists()

    def test_the_admin_holiday_schedule_decides_like_it_does_for_case_clocks(self, api_client, live_hall):
        """Slots and case clocks read one calendar: a declared 临时放假 opens nothing, a declared
        调休上班 Saturday opens the usual slots (halls once asked chinese-calendar only)."""
        from workdays.calendar import invalidate_overrides
        from workdays.models import HolidayOverride

        holiday = _next_working_day()
        saturday = timezone.localdate() + dt.timedelta(days=1)
        while saturday.weekday() != 5 or calendar.is_workday(saturday):
            saturday += dt.timedelta(days=1)
        HolidayOverride.objects.create(date=holiday, is_workday=False, note="测试：临时放假")
        HolidayOverride.objects.create(date=saturday, is_workday=True, note="测试：调休上班")
        try:
            url = f"/api/v1/halls/{live_hall.code}/slots/"
            assert api_client.get(url, {"date": holiday.isoformat()}).json() == []
            assert len(api_client.get(url, {"date": saturday.isoformat()}).json()) == 6 * 4
            assert not AppointmentSlot.objects.filter(date=holiday).exists()
        finally:
            invalidate_overrides()  # the test's rollback deletes the rows without signals

    def test_bad_date(self, api_client, live_hall):
        response = api_client.get(f"/api/v1/halls/{live_hall.code}/slots/", {"date": "2026-13-40"})
        assert response.status_code == 400
        assert "date" in response.json()["errors"]


@pytest.mark.django_db
class TestBooking:
    def test_book_and_refuse_over_capacity_with_nearby_suggestion(
        self, api_client, live_hall, make_citizen, hall_factory
    ):
        neighbour = hall_factory(
            "520102", code="NEAR-1", name="附近便民服务站", lat=live_hall.lat + 0.01, lon=live_hall.lon
        )
        day = _next_working_day()
        slot = actions.ensure_slots(hall=live_hall, day=day)[0]
        AppointmentSlot.objects.filter(pk=slot.pk).update(capacity=1)
        first = make_citizen()
        api_client.force_authenticate(first)
        ok = api_client.post("/api/v1/appointments/", {"slot": slot.pk}, format="json")
        assert ok.status_code == 201, ok.content
        assert ok.json()["status"] == "booked" and ok.json()["hall"] == live_hall.code

        api_client.force_authenticate(make_citizen())
        full = api_client.post("/api/v1/appointments/", {"slot": slot.pk}, format="json")
        assert full.status_code == 409
        body = full.json()
        assert body["state"] == "full"
        assert body["suggestions"][0]["hall"] == neighbour.code
        assert body["suggestions"][0]["free"] > 0
        assert body["suggestions"][0]["distance_m"] == pytest.approx(1112, abs=5)
        assert Appointment.objects.count() == 1
        assert AppointmentSlot.objects.get(pk=slot.pk).booked == 1

    def test_concurrent_capacity_is_a_database_guarantee(self, live_hall, make_citizen):
        slot = actions.ensure_slots(hall=live_hall, day=_next_working_day())[0]
        AppointmentSlot.objects.filter(pk=slot.pk).update(booked=slot.capacity)  # full
        with pytest.raises(actions.SlotFull):
            actions.book_appointment(slot=slot, actor=make_citizen())
        assert not Appointment.objects.exists()

    def test_one_live_booking_per_person_hall_and_day(self, api_client, live_hall, citizen):
        slots = actions.ensure_slots(hall=live_hall, day=_next_working_day())
        api_client.force_authenticate(citizen)
        assert api_client.post("/api/v1/appointments/", {"slot": slots[0].pk}, format="json").status_code == 201
        second = api_client.post("/api/v1/appointments/", {"slot": slots[5].pk}, format="json")
        assert second.status_code == 409
        assert Appointment.objects.count() == 1
        assert AppointmentSlot.objects.get(pk=slots[5].pk).booked == 0

    @pytest.mark.parametrize(
        ("body", "status", "field"),
        [({}, 400, "slot"), ({"slot": 999999}, 400, "slot"), ({"slot": "x"}, 400, "slot")],
    )
    def test_bad_input(self, api_client, live_hall, citizen, body, status, field):
        api_client.force_authenticate(citizen)
        response = api_client.post("/api/v1/appointments/", body, format="json")
        assert response.status_code == status
        assert field in response.json()["errors"]

    def test_anonymous_refused_and_past_slot_refused(self, api_client, live_hall, citizen, mid_morning):
        slot = _slot_around_now(live_hall, starts_in_minutes=-10)
        assert api_client.post("/api/v1/appointments/", {"slot": slot.pk}, format="json").status_code in (401, 403)
        api_client.force_authenticate(citizen)
        response = api_client.post("/api/v1/appointments/", {"slot": slot.pk}, format="json")
        assert response.status_code == 400
        assert not Appointment.objects.exists()

    def test_cancel_frees_the_place_once(self, api_client, live_hall, citizen, make_citizen):
        slot = actions.ensure_slots(hall=live_hall, day=_next_working_day())[0]
        appointment = actions.book_appointment(slot=slot, actor=citizen)
        api_client.force_authenticate(make_citizen())  # a stranger cannot even see it
        assert api_client.post(f"/api/v1/appointments/{appointment.pk}/cancel/").status_code == 404
        api_client.force_authenticate(citizen)
        response = api_client.post(f"/api/v1/appointments/{appointment.pk}/cancel/")
        assert response.status_code == 200 and response.json()["status"] == "cancelled"
        assert AppointmentSlot.objects.get(pk=slot.pk).booked == 0
        again = api_client.post(f"/api/v1/appointments/{appointment.pk}/cancel/")
        assert again.status_code == 409 and again.json()["state"] == "cancelled"
        assert AppointmentSlot.objects.get(pk=slot.pk).booked == 0
        # Cancelled bookings do not block booking again.
        assert api_client.post("/api/v1/appointments/", {"slot": slot.pk}, format="json").status_code == 201

    def test_list_mine_and_staff_view(self, api_client, live_hall, citizen, clerk_for):
        slot = actions.ensure_slots(hall=live_hall, day=_next_working_day())[0]
        actions.book_appointment(slot=slot, actor=citizen)
        api_client.force_authenticate(citizen)
        assert len(api_client.get("/api/v1/appointments/").json()) == 1
        assert api_client.get("/api/v1/appointments/", {"hall": live_hall.code}).status_code == 404
        api_client.force_authenticate(clerk_for(live_hall))
        staff = api_client.get("/api/v1/appointments/", {"hall": live_hall.code, "date": slot.date.isoformat()})
        assert len(staff.json()) == 1


@pytest.mark.django_db
class TestCheckIn:
    def test_check_in_gives_a_priority_ticket_called_first(
        self, api_client, live_hall, citizen, clerk_for, mid_morning
    ):
        slot = _slot_around_now(live_hall, starts_in_minutes=20)
        appointment = actions.book_appointment(slot=slot, actor=citizen)
        walk_in = actions.issue_ticket(hall=live_hall, category="A", actor=None).ticket
        api_client.force_authenticate(citizen)
        response = api_client.post(f"/api/v1/appointments/{appointment.pk}/check-in/")
        assert response.status_code == 201, response.content
        assert response.json()["priority"] == TicketPriority.APPOINTMENT
        assert response.json()["position"] == 1
        appointment.refresh_from_db()
        assert appointment.status == AppointmentStatus.CHECKED_IN
        assert appointment.ticket.applicant == citizen
        clerk = clerk_for(live_hall, "2")
        called = actions.call_next(window=Window.objects.get(hall=live_hall, number="2"), actor=clerk)
        assert called.pk == appointment.ticket_id != walk_in.pk
        again = api_client.post(f"/api/v1/appointments/{appointment.pk}/check-in/")
        assert again.status_code == 409 and again.json()["state"] == "checked_in"
        assert QueueTicket.objects.count() == 2

    def test_check_in_too_early_refused(self, api_client, live_hall, citizen):
        # The working day after the next one: "+1 calendar day" is a Saturday whenever today is a
        # Thursday (or a holiday follows), and a hall opens no slots then.
        slot = actions.ensure_slots(hall=live_hall, day=_working_day_after(_next_working_day()))[0]
        appointment = actions.book_appointment(slot=slot, actor=citizen)
        api_client.force_authenticate(citizen)
        response = api_client.post(f"/api/v1/appointments/{appointment.pk}/check-in/")
        assert response.status_code == 409
        assert Appointment.objects.get(pk=appointment.pk).status == AppointmentStatus.BOOKED
        assert not QueueTicket.objects.exists()


@pytest.mark.django_db
class TestNoShows:
    def test_sweep_marks_missed_bookings_and_limit_blocks_booking(self, live_hall, citizen):
        slots = actions.ensure_slots(hall=live_hall, day=_next_working_day())
        booked = actions.book_appointment(slot=slots[0], actor=citizen)
        later = timezone.make_aware(dt.datetime.combine(slots[0].date, slots[0].end)) + dt.timedelta(minutes=16)
        assert actions.mark_no_shows(now=later - dt.timedelta(minutes=2)) == 0
        assert actions.mark_no_shows(now=later) == 1
        assert actions.mark_no_shows(now=later) == 0  # idempotent
        assert Appointment.objects.get(pk=booked.pk).status == AppointmentStatus.NO_SHOW
        # Two more recorded no-shows reach the limit of three in 90 days.
        for slot in slots[1:3]:
            Appointment.objects.create(
                slot=slot,
                hall=live_hall,
                date=slot.date - dt.timedelta(days=10),
                category=slot.category,
                applicant=citizen,
                status=AppointmentStatus.NO_SHOW,
            )
        from django.core.exceptions import PermissionDenied

        with pytest.raises(PermissionDenied):
            actions.book_appointment(slot=slots[4], actor=citizen)
        assert AppointmentSlot.objects.get(pk=slots[4].pk).booked == 0

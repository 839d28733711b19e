"""预约办事 and 远程取号 for citizens: pick a hall (nearest first, from the map's hall index), an
item, a day and a slot; cancel; take a queue ticket remotely and watch its position. Every write is
one halls action; the booking rules (capacity, one booking per hall and day, no-show limit) are
theirs."""

from __future__ import annotations

import datetime as dt
from typing import Any

from django.contrib import messages
from django.core.exceptions import PermissionDenied, ValidationError
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.utils.translation import gettext as _
from django.views.decorators.http import require_GET, require_http_methods, require_POST

from citizen_portal import actions as portal_actions
from citizen_portal import selectors
from citizen_portal.views import _messages, _user, citizen_required
from core.errors import Conflict
from core.phones import national
from halls import actions as hall_actions
from halls import live_selectors, queue
from halls.models import AppointmentSlot, Hall, HallType, QueueTicket
from services.models import Item
from workdays import calendar

# Where "nearest" is measured from when the visitor gave no position: 贵阳 (the provincial centre).
DEFAULT_POSITION = (26.6470, 106.6302)


def _position(request: HttpRequest) -> tuple[float, float, str]:
    """The point halls are sorted from: the browser's position, else the chosen city site's centre
    hall, else the county of the citizen's household registration, else 贵阳."""
    try:
        lat, lon = float(request.GET["lat"]), float(request.GET["lon"])
        if -90 <= lat <= 90 and -180 <= lon <= 180:
            return lat, lon, _("您的位置")
    except (KeyError, ValueError):
        pass
    site = selectors.city_site(request.GET.get("site", "")) if request.GET.get("site") else None
    if site is not None and site.hall is not None:
        return site.hall.lat, site.hall.lon, site.hall.name
    home = selectors.home_region(request.user)
    if home is not None and home.lat is not None and home.lon is not None:
        return home.lat, home.lon, home.name
    return DEFAULT_POSITION[0], DEFAULT_POSITION[1], _("贵阳市")


def _item(code: str) -> Item | None:
    return Item.objects.filter(code=code, is_active=True).first() if code else None


@citizen_required
@require_GET
def book(request: HttpRequest) -> HttpResponse:
    """Step 1: the halls nearest first (kiosks cannot be booked)."""
    lat, lon, origin = _position(request)
    item = _item(request.GET.get("item", ""))
    try:
        near = live_selectors.nearest_halls(lat=lat, lon=lon, k=15, item=item.code if item else None)
    except (ValueError, ValidationError):
        near = []
    near = [h for h in near if h["type"] != HallType.KIOSK][:10]
    return render(
        request,
        "citizen_portal/book_halls.html",
        {"halls": near, "origin": origin, "item": item, "sites": selectors.city_sites()},
    )


def _days(today: dt.date) -> list[dt.date]:
    return [
        today + dt.timedelta(days=i)
        for i in range(hall_actions.booking_horizon_days() + 1)
        if calendar.is_workday(today + dt.timedelta(days=i))
    ]


def _parse_day(raw: str, days: list[dt.date]) -> dt.date | None:
    try:
        day = dt.date.fromisoformat(raw)
    except ValueError:
        return None
    return day if day in days else None


def _hall_context(request: HttpRequest, hall: Hall, data: Any, errors: list[str]) -> dict[str, Any]:
    days = _days(queue.service_day())
    day = _parse_day(data.get("day", ""), days) or (days[0] if days else None)
    slots = live_selectors.slots_for(hall=hall, day=day) if day else []
    categories = queue.hall_categories(hall)
    names = {c["code"]: c["name"] for c in categories}
    by_category: dict[str, list[AppointmentSlot]] = {}
    for s in slots:
        by_category.setdefault(s.category, []).append(s)
    groups: list[dict[str, Any]] = [
        {"code": code, "name": names.get(code, code), "slots": rows} for code, rows in by_category.items()
    ]
    suggestions: list[Any] = []
    if day is not None:
        # A queue fully booked that day: "a hall nearby has free slots".
        for code, rows in by_category.items():
            if not any(s.free for s in rows):
                suggestions += live_selectors.nearby_free_slots(hall=hall, day=day, category=code)
    return {
        "hall": hall,
        "days": days,
        "day": day,
        "groups": groups,
        "categories": categories,
        "items": Item.objects.filter(is_active=True).only("code", "name").order_by("code"),
        "item_code": data.get("item", ""),
        "phone": data.get("phone", "") or national(_user(request).phone),
        "errors": errors,
        "suggestions": suggestions,
    }


@citizen_required
@require_http_methods(["GET", "POST"])
def book_hall(request: HttpRequest, code: str) -> HttpResponse:
    """Steps 2–4 at one hall: item, day, slot; POST books it."""
    hall = get_object_or_404(Hall, code=code, is_active=True)
    if request.method == "GET":
        return render(request, "citizen_portal/book_hall.html", _hall_context(request, hall, request.GET, []))
    p = request.POST
    slot = (
        AppointmentSlot.objects.filter(pk=p.get("slot") or 0, hall=hall).first()
        if p.get("slot", "").isdigit()
        else None
    )
    item = _item(p.get("item", ""))
    try:
        if slot is None:
            raise ValidationError({"slot": [_("请选择预约时段。")]})
        if p.get("item") and item is None:
            raise ValidationError({"item": [_("未知的事项。")]})
        appointment = hall_actions.book_appointment(
            slot=slot, actor=_user(request), phone=p.get("phone", ""), item_id=item.pk if item else None
        )
    except hall_actions.SlotFull as exc:
        ctx = _hall_context(request, hall, p, [str(exc.detail)])
        ctx["suggestions"] = live_selectors.nearby_free_slots(
            hall=hall, day=exc.slot.date, category=exc.slot.category, after=exc.slot.start
        )
        return render(request, "citizen_portal/book_hall.html", ctx, status=409)
    except Conflict as exc:
        return render(
            request, "citizen_portal/book_hall.html", _hall_context(request, hall, p, [str(exc.detail)]), status=409
        )
    except ValidationError as exc:
        return render(
            request, "citizen_portal/book_hall.html", _hall_context(request, hall, p, _messages(exc)), status=400
        )
    except PermissionDenied as exc:
        return render(request, "citizen_portal/book_hall.html", _hall_context(request, hall, p, [str(exc)]), status=403)
    messages.success(
        request,
        _("预约成功：%(date)s %(start)s–%(end)s，%(hall)s。前一天会短信提醒您。")
        % {
            "date": appointment.date.isoformat(),
            "start": slot.start.strftime("%H:%M"),
            "end": slot.end.strftime("%H:%M"),
            "hall": hall.name,
        },
    )
    return redirect("citizen_portal:my-appointments")


@citizen_required
@require_GET
def my_appointments(request: HttpRequest) -> HttpResponse:
    user = _user(request)
    appointments = list(live_selectors.appointments_of(user=user).select_related("item")[:50])
    tickets = list(
        QueueTicket.objects.filter(applicant=user, service_date=queue.service_day())
        .select_related("hall")
        .order_by("-issued_at")
    )
    return render(request, "citizen_portal/my_appointments.html", {"appointments": appointments, "tickets": tickets})


@citizen_required
@require_POST
def cancel_appointment(request: HttpRequest, pk: int) -> HttpResponse:
    try:
        hall_actions.cancel_appointment(appointment_id=pk, actor=_user(request))
    except Conflict as exc:
        messages.error(request, str(exc.detail))
        return redirect("citizen_portal:my-appointments")
    messages.success(request, _("预约已取消。"))
    return redirect("citizen_portal:my-appointments")


@citizen_required
@require_POST
def take_ticket(request: HttpRequest, code: str) -> HttpResponse:
    hall = get_object_or_404(Hall, code=code, is_active=True)
    try:
        issued = portal_actions.take_remote_ticket(
            hall=hall, category=request.POST.get("category", ""), citizen=_user(request)
        )
    except (ValidationError, PermissionDenied) as exc:
        errors = _messages(exc) if isinstance(exc, ValidationError) else [str(exc)]
        return render(
            request, "citizen_portal/book_hall.html", _hall_context(request, hall, request.POST, errors), status=400
        )
    return redirect("citizen_portal:my-ticket", pk=issued.ticket.pk)


@citizen_required
@require_GET
def my_ticket(request: HttpRequest, pk: int) -> HttpResponse:
    ticket = QueueTicket.objects.select_related("hall", "window").filter(pk=pk, applicant=_user(request)).first()
    if ticket is None:
        raise Http404
    ahead = queue.waiting_ahead(ticket)
    return render(
        request,
        "citizen_portal/my_ticket.html",
        {
            "ticket": ticket,
            "position": ahead + 1 if ticket.status == "waiting" else 0,
            "wait_min": round(queue.estimate_wait_seconds(ticket.hall_id, ticket.category, ahead) / 60),
        },
    )

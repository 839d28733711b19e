"""Reads of the live side: slots, appointments, per-hall live figures and the nearest-hall index.

The nearest-hall index lives in memory in every worker (govmap.spatial). Its version is a counter
in the shared cache, bumped whenever a hall or window changes through the ORM, combined with a
fingerprint of the hall table checked every few seconds, which also catches bulk loads
(`load_demo`) and changes made by another process when the cache is per-process (locmem).
"""

from __future__ import annotations

import datetime as dt
import threading
import time
from collections import OrderedDict
from typing import Any, TypedDict

import numpy as np
from django.conf import settings
from django.core.cache import cache
from django.db.models import Count, Max, QuerySet, Sum
from django.db.models.signals import m2m_changed, post_delete, post_save

from govmap.spatial import Neighbour, PointIndex, VersionedIndex, validate_lat_lon
from halls import queue
from halls.models import (
    Appointment,
    AppointmentSlot,
    AppointmentStatus,
    Hall,
    HallType,
    Window,
)

# --- appointments ----------------------------------------------------------------------------------


def slots_for(*, hall: Hall, day: dt.date, category: str | None = None) -> list[AppointmentSlot]:
    """The day's slots at a hall (opened on first look within the booking horizon)."""
    from halls.actions import ensure_slots

    slots = ensure_slots(hall=hall, day=day)
    if category:
        slots = [s for s in slots if s.category == category.upper()]
    return slots


def appointments_of(*, user: Any) -> QuerySet[Appointment]:
    return (
        Appointment.objects.filter(applicant=user)
        .select_related("hall", "slot", "ticket")
        .order_by("-date", "-slot__start")
    )


def appointments_at(*, hall: Hall, day: dt.date) -> QuerySet[Appointment]:
    return (
        Appointment.objects.filter(hall=hall, date=day)
        .select_related("hall", "slot", "ticket")
        .order_by("slot__start", "id")
    )


def appointments_today_counts(hall_ids: list[int] | None = None, *, day: dt.date | None = None) -> dict[int, int]:
    """Live bookings (booked or checked in) today per hall, in one GROUP BY."""
    qs = Appointment.objects.filter(
        date=day or queue.service_day(), status__in=[AppointmentStatus.BOOKED, AppointmentStatus.CHECKED_IN]
    )
    return queue.count_per_hall(qs, hall_ids)


class SlotSuggestion(TypedDict):
    hall: str
    name: str
    type: str
    distance_m: int
    slot: int
    date: str
    start: str
    end: str
    category: str
    free: int


def nearby_free_slots(
    *, hall: Hall, day: dt.date, category: str, after: dt.time | None = None, k: int = 3, radius_m: float = 30_000
) -> list[SlotSuggestion]:
    """ "A hall nearby has free slots": the nearest other halls (same day, same queue) with room.

    Looks at up to 12 nearest halls within `radius_m` that take appointments; for each, the first
    slot of `category` starting at or after `after` with a free place.
    """
    index = hall_index()
    out: list[SlotSuggestion] = []
    mask = index.labels["takes_tickets"].astype(bool)
    candidates = [
        near
        for near in index.nearest(hall.lat, hall.lon, k=13, mask=mask)
        if near.id != hall.pk and near.distance_m <= radius_m
    ]
    # One query for every candidate instead of one per neighbour.
    others = Hall.objects.filter(is_active=True).in_bulk([near.id for near in candidates])
    for near in candidates:
        other = others.get(near.id)
        if other is None:
            continue
        slots = [s for s in slots_for(hall=other, day=day, category=category) if s.free > 0]
        if after is not None:
            slots = [s for s in slots if s.start >= after] or slots
        if not slots:
            continue
        s = slots[0]
        out.append(
            SlotSuggestion(
                hall=other.code,
                name=other.name,
                type=other.type,
                distance_m=round(near.distance_m),
                slot=s.pk,
                date=s.date.isoformat(),
                start=s.start.strftime("%H:%M"),
                end=s.end.strftime("%H:%M"),
                category=s.category,
                free=s.free,
            )
        )
        if len(out) >= k:
            break
    return out


# --- the nearest-hall index ------------------------------------------------------------------------

VERSION_KEY = "halls:spatial-index:version"
_fingerprint_lock = threading.Lock()
_fingerprint: tuple[float, str] = (0.0, "")


def _recheck_seconds() -> float:
    return float(settings.SPATIAL_INDEX_RECHECK_SECONDS)


def bump_hall_index_version(**_kwargs: Any) -> None:
    """Tell every worker that halls changed (cheap; call after bulk writes that skip signals)."""
    global _fingerprint
    try:
        cache.incr(VERSION_KEY)
    except ValueError:
        cache.set(VERSION_KEY, 1, None)
    with _fingerprint_lock:
        _fingerprint = (0.0, "")
    _item_cache.clear()


def _table_fingerprint() -> str:
    row = Hall.objects.filter(is_active=True).aggregate(n=Count("id"), m=Max("id"), la=Sum("lat"), lo=Sum("lon"))
    types = Hall.objects.filter(is_active=True).values("type").annotate(n=Count("id")).order_by("type")
    windows = Window.objects.aggregate(n=Count("id"), m=Max("id"))
    by_type = ",".join(f"{t['type']}={t['n']}" for t in types)
    return (
        f"{row['n']}:{row['m']}:{(row['la'] or 0):.6f}:{(row['lo'] or 0):.6f}:{by_type}:{windows['n']}:{windows['m']}"
    )


def hall_index_version() -> str:
    global _fingerprint
    counter = cache.get(VERSION_KEY) or 0
    checked_at, fp = _fingerprint
    now = time.monotonic()
    if not fp or now - checked_at > _recheck_seconds():
        with _fingerprint_lock:
            checked_at, fp = _fingerprint
            if not fp or now - checked_at > _recheck_seconds():
                fp = _table_fingerprint()
                _fingerprint = (now, fp)
    return f"{counter}|{fp}"


def _load_hall_index(version: str) -> PointIndex:
    rows = list(Hall.objects.filter(is_active=True).order_by("id").values_list("id", "lat", "lon", "type"))
    ids = np.fromiter((r[0] for r in rows), dtype=np.int64, count=len(rows))
    lat = np.fromiter((r[1] for r in rows), dtype=np.float64, count=len(rows))
    lon = np.fromiter((r[2] for r in rows), dtype=np.float64, count=len(rows))
    types = np.array([r[3] for r in rows], dtype=object)
    takes = types != HallType.KIOSK.value
    _item_cache.clear()
    return PointIndex(ids=ids, lat=lat, lon=lon, labels={"type": types, "takes_tickets": takes}, version=version)


_hall_index = VersionedIndex("halls", _load_hall_index, hall_index_version)


def hall_index() -> PointIndex:
    return _hall_index.get()


# Which halls take an item: a query over windows, cached per item until the index version changes.
class _LRU:
    def __init__(self, size: int) -> None:
        self.size = size
        self.data: OrderedDict[tuple[str, str], frozenset[int]] = OrderedDict()
        self.lock = threading.Lock()

    def get(self, key: tuple[str, str]) -> frozenset[int] | None:
        with self.lock:
            value = self.data.get(key)
            if value is not None:
                self.data.move_to_end(key)
            return value

    def put(self, key: tuple[str, str], value: frozenset[int]) -> None:
        with self.lock:
            self.data[key] = value
            self.data.move_to_end(key)
            while len(self.data) > self.size:
                self.data.popitem(last=False)

    def clear(self) -> None:
        with self.lock:
            self.data.clear()


_item_cache = _LRU(256)


def hall_ids_for_item(item_code: str, *, version: str = "") -> frozenset[int]:
    """Ids of active halls with a window that takes the item (ValidationError if unknown)."""
    key = (version, item_code)
    found = _item_cache.get(key)
    if found is None:
        from halls.selectors import halls_for

        found = frozenset(halls_for(item=item_code).values_list("id", flat=True))
        _item_cache.put(key, found)
    return found


class NearestHall(TypedDict):
    code: str
    name: str
    type: str
    lat: float
    lon: float
    distance_m: float
    queue_waiting: int


def nearest_halls(
    *, lat: float, lon: float, k: int = 5, type: str | None = None, item: str | None = None
) -> list[NearestHall]:
    """The k nearest active halls to (lat, lon), nearest first, with great-circle metres.

    Raises ValueError for coordinates out of range; ValidationError for an unknown type or item.
    """
    validate_lat_lon(lat, lon)
    index = hall_index()
    ids = hall_ids_for_item(item, version=index.version) if item else None
    if type:
        from halls.selectors import resolve_type

        resolve_type(type)
    mask = index.mask_for(ids=ids, type=type or None) if (ids is not None or type) else None
    found: list[Neighbour] = index.nearest(lat, lon, k=k, mask=mask)
    if not found:
        return []
    found_ids = [n.id for n in found]
    rows = {
        h["id"]: h for h in Hall.objects.filter(pk__in=found_ids).values("id", "code", "name", "type", "lat", "lon")
    }
    waiting = queue.waiting_counts(found_ids)
    out: list[NearestHall] = []
    for n in found:
        h = rows.get(n.id)
        if h is None:  # deleted since the index was built; the next version check drops it
            continue
        out.append(
            NearestHall(
                code=h["code"],
                name=h["name"],
                type=h["type"],
                lat=h["lat"],
                lon=h["lon"],
                distance_m=round(n.distance_m, 1),
                queue_waiting=waiting.get(n.id, 0),
            )
        )
    return out


# Halls and windows changed through the ORM: every worker rebuilds on its next request.
for _model in (Hall, Window):
    post_save.connect(bump_hall_index_version, sender=_model, dispatch_uid=f"halls-index-save-{_model.__name__}")
    post_delete.connect(bump_hall_index_version, sender=_model, dispatch_uid=f"halls-index-delete-{_model.__name__}")
m2m_changed.connect(bump_hall_index_version, sender=Window.items.through, dispatch_uid="halls-index-window-items")

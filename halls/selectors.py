"""Reads of the hall registry shared by the API, the workflow engine, the map and tasks.

The registry is public information (every hall, its hours and windows are published on the map),
so these selectors are not scoped by the caller's jurisdiction; what a clerk may DO at a hall is
decided by their posts (``halls.scope``), not by what they may see here.

"A window takes an item" means: the window is an intake window (通办 or general intake) and
either lists the item explicitly, or lists no items at all and its kinds allow the item —
general intake allows every item, 通办 intake allows the items open to 异地代收代办 (``Item.proxy``).
An empty item list therefore stands for "everything the kinds allow" (see ``Window.items``).
"""

from __future__ import annotations

import re

from django.core.exceptions import ValidationError
from django.db.models import Exists, OuterRef, Prefetch, Q, QuerySet
from django.db.models.functions import Length
from django.utils.translation import gettext as _

from govmap.models import Region, RegionLevel
from halls.models import Hall, HallType, Window
from services.models import Item

ADCODE_RE = re.compile(r"^\d{6}$")
WINDOW_ORDER = (Length("number"), "number")  # "2" before "10"


# --------------------------------------------------------------------------------------------
# Filter arguments: accept objects or codes, refuse bad values with a clear field error
# --------------------------------------------------------------------------------------------


def resolve_region(region: Region | str) -> Region:
    """The Region for an adcode (any level); ValidationError if malformed or unknown."""
    if isinstance(region, Region):
        return region
    adcode = str(region).strip()
    if not ADCODE_RE.match(adcode):
        raise ValidationError({"region": [_("行政区划代码应为6位数字（GB/T 2260），收到：%(v)s") % {"v": adcode}]})
    found = Region.objects.filter(adcode=adcode).only("adcode", "level", "name").first()
    if found is None:
        raise ValidationError({"region": [_("未知的行政区划代码：%(v)s") % {"v": adcode}]})
    return found


def resolve_type(type: str) -> str:
    if type not in HallType.values:
        raise ValidationError(
            {"type": [_("未知的场所类型：%(v)s，可选：%(c)s") % {"v": type, "c": ", ".join(HallType.values)}]}
        )
    return type


def resolve_item(item: Item | str) -> Item:
    if isinstance(item, Item):
        return item
    code = str(item).strip()
    found = Item.objects.filter(code=code).only("id", "code", "name", "proxy", "online", "joint").first()
    if found is None:
        raise ValidationError({"item": [_("未知的事项编码：%(v)s") % {"v": code}]})
    return found


def region_q(region: Region | str, field: str = "region__adcode") -> Q:
    """Halls (or anything with a county adcode in `field`) under a region of any level."""
    r = resolve_region(region)
    if r.level == RegionLevel.PROVINCE:
        return Q(**{f"{field}__startswith": r.adcode[:2]})
    if r.level == RegionLevel.CITY:
        return Q(**{f"{field}__startswith": r.adcode[:4]})
    return Q(**{field: r.adcode})


# --------------------------------------------------------------------------------------------
# Windows
# --------------------------------------------------------------------------------------------


def window_takes_item_q(item: Item) -> Q:
    """A filter on Window: intake windows that take `item` (explicitly or by their kinds)."""
    through = Window.items.through
    listed = Exists(through.objects.filter(window_id=OuterRef("pk"), item_id=item.pk))
    has_list = Exists(through.objects.filter(window_id=OuterRef("pk")))
    by_kind = Q(general_intake=True) | Q(tongban_intake=True) if item.proxy else Q(general_intake=True)
    intake = Q(general_intake=True) | Q(tongban_intake=True)
    return intake & (Q(listed) | (~Q(has_list) & by_kind))


def window_takes_item(window: Window, item: Item) -> bool:
    """Python twin of window_takes_item_q for a window already in memory (one query at most)."""
    if not (window.general_intake or window.tongban_intake):
        return False
    item_ids = {i.pk for i in window.items.all()}
    if item_ids:
        return item.pk in item_ids
    return window.general_intake or (window.tongban_intake and item.proxy)


def tongban_intake_windows(hall: Hall | int, item: Item | str | None = None) -> QuerySet[Window]:
    """The hall's 通办 intake windows, in number order; with `item`, those that take it.

    A proxy (异地代收) case for an item can only be received where this is non-empty; an item that
    is not open to proxy handling gets no window at all.
    """
    qs = Window.objects.filter(hall=hall, tongban_intake=True)
    if item is not None:
        it = resolve_item(item)
        if not it.proxy:
            return Window.objects.none()
        qs = qs.filter(window_takes_item_q(it))
    return qs.order_by(*WINDOW_ORDER)


def can_receive_proxy(hall: Hall, item: Item | str) -> bool:
    """Can this hall receive a proxy (通办) case for this item?"""
    return hall.is_active and tongban_intake_windows(hall, item).exists()


def issuing_windows(hall: Hall | int) -> QuerySet[Window]:
    """The hall's issuing windows (print results, 就近打证), in number order."""
    return Window.objects.filter(hall=hall, issuing=True).order_by(*WINDOW_ORDER)


def first_issuing_window(hall: Hall | int) -> Window | None:
    """Where a result for pickup at this hall is routed by default (None: the hall cannot print)."""
    return issuing_windows(hall).first()


# --------------------------------------------------------------------------------------------
# Halls
# --------------------------------------------------------------------------------------------


def halls_for(
    region: Region | str | None = None,
    type: str | None = None,
    item: Item | str | None = None,
    *,
    active_only: bool = True,
) -> QuerySet[Hall]:
    """Halls under a region (any level), of a type, with a window that takes an item.

    Raises ValidationError (field-keyed) for a malformed or unknown region, an unknown type or
    an unknown item code.
    """
    qs = Hall.objects.all()
    if active_only:
        qs = qs.filter(is_active=True)
    if region not in (None, ""):
        qs = qs.filter(region_q(region))  # type: ignore[arg-type]
    if type not in (None, ""):
        qs = qs.filter(type=resolve_type(type))  # type: ignore[arg-type]
    if item not in (None, ""):
        it = resolve_item(item)  # type: ignore[arg-type]
        qs = qs.filter(Exists(Window.objects.filter(hall_id=OuterRef("pk")).filter(window_takes_item_q(it))))
    return qs


def halls_with_issuing_window(
    region: Region | str | None = None,
    type: str | None = None,
    item: Item | str | None = None,
    *,
    active_only: bool = True,
) -> QuerySet[Hall]:
    """halls_for(...) restricted to halls that can print results (delivery halls)."""
    return halls_for(region, type, item, active_only=active_only).filter(
        Exists(Window.objects.filter(hall_id=OuterRef("pk"), issuing=True))
    )


def with_windows(qs: QuerySet[Hall]) -> QuerySet[Hall]:
    """Prefetch windows in number order (one extra query for the whole page, no N+1)."""
    return qs.prefetch_related(
        Prefetch(
            "windows",
            queryset=Window.objects.only(
                "id", "hall_id", "number", "tongban_intake", "general_intake", "issuing", "consultation"
            ).order_by(*WINDOW_ORDER),
        )
    )


def hall_by_code(code: str, *, active_only: bool = False) -> Hall:
    """One hall with its windows; Hall.DoesNotExist if there is none."""
    qs = Hall.objects.all()
    if active_only:
        qs = qs.filter(is_active=True)
    return with_windows(qs).get(code=code)

"""Queue categories (叫号业务类别) a hall offers, derived from the kinds of its windows.

One list shared by the hall API (``queue_categories`` in the hall detail), the queue tickets and
the live boards, so a ticket's category letter means the same thing everywhere.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass

from django.utils.functional import Promise
from django.utils.translation import gettext_lazy as _

from halls.models import HallType, Window, WindowKind


@dataclass(frozen=True)
class QueueCategory:
    code: str  # the letter printed before the ticket number (A012)
    name: str | Promise
    # The window kind that serves tickets of this category.
    window_kind: str


# Order is the order on the ticket machine's screen.
QUEUE_CATEGORIES: tuple[QueueCategory, ...] = (
    QueueCategory("A", _("综合业务"), WindowKind.GENERAL_INTAKE.value),
    QueueCategory("B", _("通办业务"), WindowKind.TONGBAN_INTAKE.value),
    QueueCategory("C", _("出件领证"), WindowKind.ISSUING.value),
    QueueCategory("D", _("咨询"), WindowKind.CONSULTATION.value),
)
CATEGORIES_BY_CODE: dict[str, QueueCategory] = {c.code: c for c in QUEUE_CATEGORIES}


def categories_for_kinds(kinds: Iterable[str], *, hall_type: str | None = None) -> list[QueueCategory]:
    """The categories served by windows with these kinds (self-service kiosks take no tickets)."""
    if hall_type == HallType.KIOSK:
        return []
    present = set(kinds)
    return [c for c in QUEUE_CATEGORIES if c.window_kind in present]


def categories_for_windows(windows: Iterable[Window], *, hall_type: str | None = None) -> list[QueueCategory]:
    kinds: set[str] = set()
    for w in windows:
        kinds.update(w.kinds)
    return categories_for_kinds(kinds, hall_type=hall_type)


def windows_serving(category_code: str, windows: Iterable[Window]) -> list[Window]:
    """The windows that call tickets of a category (unknown code → none)."""
    category = CATEGORIES_BY_CODE.get(category_code)
    if category is None:
        return []
    return [w for w in windows if getattr(w, category.window_kind)]

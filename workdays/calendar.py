"""Chinese working days (工作日): the one calendar for case clocks, appointment slots and deadlines.

Order of authority for a date:
1. an admin-entered ``HolidayOverride`` row (the State Council publishes next year's schedule each
   November, long before a new chinese-calendar release reaches production);
2. the ``chinese-calendar`` package (covers 2004 up to its last bundled year and raises beyond);
3. Monday-Friday. This fallback is wrong around holidays, so a Django system check
   (``workdays.checks``) warns loudly whenever the current or next year has no data.

Deadlines are the END of a working day in the project's time zone: an application submitted on a
Friday with a limit of 5 working days is due at 23:59:59 of the fifth working day after that Friday
(the day the period starts on is not counted, as 行政许可法 第八十二条 and the civil rules on periods
say).
"""

from __future__ import annotations

import datetime as dt
import functools
import math
import threading
import time
from collections.abc import Iterable
from zoneinfo import ZoneInfo

import chinese_calendar
from django.conf import settings
from django.utils import timezone

_lock = threading.Lock()
# year -> (loaded at, {date: is_workday}); filled lazily from HolidayOverride rows, dropped when a
# row changes in this process, and reloaded after OVERRIDE_TTL so other processes see edits too.
_override_cache: dict[int, tuple[float, dict[dt.date, bool]]] = {}
OVERRIDE_TTL = 300.0


def _package_years() -> tuple[int, int]:
    years = {d.year for d in chinese_calendar.constants.holidays} | {
        d.year for d in chinese_calendar.constants.workdays
    }
    return min(years), max(years)


PACKAGE_FIRST_YEAR, PACKAGE_LAST_YEAR = _package_years()


def invalidate_overrides(year: int | None = None) -> None:
    """Forget cached overrides (called when an admin saves or deletes a HolidayOverride)."""
    with _lock:
        if year is None:
            _override_cache.clear()
        else:
            _override_cache.pop(year, None)


def _overrides_for(year: int) -> dict[dt.date, bool]:
    cached = _override_cache.get(year)
    if cached is not None and time.monotonic() - cached[0] < OVERRIDE_TTL:
        return cached[1]
    from workdays.models import HolidayOverride

    rows = dict(HolidayOverride.objects.filter(date__year=year).values_list("date", "is_workday"))
    with _lock:
        _override_cache[year] = (time.monotonic(), rows)
    return rows


def package_covers(year: int) -> bool:
    return PACKAGE_FIRST_YEAR <= year <= PACKAGE_LAST_YEAR


def year_has_data(year: int) -> bool:
    """True when the package covers the year or an admin has entered overrides for it."""
    return package_covers(year) or bool(_overrides_for(year))


@functools.lru_cache(maxsize=4096)
def _package_workday(day: dt.date) -> bool:
    # The package's bundled data never changes in a running process: every deadline walks the same
    # few weeks of days, so look each one up once (overrides are consulted before this, uncached).
    return bool(chinese_calendar.is_workday(day))


def is_workday(day: dt.date) -> bool:
    override = _overrides_for(day.year).get(day)
    if override is not None:
        return override
    if package_covers(day.year):
        return _package_workday(day)
    # No published schedule known: Monday-Friday (the system check warns about this year).
    return day.weekday() < 5


def add_working_days(start: dt.date, days: int) -> dt.date:
    """The date of the ``days``-th working day after ``start`` (``start`` itself is not counted)."""
    if days < 0:
        raise ValueError("days must be >= 0")
    day = start
    counted = 0
    while counted < days:
        day += dt.timedelta(days=1)
        if is_workday(day):
            counted += 1
    return day


def working_days_between(start: dt.date, end: dt.date) -> int:
    """Working days in the half-open interval (start, end]: 0 when end <= start."""
    if end <= start:
        return 0
    count = 0
    day = start
    while day < end:
        day += dt.timedelta(days=1)
        if is_workday(day):
            count += 1
    return count


def _tz() -> ZoneInfo:
    return ZoneInfo(settings.TIME_ZONE)


def local_date(moment: dt.datetime) -> dt.date:
    return timezone.localtime(moment, _tz()).date()


def end_of_day(day: dt.date) -> dt.datetime:
    """23:59:59.999999 of ``day`` in the project's time zone (a deadline is inclusive of its day)."""
    return dt.datetime.combine(day, dt.time.max, tzinfo=_tz())


def deadline(start: dt.datetime, days: int) -> dt.datetime:
    """End of the ``days``-th working day after the (local) date of ``start``."""
    return end_of_day(add_working_days(local_date(start), days))


def warning_days(committed_days: int) -> int:
    """Working days after which a case turns yellow: 80% of the committed limit, rounded up."""
    return max(1, math.ceil(committed_days * 0.8))


def years_without_data(years: Iterable[int]) -> list[int]:
    return [y for y in years if not year_has_data(y)]

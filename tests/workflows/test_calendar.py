"""Working days across the 2026 holidays with their make-up days, and a year with no data."""

from __future__ import annotations

import datetime as dt

import pytest

from workdays import calendar
from workdays.checks import check_holiday_data
from workdays.models import HolidayOverride

D = dt.date


@pytest.mark.parametrize(
    ("day", "workday"),
    [
        (D(2026, 2, 13), True),  # Friday before Spring Festival
        (D(2026, 2, 14), True),  # Saturday, make-up working day (调休上班)
        (D(2026, 2, 15), False),  # Spring Festival holiday 15..23
        (D(2026, 2, 17), False),
        (D(2026, 2, 23), False),
        (D(2026, 2, 24), True),
        (D(2026, 2, 28), True),  # Saturday, make-up working day
        (D(2026, 3, 1), False),
        (D(2026, 9, 20), True),  # Sunday, make-up for National Day
        (D(2026, 10, 1), False),
        (D(2026, 10, 7), False),
        (D(2026, 10, 8), True),
        (D(2026, 10, 10), True),  # Saturday, make-up working day
        (D(2026, 10, 11), False),
    ],
)
def test_2026_schedule(db, day, workday):
    assert calendar.is_workday(day) is workday


def test_five_working_days_across_spring_festival(db):
    # Submitted Thu 12 Feb: Fri 13, Sat 14 (make-up), then the holiday, Tue 24, Wed 25, Thu 26.
    assert calendar.add_working_days(D(2026, 2, 12), 5) == D(2026, 2, 26)
    # From Fri 13: Sat 14, Tue 24, Wed 25, Thu 26, Fri 27.
    assert calendar.add_working_days(D(2026, 2, 13), 5) == D(2026, 2, 27)
    # Submitted during the holiday: the first working day after it is the first counted.
    assert calendar.add_working_days(D(2026, 2, 18), 1) == D(2026, 2, 24)
    assert calendar.working_days_between(D(2026, 2, 13), D(2026, 3, 2)) == 7


def test_working_days_across_national_day(db):
    # Wed 30 Sep + 3: Thu 8 Oct, Fri 9, Sat 10 (make-up).
    assert calendar.add_working_days(D(2026, 9, 30), 3) == D(2026, 10, 10)
    # Sat 19 Sep + 1 is Sun 20 (make-up working day).
    assert calendar.add_working_days(D(2026, 9, 19), 1) == D(2026, 9, 20)


def test_deadline_is_end_of_day_in_local_time(db):
    start = dt.datetime(2026, 2, 12, 1, 0, tzinfo=dt.UTC)  # 09:00 in Shanghai
    due = calendar.deadline(start, 5)
    assert due.date() == D(2026, 2, 26) and (due.hour, due.minute) == (23, 59)
    assert str(due.tzinfo) == "Asia/Shanghai"


def test_year_without_data_falls_back_to_weekdays_and_warns(db, settings):
    assert not calendar.package_covers(2027)
    assert calendar.is_workday(D(2027, 2, 8))  # a Monday: fallback says workday
    assert not calendar.is_workday(D(2027, 2, 6))  # a Saturday
    # "Now" is in 2026: the next year, 2027, has no data → a warning naming it.
    warnings = [m for m in check_holiday_data() if m.id == "workflows.W001"]
    assert warnings and "2027" in warnings[0].msg


def test_admin_overrides_fill_a_missing_year_and_silence_the_check(db):
    HolidayOverride.objects.create(date=D(2027, 2, 8), is_workday=False, note="春节")
    HolidayOverride.objects.create(date=D(2027, 2, 6), is_workday=True, note="调休上班")
    assert not calendar.is_workday(D(2027, 2, 8))
    assert calendar.is_workday(D(2027, 2, 6))
    assert calendar.add_working_days(D(2027, 2, 5), 2) == D(2027, 2, 9)  # Sat 6 (make-up), Tue 9
    assert not [m for m in check_holiday_data() if "2027" in m.msg]
    # deleting the rows brings the fallback (and the warning) back
    HolidayOverride.objects.all().delete()
    assert calendar.is_workday(D(2027, 2, 8))
    assert [m for m in check_holiday_data() if "2027" in m.msg]


def test_overrides_win_over_the_package(db):
    HolidayOverride.objects.create(date=D(2026, 3, 2), is_workday=False, note="临时调整")
    assert not calendar.is_workday(D(2026, 3, 2))


def test_check_is_registered(db):
    from django.core import checks

    messages = checks.run_checks(tags=["workflows"])
    assert any(m.id == "workflows.W001" for m in messages)

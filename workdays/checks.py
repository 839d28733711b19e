"""System check: warn loudly when the working-day calendar has no data for this year or the next.

chinese-calendar ships the State Council schedule up to its last bundled year and raises beyond;
the next year's schedule is published each November. Without it the clocks fall back to
Monday-Friday, which is wrong around Spring Festival and National Day.
"""

from __future__ import annotations

from typing import Any

from django.core import checks
from django.db import DatabaseError
from django.utils import timezone


def check_holiday_data(app_configs: Any = None, **kwargs: Any) -> list[checks.CheckMessage]:
    from workdays import calendar

    year = timezone.localdate().year
    messages: list[checks.CheckMessage] = []
    for y in (year, year + 1):
        try:
            has = calendar.year_has_data(y)
        except DatabaseError:
            # Before migrations (e.g. `manage.py migrate` on a new database) only the package counts.
            has = calendar.package_covers(y)
        if not has:
            messages.append(
                checks.Warning(
                    f"{y} 年没有节假日安排数据：chinese-calendar 只覆盖到 {calendar.PACKAGE_LAST_YEAR} 年，"
                    f"且未录入 {y} 年的节假日调整。办件时限将按周一至周五计算，遇法定节假日和调休会出错。",
                    hint="在管理后台“工作日历 › 节假日调整”中录入国务院办公厅公布的放假和调休安排，"
                    "或升级 chinese-calendar。",
                    # The id predates the app's move out of workflows: operators may silence it by name.
                    id="workflows.W001",
                )
            )
    return messages

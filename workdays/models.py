from __future__ import annotations

from django.db import models
from django.utils.translation import gettext_lazy as _


class HolidayOverride(models.Model):
    """An admin-entered day of the State Council holiday schedule (放假/调休上班).

    Needed for any year chinese-calendar does not cover yet; also wins over the package when the
    schedule changes after a release. Case clocks, appointment slots and rectification deadlines all
    read it through `workdays.calendar`.
    """

    date = models.DateField(_("日期"), unique=True)
    is_workday = models.BooleanField(_("是否工作日"), help_text=_("调休上班选是；法定节假日选否。"))
    note = models.CharField(_("说明"), max_length=64, blank=True)
    updated_at = models.DateTimeField(_("更新时间"), auto_now=True)

    class Meta:
        # The rows were entered while the model lived in workflows: the table keeps its name.
        db_table = "workflows_holidayoverride"
        verbose_name = _("节假日调整")
        verbose_name_plural = _("节假日调整")
        ordering = ["date"]

    def __str__(self) -> str:
        kind = _("上班") if self.is_workday else _("放假")
        return f"{self.date} {kind} {self.note}"

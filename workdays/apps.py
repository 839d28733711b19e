from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class WorkdaysConfig(AppConfig):
    """The one working-day calendar (工作日): the lowest layer, importing no other app of ours."""

    default_auto_field = "django.db.models.BigAutoField"
    name = "workdays"
    verbose_name = _("工作日历")

    def ready(self) -> None:
        from django.core import checks
        from django.db.models.signals import post_delete, post_save

        from workdays.checks import check_holiday_data
        from workdays.models import HolidayOverride

        # Also under its old tag: `manage.py check --tag workflows` predates the app's move.
        checks.register(check_holiday_data, "workdays", "workflows")

        def _invalidate(sender: type, instance: HolidayOverride, **kwargs: object) -> None:
            from workdays.calendar import invalidate_overrides

            invalidate_overrides(instance.date.year)

        post_save.connect(_invalidate, sender=HolidayOverride, weak=False, dispatch_uid="workdays-holiday-save")
        post_delete.connect(_invalidate, sender=HolidayOverride, weak=False, dispatch_uid="workdays-holiday-delete")

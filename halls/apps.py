from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class HallsConfig(AppConfig):
    default_auto_field = "django.db.models.BigAutoField"
    name = "halls"
    verbose_name = _("服务场所")

    def ready(self) -> None:
        # Hall changes keep the map's coverage layer current (signals connected on import).
        from halls import coverage  # noqa: F401

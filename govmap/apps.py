from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class GovmapConfig(AppConfig):
    default_auto_field = "django.db.models.BigAutoField"
    name = "govmap"
    verbose_name = _("地图与行政区划")

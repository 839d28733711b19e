from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class MapviewConfig(AppConfig):
    """The map page and its data endpoints: the top layer that reads halls, queues and ratings.

    It holds no models; the regions it draws are govmap's, the points are halls'.
    """

    default_auto_field = "django.db.models.BigAutoField"
    name = "mapview"
    verbose_name = _("政务地图")

from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class CitizenPortalConfig(AppConfig):
    default_auto_field = "django.db.models.BigAutoField"
    name = "citizen_portal"
    verbose_name = _("群众门户")

from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class DemoConfig(AppConfig):
    """The Guizhou demo data and `manage.py load_demo`: the top layer, it writes into every app.

    Installed by the local and test settings; production settings install it only with
    TONGBAN_DEMO=1 (the fault drill's stack loads the demo into a production-configured server).
    It has no models, so installing it or not never changes the schema.
    """

    default_auto_field = "django.db.models.BigAutoField"
    name = "demo"
    verbose_name = _("演示数据")

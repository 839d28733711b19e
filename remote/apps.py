from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class RemoteConfig(AppConfig):
    default_auto_field = "django.db.models.BigAutoField"
    name = "remote"
    verbose_name = _("远程视频核验")

    def ready(self) -> None:
        from remote import notify
        from workflows import extensions

        notify.register_templates()
        from remote.views import case_panel

        # workflows sits below this app: its case page asks its extension point for our panel.
        extensions.case_panels.register(case_panel)

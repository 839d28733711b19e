from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class RemoteConfig(AppConfig):
    default_auto_field = "django.db.models.BigAutoField"
    name = "remote"
    verbose_name = _("远程视频核验")

    def ready(self) -> None:
        from remote import notify
        from workflows import hooks

        notify.register_templates()
        from remote.views import case_panel

        # workflows sits below this app: its case page asks the hook for our panel.
        hooks.register_case_panel(case_panel)

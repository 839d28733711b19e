from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class AccountsConfig(AppConfig):
    default_auto_field = "django.db.models.BigAutoField"
    name = "accounts"
    verbose_name = _("用户与权限")

    def ready(self) -> None:
        # Connects the logout receiver that revokes API tokens.
        from accounts import tokens  # noqa: F401

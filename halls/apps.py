from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class HallsConfig(AppConfig):
    default_auto_field = "django.db.models.BigAutoField"
    name = "halls"
    verbose_name = _("服务场所")

    def ready(self) -> None:
        # Hall changes keep the map's coverage layer current (signals connected on import).
        from accounts import extensions as accounts
        from accounts.models import User
        from halls import coverage  # noqa: F401
        from halls.scope import active_posts

        def _on_duty(user: User) -> bool:
            # The request's one answer to "where is this user posted" (cached on the user).
            return bool(active_posts(user))

        accounts.on_duty.register(_on_duty)

from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class AccountsConfig(AppConfig):
    default_auto_field = "django.db.models.BigAutoField"
    name = "accounts"
    verbose_name = _("用户与权限")

    def ready(self) -> None:
        from django.db.models.signals import post_save

        # Connects the logout receiver that revokes API tokens.
        from accounts import tokens  # noqa: F401
        from accounts.extensions import identity_changed
        from accounts.models import User

        def _identity_saved(
            sender: type, instance: User, update_fields: frozenset[str] | None = None, **kwargs: object
        ) -> None:
            # Every save that can bind a real name, whichever code path made it (login, window,
            # admin), tells the apps above inside its transaction (accounts.extensions).
            if update_fields is not None and not {"id_number_hash", "phone", "id_verified_at"} & set(update_fields):
                return
            identity_changed.send(user=instance)

        post_save.connect(_identity_saved, sender=User, weak=False, dispatch_uid="accounts-identity-changed")

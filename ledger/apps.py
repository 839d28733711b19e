from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class LedgerConfig(AppConfig):
    default_auto_field = "django.db.models.BigAutoField"
    name = "ledger"
    verbose_name = _("存证账本")

    def ready(self) -> None:
        from django.conf import settings

        from ledger import conf

        # Asynchronous batching, as transparency logs do: appends never wait for a Merkle root.
        # Production runs `celery -A config beat`; settings may override the entry.
        schedule = getattr(settings, "CELERY_BEAT_SCHEDULE", None)
        if isinstance(schedule, dict):
            schedule.setdefault(
                "ledger-seal-pending", {"task": "ledger.tasks.seal_pending", "schedule": conf.seal_interval_seconds()}
            )

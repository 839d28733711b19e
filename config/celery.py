"""The Celery app. Eager in the embedded default; a real broker when one is configured.

The whole beat schedule is here, in one place: production's `celery -A config beat` and the embedded
default's `manage.py run_beat_inline` (under `make run`) both read ``app.conf.beat_schedule``. The
periods are settings tunables (config/settings/base.py), so an operator tunes them from the
environment without touching code.
"""

from __future__ import annotations

import os
from typing import Any

from celery import Celery
from celery.schedules import crontab

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "config.settings.local")

app = Celery("tongban")
app.config_from_object("django.conf:settings", namespace="CELERY")
app.autodiscover_tasks()


def beat_schedule(settings: Any) -> dict[str, dict[str, Any]]:
    """Every periodic entry, named as before (entry names are what celery beat persists its
    last-run times under); ``settings`` is django.conf.settings, passed in so a test can build the
    schedule from other values. Every task is idempotent: a missed or doubled tick is harmless."""
    return {
        # Due, lost or stuck SMS outbox messages are re-queued (notifications).
        "dispatch-outbox": {
            "task": "notifications.tasks.dispatch_pending",
            "schedule": float(settings.SMS_SWEEP_SECONDS),
        },
        # Booked citizens who never checked in are marked no-show (their slot frees up).
        "appointment-no-shows": {"task": "halls.tasks.mark_appointment_no_shows", "schedule": 300.0},
        # Tomorrow's appointment slots open each night (and on the first beat after a restart).
        "open-appointment-slots": {"task": "halls.tasks.open_slots", "schedule": crontab(hour=1, minute=5)},
        # The day before: "your appointment is tomorrow" (18:00, after the day's changes are in).
        "appointment-reminders": {
            "task": "halls.tasks.send_appointment_reminders",
            "schedule": crontab(hour=18, minute=0),
        },
        # Case clocks: SLA warnings and overdue alerts (workflows).
        "workflows-sla-sweep": {"task": "workflows.tasks.sweep_sla", "schedule": float(settings.SLA_SWEEP_SECONDS)},
        # Asynchronous batching, as transparency logs do: appends never wait for a Merkle root.
        "ledger-seal-pending": {"task": "ledger.tasks.seal_pending", "schedule": float(settings.LEDGER_SEAL_SECONDS)},
        # Safety net: result documents whose on-commit render was lost (worker down) are rendered later.
        "licences-render-missing": {
            "task": "licences.tasks.render_missing",
            "schedule": float(settings.RESULT_RENDER_SWEEP_SECONDS),
        },
        # Safety net: delivered results whose on-commit filing into the e-licence library was lost.
        "licences-file-missing": {
            "task": "licences.tasks.file_missing",
            "schedule": float(settings.RESULT_RENDER_SWEEP_SECONDS),
        },
        # 好差评: invitations to rate finished cases, and rectifications past their deadline escalate.
        "ratings-invitations": {"task": "ratings.tasks.send_rating_invitations", "schedule": 3600.0},
        "ratings-escalation": {"task": "ratings.tasks.escalate_overdue_rectifications", "schedule": 900.0},
    }


@app.on_after_configure.connect
def _install_beat_schedule(sender: Celery, **kwargs: Any) -> None:
    # Built when Celery first reads its configuration, not at import: this module is imported by
    # the config package before Django's settings are loaded.
    from django.conf import settings

    sender.conf.beat_schedule = beat_schedule(settings)

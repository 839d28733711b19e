"""Celery tasks of the live side (idempotent; safe to retry)."""

from __future__ import annotations

import datetime as dt

from celery import shared_task

from halls import actions, queue
from halls.models import Hall


@shared_task(autoretry_for=(Exception,), retry_backoff=True, max_retries=5)
def mark_appointment_no_shows() -> int:
    """Every few minutes: bookings never checked in become no-shows (see actions.mark_no_shows)."""
    return actions.mark_no_shows()


@shared_task(autoretry_for=(Exception,), retry_backoff=True, max_retries=5)
def send_appointment_reminders() -> int:
    """Every evening: tomorrow's bookings get their reminder SMS (idempotent per appointment)."""
    return actions.queue_appointment_reminders()


@shared_task(autoretry_for=(Exception,), retry_backoff=True, max_retries=5)
def open_slots(days_ahead: int | None = None) -> int:
    """Nightly: open the bookable days ahead at every hall that takes appointments (idempotent)."""
    horizon = actions.booking_horizon_days() if days_ahead is None else days_ahead
    today = queue.service_day()
    opened = 0
    for hall in Hall.objects.filter(is_active=True).exclude(type="kiosk").iterator():
        for offset in range(horizon + 1):
            opened += len(actions.ensure_slots(hall=hall, day=today + dt.timedelta(days=offset)))
    return opened


@shared_task(autoretry_for=(Exception,), retry_backoff=True, max_retries=3)
def broadcast_hall(hall_id: int) -> None:
    """Re-send a hall's board (e.g. after an operator fixed data by hand)."""
    queue.broadcast_queue(hall_id)


@shared_task(autoretry_for=(Exception,), retry_backoff=True, max_retries=3)
def refresh_coverage() -> dict[str, object]:
    """After halls changed (debounced, see halls.coverage.request_refresh): the map's coverage."""
    from halls import coverage

    return coverage.refresh()

"""Periodic sweeps of the ratings app (Celery beat entries registered in apps.py)."""

from __future__ import annotations

from celery import shared_task

from ratings import actions


@shared_task(autoretry_for=(Exception,), retry_backoff=True, max_retries=5)
def send_rating_invitations() -> int:
    """One invitation SMS per case finished 3+ days ago and still unrated (idempotent)."""
    return actions.send_invitations()


@shared_task(autoretry_for=(Exception,), retry_backoff=True, max_retries=5)
def escalate_overdue_rectifications() -> dict[str, int]:
    """Overdue rectifications go to the city, then the province (idempotent)."""
    return actions.escalate_overdue()

"""Celery tasks of the case workflow (idempotent; beat entry added in WorkflowsConfig.ready)."""

from __future__ import annotations

from typing import Any

from celery import shared_task


@shared_task(bind=True, autoretry_for=(Exception,), retry_backoff=True, retry_kwargs={"max_retries": 5})
def sweep_sla(self: Any) -> dict[str, Any]:
    """Deemed acceptance, yellow/red colours and alerts for all open cases (see workflows.sla)."""
    from workflows.sla import sweep

    return sweep().as_dict()

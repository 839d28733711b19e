"""Celery tasks of the ledger (beat entry added in LedgerConfig.ready; LEDGER_SEAL_SECONDS)."""

from __future__ import annotations

from typing import Any

from celery import shared_task


@shared_task(bind=True, autoretry_for=(Exception,), retry_backoff=True, retry_kwargs={"max_retries": 5})
def seal_pending(self: Any) -> dict[str, Any]:
    """Seal every pending entry into signed Merkle batches. Idempotent: nothing pending, nothing done."""
    from ledger import actions

    batches = actions.seal_pending()
    return {"batches": [b.seq for b in batches], "entries": sum(b.size for b in batches)}

"""Celery tasks of the results module: take ids, call an action, idempotent, retried with backoff."""

from __future__ import annotations

from typing import Any

from celery import shared_task


@shared_task(bind=True, autoretry_for=(Exception,), retry_backoff=True, retry_kwargs={"max_retries": 5})
def render_result_document(self: Any, result_id: str) -> dict[str, Any]:
    """Render, sign and store one result's PDF (idempotent)."""
    from licences.actions import render_result_document as render

    doc = render(result_id=result_id)
    return {"result": str(doc.result_id), "sha256": doc.sha256, "render_ms": doc.render_ms}


@shared_task(bind=True, autoretry_for=(Exception,), retry_backoff=True, retry_kwargs={"max_retries": 5})
def register_delivered_case(self: Any, case_id: int) -> list[str]:
    """File the results of a delivered case into the e-licence library (idempotent)."""
    from licences.actions import register_delivered_case as register

    return [e.number for e in register(case_id=case_id)]


@shared_task
def render_missing(limit: int = 500) -> int:
    """Safety net under beat: render every result that has no document yet (lost hand-off)."""
    from licences.actions import render_result_document as render
    from workflows.results import Result

    ids = list(Result.objects.filter(document__isnull=True).values_list("pk", flat=True)[:limit])
    for pk in ids:
        render(result_id=pk)
    return len(ids)


@shared_task
def file_missing(limit: int = 500) -> int:
    """Safety net under beat: file every delivered, unrevoked result that is not in the e-licence
    library yet (the ``case_delivered`` hand-off was lost: broker down at commit, worker died)."""
    from licences.actions import file_result
    from workflows.models import CaseState
    from workflows.results import Result

    # One read of what is missing, with what filing it needs (case, item, applicant): then one
    # INSERT each (not three reads and an INSERT each; a result filed meanwhile by the hand-off
    # itself is caught by the unique result and not filed twice).
    pending = (
        Result.objects.select_related("case__item", "case__applicant")
        .filter(case__state=CaseState.DELIVERED, revoked_at__isnull=True, e_licence__isnull=True)
        .order_by("issued_at")[:limit]
    )
    filed = 0
    for result in pending:
        file_result(result)
        filed += 1
    return filed

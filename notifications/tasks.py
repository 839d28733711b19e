"""Celery tasks of the outbox. They carry only ids; the row is the truth (see actions.py)."""

from __future__ import annotations

import logging
from typing import Any

from celery import shared_task

from notifications import actions, conf

logger = logging.getLogger(__name__)


@shared_task(bind=True, acks_late=True, ignore_result=True, time_limit=120)
def send_message(self: Any, message_id: str, rate_reserved: bool = False) -> str:
    """Send one outbox message; safe to run any number of times, concurrently too.

    Eager mode (the embedded default, tests) never re-schedules: Celery would run an eager retry
    immediately, ignoring its countdown. The row keeps its next_attempt_at instead and the
    `dispatch_pending` sweep sends it when it is due.
    """
    # With task_always_eager every re-scheduled task would also run inline, right now.
    eager = bool(self.request.is_eager or self.app.conf.task_always_eager)
    outcome = actions.attempt_send(message_id=message_id, rate_reserved=rate_reserved, reserve_rate=not eager)
    if outcome.retry_in > 0 and not eager:
        if outcome.result == "retry":
            # Shows as RETRY in Celery's monitoring; if the broker refuses, the row is still due
            # and the sweep sends it.
            raise self.retry(
                args=(message_id,),
                kwargs={"rate_reserved": False},
                countdown=outcome.retry_in,
                max_retries=None,
            )
        window_full = outcome.retry_in >= conf.rate_max_reserve_seconds()
        if outcome.result == "deferred" and not outcome.rate_reserved and window_full:
            # Over the rate and no slot left within SMS_RATE_MAX_RESERVE_SECONDS: the row stays due
            # at its next_attempt_at and the dispatch-outbox sweep queues it again, oldest first,
            # SMS_DISPATCH_BATCH at a time. A task of its own per message came back every
            # max_reserve seconds instead: a backlog of N such messages cost N/60 claim, un-claim
            # and re-queue cycles a second while only SMS_RATE_PER_SECOND could go out
            # (bench_api: ~40 texts/s made against 10/s sent; the worker's CPU went to the polling).
            return outcome.result
        try:
            send_message.apply_async(
                args=(message_id,),
                kwargs={"rate_reserved": outcome.rate_reserved},
                countdown=outcome.retry_in,
            )
        except Exception:
            logger.exception("SMS %s could not be re-scheduled; dispatch_pending will send it", message_id)
    return outcome.result


@shared_task(acks_late=True, ignore_result=True, time_limit=600)
def dispatch_pending() -> dict[str, int]:
    """Periodic sweep (beat entry "dispatch-outbox"): re-queue due and stuck messages."""
    report = actions.dispatch_due()
    return {"queued": len(report.queued), "recovered": report.recovered, "given_up": report.given_up}

"""Writes to the outbox: enqueue inside the cause's transaction, and the operators' retry."""

from __future__ import annotations

import functools
import logging
import random
from collections.abc import Iterable, Iterator, Mapping, Sequence
from contextlib import contextmanager
from contextvars import ContextVar
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any, Literal

from django.core.serializers.json import DjangoJSONEncoder
from django.db import IntegrityError, transaction
from django.db.models import F
from django.utils import timezone

from core.inserts import insert_of, mark_saved
from core.phones import normalize_phone
from notifications import conf
from notifications.backends import PermanentSendError, SendError, SendResult, SmsPayload, get_backend
from notifications.models import OutboxMessage
from notifications.ratelimit import sms_bucket
from notifications.templates_sms import REDACTED, get_template

logger = logging.getLogger(__name__)


def enqueue_sms(
    *,
    to: str,
    template: str,
    context: Mapping[str, Any],
    dedupe_key: str | None = None,
) -> OutboxMessage:
    """Write one SMS to the outbox, in the caller's transaction, and send it after commit.

    Must be called inside the caller's `transaction.atomic()`: the row is written in that
    transaction, so the message exists if and only if the cause commits. After commit,
    `send_message.delay(id)` is scheduled; if the broker is unreachable then, the periodic
    `dispatch_pending` sweep sends it later — an accepted message is never lost.

    `dedupe_key` makes enqueueing idempotent: a second call with the same key returns the first
    row and schedules nothing (even if its text differs).

    Raises ValueError for an unknown template, a missing template variable or an invalid phone
    number (nothing is written), RuntimeError when called outside a transaction.
    Side effects: one OutboxMessage row; after commit, one Celery task.
    """
    if not transaction.get_connection().in_atomic_block:
        raise RuntimeError("enqueue_sms() 必须在调用方的事务（transaction.atomic）中调用")
    tpl = get_template(template)
    body = tpl.render(context)
    number = normalize_phone(to)
    stored_context = _json_safe(context)
    if dedupe_key is not None:
        dedupe_key = dedupe_key.strip()
        if not dedupe_key:
            raise ValueError("dedupe_key 不能为空字符串")
        existing = OutboxMessage.objects.filter(dedupe_key=dedupe_key).first()
        if existing is not None:
            return existing
    fields: dict[str, Any] = {
        "channel": OutboxMessage.Channel.SMS,
        "to": number,
        "template": tpl.name,
        "body": body,
        "context": stored_context,
        "dedupe_key": dedupe_key,
        "next_attempt_at": timezone.now(),
    }
    staged = _staged.get()
    if dedupe_key is None and staged is not None:
        # Written by the caller's own statement (outbox_inserts), or when the block ends.
        message = OutboxMessage(**fields)
        staged.append(message)
    elif dedupe_key is None:
        message = OutboxMessage.objects.create(**fields)
    else:
        try:
            # A savepoint: a concurrent transaction may insert the same dedupe_key first (on
            # PostgreSQL this insert then waits for it and fails); the caller's transaction survives.
            with transaction.atomic():
                message = OutboxMessage.objects.create(**fields)
        except IntegrityError:
            return OutboxMessage.objects.get(dedupe_key=dedupe_key)
    transaction.on_commit(functools.partial(schedule_send, str(message.pk)))
    return message


# The texts enqueue_sms was asked for inside staged_sms(), not yet written.
_staged: ContextVar[list[OutboxMessage] | None] = ContextVar("notifications_staged_sms", default=None)


@contextmanager
def staged_sms() -> Iterator[list[OutboxMessage]]:
    """Inside the block, ``enqueue_sms`` without a dedupe key builds its row (and schedules its send
    after commit) but leaves the INSERT to the caller, who writes the yielded rows with a statement
    it runs anyway (``outbox_inserts``, e.g. as CTEs of a transition's guarded UPDATE: one round
    trip less) and then calls ``mark_written``. Rows still unwritten when the block ends normally
    are INSERTed then, so a staged text is never lost; if the block raises, the caller's
    transaction rolls back and nothing of it is sent (the after-commit send is discarded with it).
    Enter it inside the caller's transaction."""
    rows: list[OutboxMessage] = []
    token = _staged.set(rows)
    try:
        yield rows
    finally:
        _staged.reset(token)
    unwritten = [m for m in rows if m._state.adding]
    if unwritten:
        OutboxMessage.objects.bulk_create(unwritten)


def outbox_inserts(messages: Sequence[OutboxMessage], *, from_guard: bool) -> list[tuple[str, list[Any]]]:
    """``INSERT`` statements ``(sql, params)`` of staged rows (``core.inserts``); ``from_guard``:
    ``INSERT ... SELECT ... FROM guard``, written only when the caller's CTE named ``guard`` returns
    a row (PostgreSQL)."""
    return [insert_of(m, select_from="guard" if from_guard else None) for m in messages]


def mark_written(messages: Sequence[OutboxMessage]) -> None:
    """The caller's statement wrote these staged rows (``staged_sms`` then leaves them alone)."""
    for message in messages:
        mark_saved(message)


def schedule_send(message_id: str) -> None:
    """Hand a message to Celery. Never raises: a message that cannot be queued now stays pending
    and the periodic sweep picks it up, so a broker outage cannot fail the caller's request."""
    from notifications.tasks import send_message

    try:
        if not send_message.app.conf.task_always_eager and _rate_is_full():
            # Its task would find no slot within the window and leave the row due: the paced
            # dispatch-outbox sweep queues it when the rate has room (oldest first).
            return
    except Exception:
        logger.warning("SMS %s: the rate could not be read; queued anyway", message_id, exc_info=True)
    try:
        send_message.delay(message_id)
    except Exception:
        logger.exception("SMS %s could not be queued; dispatch_pending will send it", message_id)


def _rate_is_full() -> bool:
    """No slot of the SMS rate left to give or book within SMS_RATE_MAX_RESERVE_SECONDS (one cache read)."""
    return sms_bucket().bookable(max_reserve=conf.rate_max_reserve_seconds()) == 0


def retry_messages(*, message_ids: Iterable[Any], actor: Any = None) -> int:
    """Put failed or dead messages back in line (the admin's "retry" action).

    Sent messages are never re-sent (the citizen has them), nor are one-time codes whose code has
    already been masked (they have expired). Attempts restart from zero.
    Side effects: updates the rows; after commit, one Celery task per message. Returns the count.
    """
    with transaction.atomic():
        rows = list(
            OutboxMessage.objects.select_for_update()
            .filter(pk__in=list(message_ids), status__in=[OutboxMessage.Status.FAILED, OutboxMessage.Status.DEAD])
            .order_by("pk")
        )
        retried: list[str] = []
        now = timezone.now()
        for row in rows:
            if REDACTED in (row.context or {}).values():
                continue
            row.status = OutboxMessage.Status.PENDING
            row.attempts = 0
            row.next_attempt_at = now
            row.claimed_at = None
            row.last_error = ""
            row.save(update_fields=["status", "attempts", "next_attempt_at", "claimed_at", "last_error"])
            retried.append(str(row.pk))
        if retried:
            logger.info("SMS retry by %s: %s", getattr(actor, "pk", None), ", ".join(retried))
            for message_id in retried:
                transaction.on_commit(functools.partial(schedule_send, message_id))
    return len(retried)


def _json_safe(context: Mapping[str, Any]) -> dict[str, Any]:
    """The context as JSON can store it (dates and decimals as strings), so the row can be
    written on any database; rendering already happened with the original values."""
    import json

    result: dict[str, Any] = json.loads(json.dumps(dict(context), cls=DjangoJSONEncoder))
    return result


# A task that arrives this much before its row's next_attempt_at still sends: worker and producer
# clocks differ a little, and an early retry is harmless.
CLAIM_TOLERANCE = timedelta(seconds=1)

Status = OutboxMessage.Status


@dataclass(frozen=True)
class SendOutcome:
    """What became of one attempt. `retry_in` > 0: the caller should run the task again then."""

    result: Literal["sent", "skipped", "deferred", "retry", "dead"]
    retry_in: float = 0.0
    rate_reserved: bool = False


def attempt_send(*, message_id: Any, rate_reserved: bool = False, reserve_rate: bool = True) -> SendOutcome:
    """Send one outbox message through the configured backend, at most once.

    The row is claimed with a conditional UPDATE (pending/failed → sending); of two workers
    running this for the same message at the same moment only one wins, on SQLite and on
    PostgreSQL alike, so a sent message is never sent twice. The provider is called outside any
    transaction (no row lock is held across the network).

    Then the shared rate limit is applied (unless the caller already holds a booked slot,
    `rate_reserved`): over the rate, the row goes back to its status with next_attempt_at in the
    future and the outcome says when to come back ("deferred"; with `reserve_rate` the slot is
    booked). A transient provider error schedules the next attempt with exponential backoff
    ("retry"); a permanent one, or the last allowed attempt, gives the message up ("dead"). One-time
    codes are masked in the row once the message is sent or given up.
    Side effects: updates the row; one provider request at most.
    """
    if reserve_rate and not rate_reserved:
        max_reserve = conf.rate_max_reserve_seconds()
        if _rate_is_full():
            # No slot within the window (one cache read): the row is left as it is, due, for the
            # dispatch-outbox sweep, which queues it again when the rate has room. Claiming it only
            # to un-claim it cost three statements and the bucket's lock for every text above the
            # rate (bench_api: most of them).
            return SendOutcome("deferred", retry_in=max_reserve, rate_reserved=False)
    now = timezone.now()
    row = (
        OutboxMessage.objects.filter(pk=message_id)
        .only("pk", "status", "next_attempt_at", "to", "body", "template", "context", "attempts", "created_at")
        .first()
    )
    if row is None or row.status not in OutboxMessage.DUE_STATUSES or row.next_attempt_at > now + CLAIM_TOLERANCE:
        return SendOutcome("skipped")
    previous = row.status
    # The attempt is counted in the same statement as the claim: one commit less per message.
    claimed = OutboxMessage.objects.filter(pk=row.pk, status=previous).update(
        status=Status.SENDING, claimed_at=now, attempts=F("attempts") + 1
    )
    if not claimed:
        return SendOutcome("skipped")

    if not rate_reserved:
        slot = sms_bucket().acquire(reserve=reserve_rate, max_reserve=conf.rate_max_reserve_seconds())
        if not slot.now:
            # A deferral is not an attempt: give the count back.
            OutboxMessage.objects.filter(pk=row.pk, status=Status.SENDING).update(
                status=previous,
                claimed_at=None,
                attempts=F("attempts") - 1,
                next_attempt_at=now + timedelta(seconds=slot.wait),
            )
            return SendOutcome("deferred", retry_in=slot.wait, rate_reserved=slot.reserved)

    attempts = row.attempts + 1
    try:
        backend = get_backend()
        payload = SmsPayload(to=row.to, body=row.body, reference=str(row.pk))
        # An earlier attempt may have reached the provider although its answer was lost (the worker
        # was killed mid-send, the answer timed out): ask before sending again, so a retry never
        # sends a second copy of a message the citizen already has.
        result = (_already_sent(backend, row, payload) if row.attempts else None) or backend.send(payload)
    except PermanentSendError as exc:
        _finish(row, status=Status.DEAD, last_error=f"第{attempts}次发送被拒绝（不再重试）：{exc}")
        return SendOutcome("dead")
    except Exception as exc:
        # TransientSendError, and anything unexpected from a backend: retry, but not forever.
        error = f"第{attempts}次发送失败：{exc.__class__.__name__}: {exc}"
        if not isinstance(exc, SendError):
            logger.exception("SMS backend raised unexpectedly for %s", row.pk)
        if attempts >= conf.max_attempts():
            _finish(row, status=Status.DEAD, last_error=f"{error}（已达最多{attempts}次，放弃）")
            return SendOutcome("dead")
        delay = backoff_seconds(attempts)
        OutboxMessage.objects.filter(pk=row.pk, status=Status.SENDING).update(
            status=Status.FAILED,
            claimed_at=None,
            last_error=error,
            next_attempt_at=timezone.now() + timedelta(seconds=delay),
        )
        return SendOutcome("retry", retry_in=delay)
    _finish(
        row,
        status=Status.SENT,
        sent_at=timezone.now(),
        provider_message_id=result.provider_message_id[:64],
        delivery_status=result.delivery_status if result.delivery_status in OutboxMessage.DeliveryStatus else "",
    )
    return SendOutcome("sent")


# Provider and database clocks differ a little: a provider message stamped this much before the row
# was written can still be the row's.
RECONCILE_CLOCK_SKEW = timedelta(seconds=30)


def _already_sent(backend: Any, row: OutboxMessage, payload: SmsPayload) -> SendResult | None:
    """The provider's copy of this row from an earlier attempt, if it has one.

    A candidate (same number and text, taken after the row was written) that another row already
    claims as its own is someone else's identical message, not this one's. Raises SendError when
    the provider cannot be asked (the attempt is then retried like a failed send).
    """
    candidates = backend.find_sent(payload)
    if not candidates:
        return None
    ids = [c.provider_message_id for c in candidates]
    others = set(
        OutboxMessage.objects.filter(provider_message_id__in=ids)
        .exclude(pk=row.pk)
        .values_list("provider_message_id", flat=True)
    )
    since = row.created_at - RECONCILE_CLOCK_SKEW
    mine = [
        c for c in candidates if c.provider_message_id not in others and (c.created_at is None or c.created_at >= since)
    ]
    if not mine:
        return None
    if len(mine) > 1:
        logger.warning("SMS %s: the provider holds %d copies from earlier attempts", row.pk, len(mine))
    found = min(mine, key=lambda c: c.created_at.timestamp() if c.created_at else 0.0)
    logger.info(
        "SMS %s was taken by the provider on an earlier attempt (%s): not sent again", row.pk, found.provider_message_id
    )
    return SendResult(provider_message_id=found.provider_message_id, delivery_status=found.delivery_status)


def backoff_seconds(attempts: int) -> float:
    """Delay before attempt `attempts + 1`: base · 2^(attempts-1), capped, with ±20 % jitter so
    messages that failed together (a provider outage) do not all come back at the same second."""
    delay = min(conf.retry_backoff_max(), conf.retry_backoff_base() * (2 ** max(0, attempts - 1)))
    return max(0.0, delay * random.uniform(0.8, 1.2))


def _finish(row: OutboxMessage, *, status: str, **fields: Any) -> None:
    """Terminal update of a claimed row; masks one-time codes, which nobody needs any more."""
    try:
        tpl = get_template(row.template)
    except ValueError:
        # The template was removed by a deploy after this row was written; its text is final.
        tpl = None
    if tpl is not None and tpl.sensitive:
        redacted = tpl.redact(row.context or {})
        fields["context"] = redacted
        fields["body"] = tpl.render(redacted)
    updated = OutboxMessage.objects.filter(pk=row.pk, status=Status.SENDING).update(
        status=status, claimed_at=None, **fields
    )
    if not updated:
        # Only the sweep moves a "sending" row, after SMS_SENDING_TIMEOUT: this worker was too slow.
        logger.warning("SMS %s finished as %s after its claim was taken away", row.pk, status)


@dataclass(frozen=True)
class SweepReport:
    queued: list[str]
    recovered: int
    given_up: int


def dispatch_due(*, now: datetime | None = None) -> SweepReport:
    """The periodic sweep: nothing accepted is ever lost.

    1. A row "sending" for longer than SMS_SENDING_TIMEOUT belongs to a worker that died: it is due
       again (or given up when it has used every attempt). The provider may have taken it before
       the worker died: the next attempt asks the provider first (`find_sent`), so where the
       backend can tell (Twilio, file, locmem) the message is not sent twice; with one that cannot
       (console) it is at-least-once — never lost.
    2. Due rows (pending/failed) whose own task has not run SMS_DISPATCH_GRACE seconds after their
       next_attempt_at — the broker was down at commit time, a worker lost the task, or Celery is
       eager and a retry was due — get a new task, oldest first, SMS_DISPATCH_BATCH at a time.
       Their next_attempt_at is moved to now, so a backlog gets one new task per grace period.
       Never more than the SMS rate can still take within SMS_RATE_MAX_RESERVE_SECONDS (the
       bucket's free and bookable slots): a task beyond those would only find no slot and leave
       its row due, so above the rate a sweep queued SMS_DISPATCH_BATCH tasks that did nothing.
    Side effects: updates rows; queues one Celery task per due row (runs it inline when eager).
    """
    now = now or timezone.now()
    stale = now - timedelta(seconds=conf.sending_timeout())
    stuck = OutboxMessage.objects.filter(status=Status.SENDING, claimed_at__lt=stale)
    given_up = stuck.filter(attempts__gte=conf.max_attempts()).update(
        status=Status.DEAD, claimed_at=None, last_error="发送超时未完成（工作进程中断），已达最多尝试次数，放弃"
    )
    recovered = stuck.update(
        status=Status.FAILED,
        claimed_at=None,
        next_attempt_at=now,
        last_error="发送超时未完成（工作进程中断），将重试",
    )
    cutoff = now - timedelta(seconds=conf.dispatch_grace())
    room = min(conf.dispatch_batch(), sms_bucket().bookable(max_reserve=conf.rate_max_reserve_seconds()))
    due: list[Any] = []
    if room > 0:
        with transaction.atomic():
            # skip_locked (PostgreSQL): rows a worker is updating right now are left to that worker.
            due = list(
                OutboxMessage.objects.select_for_update(skip_locked=True)
                .filter(status__in=OutboxMessage.DUE_STATUSES, next_attempt_at__lte=cutoff)
                .order_by("next_attempt_at")
                .values_list("pk", flat=True)[:room]
            )
            if due:
                OutboxMessage.objects.filter(pk__in=due).update(next_attempt_at=now)
    queued = [str(pk) for pk in due]
    for message_id in queued:
        schedule_send(message_id)
    if queued or recovered or given_up:
        logger.info("SMS sweep: %d queued, %d recovered from sending, %d given up", len(queued), recovered, given_up)
    return SweepReport(queued=queued, recovered=recovered, given_up=given_up)


# How far along a delivery report is; a late "sent" never overwrites "delivered" (Twilio does not
# promise to deliver callbacks in order).
_DELIVERY_RANK = {
    "": 0,
    OutboxMessage.DeliveryStatus.QUEUED: 1,
    OutboxMessage.DeliveryStatus.SENDING: 2,
    OutboxMessage.DeliveryStatus.SENT: 3,
    OutboxMessage.DeliveryStatus.DELIVERED: 4,
    OutboxMessage.DeliveryStatus.UNDELIVERED: 4,
    OutboxMessage.DeliveryStatus.FAILED: 4,
}
_FINAL_RANK = 4


def record_delivery_status(*, provider_message_id: str, status: str, error_code: str = "") -> bool:
    """Record the provider's delivery report for the message it calls `provider_message_id`.

    Unknown ids and statuses we do not track (e.g. "accepted", "scheduled") change nothing; a
    report older than the one recorded (e.g. "sent" after "delivered") changes nothing; the first
    final report (delivered / undelivered / failed) wins. Returns whether a row changed.
    Side effects: updates delivery_status, delivered_at and delivery_error_code of one row.
    """
    if not provider_message_id or status not in OutboxMessage.DeliveryStatus.values:
        return False
    rank = _DELIVERY_RANK[status]
    older = [s for s, r in _DELIVERY_RANK.items() if r < rank or (r == rank and r < _FINAL_RANK)]
    fields: dict[str, Any] = {"delivery_status": status}
    if status == OutboxMessage.DeliveryStatus.DELIVERED:
        fields["delivered_at"] = timezone.now()
    if error_code:
        fields["delivery_error_code"] = error_code[:16]
    # One conditional UPDATE: two callbacks racing cannot move the status backwards.
    updated = OutboxMessage.objects.filter(provider_message_id=provider_message_id, delivery_status__in=older).update(
        **fields
    )
    return bool(updated)

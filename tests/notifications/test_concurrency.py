"""Concurrency on PostgreSQL: two workers, one message; two transactions, one dedupe key."""

from __future__ import annotations

import threading
import time

import pytest
from django.db import connection, connections, transaction

from notifications import backends
from notifications.actions import attempt_send, enqueue_sms
from notifications.models import OutboxMessage
from tests.notifications.conftest import PHONE

pytestmark = [
    pytest.mark.postgres,
    pytest.mark.django_db(transaction=True),
    pytest.mark.skipif(connection.vendor != "postgresql", reason="needs PostgreSQL (DATABASE_URL=postgres://...)"),
]


class SlowBackend(backends.LocmemBackend):
    """A provider that takes a while, so both workers are in flight at the same time."""

    def send(self, payload):
        time.sleep(0.2)
        return super().send(payload)


def run_in_threads(*targets):
    errors: list[BaseException] = []

    def wrap(fn):
        def run():
            try:
                fn()
            except BaseException as exc:
                errors.append(exc)
            finally:
                connections.close_all()

        return run

    threads = [threading.Thread(target=wrap(t)) for t in targets]
    for t in threads:
        t.start()
    for t in threads:
        t.join(timeout=30)
    assert not errors, errors


def test_two_workers_one_message_one_send(settings, sms_outbox):
    settings.SMS_BACKEND = "tests.notifications.test_concurrency.SlowBackend"
    with transaction.atomic():
        message = enqueue_sms(to=PHONE, template="otp_code", context={"code": "1", "minutes": 5})
    # The on-commit send already ran (eager): put the row back to pending to race two workers on it.
    OutboxMessage.objects.filter(pk=message.pk).update(status="pending", attempts=0)
    sms_outbox.clear()

    barrier = threading.Barrier(4)
    results: list[str] = []

    def worker():
        barrier.wait()
        results.append(attempt_send(message_id=message.pk).result)

    run_in_threads(worker, worker, worker, worker)
    assert sorted(results) == ["sent", "skipped", "skipped", "skipped"]
    assert len(sms_outbox) == 1
    message.refresh_from_db()
    assert (message.status, message.attempts) == ("sent", 1)


def test_two_transactions_one_dedupe_key(settings):
    settings.SMS_BACKEND = "locmem"
    inserted = threading.Event()
    ids: dict[str, object] = {}

    def first():
        with transaction.atomic():
            ids["first"] = enqueue_sms(
                to=PHONE, template="otp_code", context={"code": "1", "minutes": 5}, dedupe_key="race"
            ).pk
            inserted.set()
            time.sleep(0.3)  # the second transaction's insert waits on the unique index meanwhile

    def second():
        inserted.wait(5)
        with transaction.atomic():
            ids["second"] = enqueue_sms(
                to=PHONE, template="otp_code", context={"code": "1", "minutes": 5}, dedupe_key="race"
            ).pk

    run_in_threads(first, second)
    assert ids["first"] == ids["second"]
    assert OutboxMessage.objects.filter(dedupe_key="race").count() == 1

"""send_message / dispatch_pending: at most once per message, retried with backoff, never lost."""

from __future__ import annotations

import re
from datetime import timedelta

import pytest
from django.db import transaction
from django.utils import timezone

from notifications import backends
from notifications.actions import attempt_send, backoff_seconds, dispatch_due, enqueue_sms
from notifications.models import OutboxMessage
from notifications.tasks import dispatch_pending, send_message
from tests.notifications.conftest import PHONE

pytestmark = pytest.mark.django_db
Status = OutboxMessage.Status


def time_passes(message: OutboxMessage) -> None:
    """The message's next attempt is now due (instead of waiting out the backoff)."""
    OutboxMessage.objects.filter(pk=message.pk).update(next_attempt_at=timezone.now() - timedelta(seconds=1))


def enqueue_uncommitted(**kwargs) -> OutboxMessage:
    """Enqueue without ever running the on-commit callback: the task "never ran"."""
    kwargs.setdefault("to", PHONE)
    kwargs.setdefault("template", "otp_code")
    kwargs.setdefault("context", {"code": "123456", "minutes": 5})
    with transaction.atomic():
        return enqueue_sms(**kwargs)


# --- idempotency -------------------------------------------------------------------------------


def test_running_the_task_again_never_sends_twice(enqueue_committed, sms_outbox):
    message = enqueue_committed()
    assert send_message.delay(str(message.pk)).get() == "skipped"
    assert send_message.apply(args=[str(message.pk)]).get() == "skipped"
    message.refresh_from_db()
    assert (message.status, message.attempts, len(sms_outbox)) == (Status.SENT, 1, 1)


class ReentrantBackend(backends.LocmemBackend):
    """While the provider is still handling the message, a second copy of the task runs."""

    second_run: list[str] = []

    def send(self, payload):
        ReentrantBackend.second_run.append(send_message.apply(args=[payload.reference]).get())
        return super().send(payload)


def test_a_second_run_during_sending_does_nothing(settings, sms_outbox):
    settings.SMS_BACKEND = "tests.notifications.test_sending.ReentrantBackend"
    ReentrantBackend.second_run = []
    message = enqueue_uncommitted()
    assert send_message.apply(args=[str(message.pk)]).get() == "sent"
    assert ReentrantBackend.second_run == ["skipped"]
    assert len(sms_outbox) == 1


def test_unknown_message_id_is_skipped():
    import uuid

    assert send_message.apply(args=[str(uuid.uuid4())]).get() == "skipped"


# --- retries, backoff, dead ----------------------------------------------------------------------


def test_backoff_doubles_and_is_capped(settings):
    settings.SMS_RETRY_BACKOFF_BASE = 10
    settings.SMS_RETRY_BACKOFF_MAX = 100
    for attempts, nominal in [(1, 10), (2, 20), (3, 40), (4, 80), (5, 100), (9, 100)]:
        for _ in range(20):
            assert 0.8 * nominal <= backoff_seconds(attempts) <= 1.2 * nominal


def test_transient_errors_retry_with_backoff_then_give_up(settings, twilio_standin, enqueue_committed, no_grace):
    settings.SMS_MAX_ATTEMPTS = 3
    settings.SMS_RETRY_BACKOFF_BASE = 30
    twilio_standin.fail_next(10, status=500)

    before = timezone.now()
    message = enqueue_committed()
    assert message.status == Status.FAILED
    assert message.attempts == 1
    assert "HTTP 500" in message.last_error
    assert before + timedelta(seconds=23) < message.next_attempt_at < timezone.now() + timedelta(seconds=37)

    # Not due yet: the sweep leaves it alone.
    assert dispatch_due().queued == []
    assert len(twilio_standin.message_requests) == 1

    time_passes(message)
    before = timezone.now()
    assert dispatch_due().queued == [str(message.pk)]
    message.refresh_from_db()
    assert (message.status, message.attempts) == (Status.FAILED, 2)
    assert message.next_attempt_at > before + timedelta(seconds=47)  # 60 s nominal, -20 % jitter

    time_passes(message)
    dispatch_due()
    message.refresh_from_db()
    assert (message.status, message.attempts) == (Status.DEAD, 3)
    assert "最多3次" in message.last_error
    assert message.sent_at is None

    time_passes(message)
    assert dispatch_due().queued == []
    assert len(twilio_standin.message_requests) == 3


def test_retry_succeeds_once_the_provider_recovers(twilio_standin, enqueue_committed, no_grace):
    twilio_standin.fail_next(1, status=429)
    message = enqueue_committed()
    assert message.status == Status.FAILED
    time_passes(message)
    dispatch_pending.delay()
    message.refresh_from_db()
    assert (message.status, message.attempts) == (Status.SENT, 2)
    assert message.provider_message_id.startswith("SM")
    assert len(twilio_standin.message_requests) == 2


def test_permanent_error_gives_up_without_retrying(twilio_standin, enqueue_committed, no_grace):
    twilio_standin.fail_next(1, status=400)  # 21211: invalid 'To' number
    message = enqueue_committed()
    assert (message.status, message.attempts) == (Status.DEAD, 1)
    assert "21211" in message.last_error
    time_passes(message)
    assert dispatch_due().queued == []
    assert len(twilio_standin.message_requests) == 1


class ExplodingBackend(backends.BaseSmsBackend):
    def send(self, payload):
        raise KeyError("bug in a backend")


def test_unexpected_backend_exception_is_retried_not_lost(settings, enqueue_committed):
    settings.SMS_BACKEND = "tests.notifications.test_sending.ExplodingBackend"
    message = enqueue_committed()
    assert message.status == Status.FAILED
    assert "KeyError" in message.last_error


# --- the rate limit ------------------------------------------------------------------------------


def test_messages_beyond_the_rate_are_rescheduled_not_dropped(
    request, settings, sms_outbox, django_capture_on_commit_callbacks, no_grace
):
    import time_machine

    settings.SMS_RATE_PER_SECOND = 4  # a bucket of 4, refilled at 4 a second
    # The bucket refills by the clock: hold it still, or a slow machine enqueuing six messages earns a
    # fifth token on the way and the first assertion counts 5.
    clock = time_machine.travel(timezone.now(), tick=False)
    traveller = clock.start()
    request.addfinalizer(clock.stop)
    with django_capture_on_commit_callbacks(execute=True), transaction.atomic():
        ids = [
            enqueue_sms(to=PHONE, template="otp_code", context={"code": f"{i:06d}", "minutes": 5}).pk for i in range(6)
        ]
    assert len(sms_outbox) == 4
    waiting = OutboxMessage.objects.filter(pk__in=ids, status=Status.PENDING)
    assert waiting.count() == 2
    for row in waiting:
        assert row.next_attempt_at > timezone.now() - timedelta(seconds=1)
        assert row.attempts == 0  # a deferral is not a failed attempt

    # Right away the bucket is still empty: the sweep re-queues nothing that is not due yet.
    traveller.shift(0.6)  # 2.4 tokens come back
    dispatch_due()
    assert len(sms_outbox) == 6
    assert OutboxMessage.objects.filter(pk__in=ids, status=Status.SENT).count() == 6
    assert sorted(re.search(r"验证码为(\d+)", m.body)[1] for m in sms_outbox) == [f"{i:06d}" for i in range(6)]


def test_zero_rate_means_unlimited(settings, sms_outbox, django_capture_on_commit_callbacks):
    settings.SMS_RATE_PER_SECOND = 0
    with django_capture_on_commit_callbacks(execute=True), transaction.atomic():
        for i in range(30):
            enqueue_sms(to=PHONE, template="otp_code", context={"code": i, "minutes": 5})
    assert len(sms_outbox) == 30


# --- the sweep -----------------------------------------------------------------------------------


def test_sweep_recovers_a_message_whose_task_never_ran(sms_outbox, no_grace):
    message = enqueue_uncommitted()
    assert sms_outbox == []
    report = dispatch_pending.delay().get()
    assert report == {"queued": 1, "recovered": 0, "given_up": 0}
    message.refresh_from_db()
    assert message.status == Status.SENT
    assert len(sms_outbox) == 1


def test_sweep_waits_a_grace_period_for_the_message_own_task(settings, sms_outbox):
    settings.SMS_DISPATCH_GRACE = 30
    message = enqueue_uncommitted()
    assert dispatch_due().queued == []
    OutboxMessage.objects.filter(pk=message.pk).update(next_attempt_at=timezone.now() - timedelta(seconds=31))
    assert dispatch_due().queued == [str(message.pk)]
    assert len(sms_outbox) == 1


def test_sweep_recovers_a_message_stuck_in_sending(settings, sms_outbox, no_grace):
    settings.SMS_SENDING_TIMEOUT = 300
    message = enqueue_uncommitted()
    # A worker claimed it and died before finishing.
    OutboxMessage.objects.filter(pk=message.pk).update(
        status=Status.SENDING, attempts=1, claimed_at=timezone.now() - timedelta(seconds=301)
    )
    report = dispatch_due()
    assert report.recovered == 1
    message.refresh_from_db()
    assert (message.status, message.attempts) == (Status.SENT, 2)
    assert len(sms_outbox) == 1


def test_sweep_leaves_a_recent_sending_row_alone(settings, sms_outbox, no_grace):
    settings.SMS_SENDING_TIMEOUT = 300
    message = enqueue_uncommitted()
    OutboxMessage.objects.filter(pk=message.pk).update(status=Status.SENDING, claimed_at=timezone.now())
    assert dispatch_due().recovered == 0
    message.refresh_from_db()
    assert message.status == Status.SENDING
    assert sms_outbox == []


def test_stuck_message_out_of_attempts_is_given_up(settings, sms_outbox, no_grace):
    settings.SMS_MAX_ATTEMPTS = 2
    message = enqueue_uncommitted()
    OutboxMessage.objects.filter(pk=message.pk).update(
        status=Status.SENDING, attempts=2, claimed_at=timezone.now() - timedelta(hours=1)
    )
    report = dispatch_due()
    assert (report.given_up, report.recovered, report.queued) == (1, 0, [])
    message.refresh_from_db()
    assert message.status == Status.DEAD
    assert sms_outbox == []


def test_sweep_takes_oldest_first_in_batches(settings, sms_outbox, no_grace):
    settings.SMS_DISPATCH_BATCH = 2
    settings.SMS_RATE_PER_SECOND = 0
    messages = [enqueue_uncommitted(context={"code": i, "minutes": 5}) for i in range(3)]
    for age, m in zip([10, 30, 20], messages, strict=True):
        OutboxMessage.objects.filter(pk=m.pk).update(next_attempt_at=timezone.now() - timedelta(seconds=age))
    assert dispatch_due().queued == [str(messages[1].pk), str(messages[2].pk)]
    assert dispatch_due().queued == [str(messages[0].pk)]


def test_sweep_queues_no_more_than_the_rate_can_still_take(settings, sms_outbox, no_grace):
    """Above the SMS rate, a task the bucket has no slot for within SMS_RATE_MAX_RESERVE_SECONDS
    would only leave its row due: the sweep queues only as many as the bucket can give or book,
    oldest first, and the rest stay due for the next sweep."""
    from notifications.ratelimit import reset_sms_bucket, sms_bucket

    settings.SMS_RATE_PER_SECOND = 1
    settings.SMS_RATE_BURST = 1
    settings.SMS_RATE_MAX_RESERVE_SECONDS = 3
    reset_sms_bucket()
    messages = [enqueue_uncommitted(context={"code": i, "minutes": 5}) for i in range(3)]
    for age, m in zip([10, 30, 20], messages, strict=True):
        OutboxMessage.objects.filter(pk=m.pk).update(next_attempt_at=timezone.now() - timedelta(seconds=age))
    bucket = sms_bucket()
    while bucket.acquire(max_reserve=3).now:  # the burst is gone and...
        pass
    while bucket.bookable(max_reserve=3) > 2:  # ...the window is booked but for two slots
        assert bucket.acquire(max_reserve=3).reserved
    room = bucket.bookable(max_reserve=3)
    assert room in (1, 2)  # the wall clock may have refilled a token meanwhile
    queued = dispatch_due().queued
    assert queued == [str(messages[1].pk), str(messages[2].pk)][:room]
    left = {str(m.pk) for m in messages} - set(queued)
    assert OutboxMessage.objects.filter(pk__in=left, status__in=OutboxMessage.DUE_STATUSES).count() == len(left)
    reset_sms_bucket()  # the rate has room again: the next sweep takes the ones left
    assert set(dispatch_due().queued) == left


def test_management_command_runs_the_sweep(sms_outbox, no_grace):
    from io import StringIO

    from django.core.management import call_command

    enqueue_uncommitted()
    out = StringIO()
    call_command("dispatch_outbox", stdout=out)
    assert "queued=1" in out.getvalue()
    assert len(sms_outbox) == 1


# --- backends ------------------------------------------------------------------------------------


def test_file_backend_writes_one_file_per_message(settings, tmp_path, enqueue_committed):
    settings.SMS_BACKEND = "file"
    settings.SMS_FILE_DIR = tmp_path / "sms"
    first = enqueue_committed(context={"code": "111111", "minutes": 5})
    second = enqueue_committed(context={"code": "222222", "minutes": 5})
    files = sorted(p.name for p in (tmp_path / "sms").iterdir())
    assert files == sorted([f"{first.pk}.sms", f"{second.pk}.sms"])  # no temporary files left
    content = (tmp_path / "sms" / f"{second.pk}.sms").read_text(encoding="utf-8")
    assert "To: +8613800138000" in content
    assert "您的验证码为222222" in content
    assert first.status == second.status == Status.SENT


def test_file_backend_unwritable_directory_is_retried(settings, tmp_path, enqueue_committed):
    blocker = tmp_path / "not-a-dir"
    blocker.write_text("x")
    settings.SMS_BACKEND = "file"
    settings.SMS_FILE_DIR = blocker / "sms"
    message = enqueue_committed()
    assert message.status == Status.FAILED
    assert "写入短信文件失败" in message.last_error


def test_console_backend_prints(settings, capsys, enqueue_committed):
    settings.SMS_BACKEND = "console"
    enqueue_committed(context={"code": "333333", "minutes": 5})
    out = capsys.readouterr().out
    assert "+8613800138000" in out
    assert "您的验证码为333333" in out


def test_unknown_backend_is_a_clear_error(settings):
    settings.SMS_BACKEND = "carrier-pigeon"
    with pytest.raises(ValueError, match="未知的短信后端"):
        backends.get_backend()


# --- one-time codes ------------------------------------------------------------------------------


def test_one_time_code_is_masked_once_sent(enqueue_committed, sms_outbox):
    message = enqueue_committed(context={"code": "654321", "minutes": 5})
    assert "654321" in sms_outbox[0].body
    assert "654321" not in message.body
    assert message.context == {"code": "******", "minutes": 5}


def test_other_templates_keep_their_text(enqueue_committed):
    message = enqueue_committed(template="case_received", context={"case_number": "N7", "item_name": "X"})
    assert "N7" in message.body
    assert message.context == {"case_number": "N7", "item_name": "X"}


# --- with a real broker (in memory): transient failures are re-queued with a countdown -----------


@pytest.fixture
def not_eager():
    from config.celery import app

    saved = (app.conf.task_always_eager, app.conf.broker_url)
    app.conf.task_always_eager = False
    app.conf.broker_url = "memory://"
    # The producer pool is bound to the broker it was built for (Redis in the CI services pass).
    app._pool = None
    app.amqp._producer_pool = None
    try:
        yield app
    finally:
        app.conf.task_always_eager, app.conf.broker_url = saved
        app._pool = None
        app.amqp._producer_pool = None


def test_with_a_broker_a_failure_is_requeued_with_a_countdown(not_eager, twilio_standin):
    from celery.exceptions import Retry

    message = enqueue_uncommitted()
    twilio_standin.fail_next(1, status=503)
    # As a worker runs it: not eager, not called directly.
    send_message.push_request(id="task-1", retries=0, is_eager=False, called_directly=False, delivery_info={})
    try:
        with pytest.raises(Retry) as info:
            send_message.run(str(message.pk))
    finally:
        send_message.pop_request()
    assert 20 < float(info.value.when) < 40
    message.refresh_from_db()
    assert message.status == Status.FAILED


def test_attempt_send_outcomes(sms_outbox, settings):
    settings.SMS_RATE_PER_SECOND = 1
    a = enqueue_uncommitted()
    b = enqueue_uncommitted()
    assert attempt_send(message_id=a.pk).result == "sent"
    deferred = attempt_send(message_id=b.pk)
    assert deferred.result == "deferred"
    assert deferred.rate_reserved
    assert 0.5 < deferred.retry_in <= 1.0
    # The holder of a booked slot sends without taking another token.
    OutboxMessage.objects.filter(pk=b.pk).update(next_attempt_at=timezone.now())
    assert attempt_send(message_id=b.pk, rate_reserved=True).result == "sent"


def published_tasks(app) -> list:
    """Drain the in-memory broker's default queue."""
    messages = []
    with app.connection_for_read() as conn:
        queue = conn.SimpleQueue(app.conf.task_default_queue)
        try:
            while True:
                try:
                    msg = queue.get(timeout=0.2)
                except queue.Empty:
                    break
                messages.append(msg)
                msg.ack()
        finally:
            queue.close()
    return messages


def test_with_a_broker_a_rate_deferral_books_a_slot_and_requeues(not_eager, settings, sms_outbox):
    settings.SMS_RATE_PER_SECOND = 1
    published_tasks(not_eager)
    first, second = enqueue_uncommitted(), enqueue_uncommitted()
    send_message.push_request(id="task-2", retries=0, is_eager=False, called_directly=False, delivery_info={})
    try:
        assert send_message.run(str(first.pk)) == "sent"
        assert send_message.run(str(second.pk)) == "deferred"
    finally:
        send_message.pop_request()
    [task] = published_tasks(not_eager)
    assert task.headers["task"] == "notifications.tasks.send_message"
    assert task.headers["eta"] is not None
    args, kwargs, _embed = task.decode()
    assert args == [str(second.pk)]
    assert kwargs == {"rate_reserved": True}
    second.refresh_from_db()
    assert (second.status, second.attempts) == (Status.PENDING, 0)
    assert len(sms_outbox) == 1


def test_with_a_broker_a_message_with_no_slot_in_the_window_waits_for_the_sweep(
    not_eager, settings, sms_outbox, time_machine
):
    """Over the rate with every slot of SMS_RATE_MAX_RESERVE_SECONDS booked, a message books
    nothing, is not even claimed, and queues no task of its own (one per message, each coming back
    every window, was a polling storm under a backlog): it stays pending, due, and the sweep
    queues it again when the rate has room."""
    time_machine.move_to("2026-12-03T10:00:00+08:00", tick=False)
    settings.SMS_RATE_PER_SECOND = 1
    settings.SMS_RATE_MAX_RESERVE_SECONDS = 1
    published_tasks(not_eager)
    first, second, third = enqueue_uncommitted(), enqueue_uncommitted(), enqueue_uncommitted()
    send_message.push_request(id="task-3", retries=0, is_eager=False, called_directly=False, delivery_info={})
    try:
        assert send_message.run(str(first.pk)) == "sent"
        assert send_message.run(str(second.pk)) == "deferred"  # books the slot one second away
        assert send_message.run(str(third.pk)) == "deferred"  # the window is full: books nothing
    finally:
        send_message.pop_request()
    tasks = published_tasks(not_eager)
    assert [t.decode()[0] for t in tasks] == [[str(second.pk)]]  # only the booked one comes back
    third.refresh_from_db()
    # Not even claimed (the bucket said no room with one cache read): untouched, pending and due.
    assert (third.status, third.attempts, third.claimed_at) == (Status.PENDING, 0, None)
    assert third.next_attempt_at <= timezone.now()
    assert dispatch_due().queued == []  # the sweep does not queue it into a full window either
    # Once the rate has room again (and its grace has passed), the periodic sweep queues it.
    time_machine.move_to(timezone.now() + timedelta(seconds=settings.SMS_DISPATCH_GRACE + 1), tick=False)
    assert str(third.pk) in dispatch_due().queued
    assert str(third.pk) in [t.decode()[0][0] for t in published_tasks(not_eager)]
    assert len(sms_outbox) == 1


def test_with_a_broker_a_text_committed_into_a_full_window_is_left_to_the_sweep(
    not_eager, settings, sms_outbox, time_machine, django_capture_on_commit_callbacks
):
    """With every slot of the window booked, committing a text publishes no task (it would find no
    slot and leave its row due): the row is pending and due, and the sweep queues it once the rate
    has room. Below the rate a committed text is published at once, as always."""
    from notifications.ratelimit import reset_sms_bucket, sms_bucket

    time_machine.move_to("2026-12-03T10:00:00+08:00", tick=False)
    settings.SMS_RATE_PER_SECOND = 1
    settings.SMS_RATE_MAX_RESERVE_SECONDS = 1
    reset_sms_bucket()
    published_tasks(not_eager)
    with django_capture_on_commit_callbacks(execute=True), transaction.atomic():
        below = enqueue_sms(to=PHONE, template="otp_code", context={"code": "1", "minutes": 5})
    assert [t.decode()[0] for t in published_tasks(not_eager)] == [[str(below.pk)]]
    bucket = sms_bucket()
    while bucket.bookable(max_reserve=1):  # the burst and every slot of the window taken
        bucket.acquire(max_reserve=1)
    with django_capture_on_commit_callbacks(execute=True), transaction.atomic():
        full = enqueue_sms(to=PHONE, template="otp_code", context={"code": "2", "minutes": 5})
    assert published_tasks(not_eager) == []
    full.refresh_from_db()
    assert (full.status, full.attempts, full.claimed_at) == (Status.PENDING, 0, None)
    time_machine.move_to(timezone.now() + timedelta(seconds=settings.SMS_DISPATCH_GRACE + 2), tick=False)
    # Oldest first: the first text too, whose published task no worker ran here.
    assert dispatch_due().queued == [str(below.pk), str(full.pk)]
    assert [t.decode()[0][0] for t in published_tasks(not_eager)] == [str(below.pk), str(full.pk)]


def test_a_template_removed_after_enqueue_still_sends_its_stored_text(sms_outbox, no_grace):
    message = enqueue_uncommitted(template="case_received", context={"case_number": "N9", "item_name": "X"})
    OutboxMessage.objects.filter(pk=message.pk).update(template="retired_template")
    dispatch_due()
    message.refresh_from_db()
    assert message.status == Status.SENT
    assert "N9" in sms_outbox[0].body


# --- a worker killed mid-send: the provider is asked before the retry --------------------------


def _killed_after_provider_took_it(message: OutboxMessage, deliver) -> None:
    """The provider accepted the message, then the worker died before recording it."""
    from notifications.backends import SmsPayload

    deliver(SmsPayload(to=message.to, body=message.body, reference=str(message.pk)))
    OutboxMessage.objects.filter(pk=message.pk).update(
        status=Status.SENDING, attempts=1, claimed_at=timezone.now() - timedelta(seconds=301)
    )


def test_recovered_message_the_provider_already_took_is_not_sent_again(settings, twilio_standin, no_grace):
    from notifications.backends import TwilioBackend

    settings.SMS_SENDING_TIMEOUT = 300
    message = enqueue_uncommitted()
    _killed_after_provider_took_it(message, TwilioBackend().send)
    (sid,) = twilio_standin.messages

    assert dispatch_due().recovered == 1
    message.refresh_from_db()
    assert (message.status, message.provider_message_id) == (Status.SENT, sid)
    assert len(twilio_standin.message_requests) == 1  # one copy only
    assert "123456" not in message.body  # the code is masked as after any send


def test_an_identical_earlier_message_of_another_row_is_not_mistaken_for_this_one(
    settings, twilio_standin, no_grace, enqueue_committed
):
    settings.SMS_SENDING_TIMEOUT = 300
    first = enqueue_committed(
        template="rating_invitation", context={"case_number": "520102-20261203-000001", "item_name": "户籍迁移"}
    )
    assert first.status == Status.SENT
    # The same text again (a second, legitimate message) whose worker died BEFORE reaching the provider.
    second = enqueue_uncommitted(
        template="rating_invitation", context={"case_number": "520102-20261203-000001", "item_name": "户籍迁移"}
    )
    OutboxMessage.objects.filter(pk=second.pk).update(
        status=Status.SENDING, attempts=1, claimed_at=timezone.now() - timedelta(seconds=301)
    )
    dispatch_due()
    second.refresh_from_db()
    assert second.status == Status.SENT and second.provider_message_id != first.provider_message_id
    assert len(twilio_standin.message_requests) == 2


def test_locmem_and_file_backends_find_their_earlier_copy(settings, tmp_path, sms_outbox, no_grace):
    from notifications.backends import FileBackend, LocmemBackend

    settings.SMS_SENDING_TIMEOUT = 300
    message = enqueue_uncommitted()
    _killed_after_provider_took_it(message, LocmemBackend().send)
    dispatch_due()
    message.refresh_from_db()
    assert message.status == Status.SENT and len(sms_outbox) == 1

    settings.SMS_BACKEND, settings.SMS_FILE_DIR = "file", str(tmp_path)
    other = enqueue_uncommitted(context={"code": "654321", "minutes": 5})
    _killed_after_provider_took_it(other, FileBackend(tmp_path).send)
    mtime = (tmp_path / f"{other.pk}.sms").stat().st_mtime_ns
    dispatch_due()
    other.refresh_from_db()
    assert other.status == Status.SENT
    assert (tmp_path / f"{other.pk}.sms").stat().st_mtime_ns == mtime  # not written again


def test_provider_that_cannot_be_asked_is_a_retry_not_a_second_copy(settings, twilio_standin, no_grace):
    from notifications.backends import TwilioBackend

    settings.SMS_SENDING_TIMEOUT = 300
    message = enqueue_uncommitted()
    _killed_after_provider_took_it(message, TwilioBackend().send)
    settings.TWILIO_API_BASE_URL = "http://127.0.0.1:9"  # the provider is unreachable now
    dispatch_due()
    message.refresh_from_db()
    assert message.status == Status.FAILED and "查询 Twilio" in message.last_error
    settings.TWILIO_API_BASE_URL = twilio_standin.base_url
    time_passes(message)
    dispatch_due()
    message.refresh_from_db()
    assert message.status == Status.SENT
    assert len(twilio_standin.message_requests) == 1

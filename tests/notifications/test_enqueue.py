"""enqueue_sms: the message exists if and only if the cause committed."""

from __future__ import annotations

import pytest
from django.db import transaction

from notifications.actions import enqueue_sms, mark_written, outbox_inserts, staged_sms
from notifications.models import OutboxMessage
from tests.notifications.conftest import PHONE

pytestmark = pytest.mark.django_db


class Boom(Exception):
    pass


def test_committed_message_is_written_and_sent(enqueue_committed, sms_outbox):
    message = enqueue_committed(
        template="case_mailed", context={"case_number": "N1", "item_name": "X", "tracking_number": "EMS1"}
    )
    assert message.status == OutboxMessage.Status.SENT
    assert message.to == "+8613800138000"
    assert message.attempts == 1
    assert message.sent_at is not None
    assert message.provider_message_id == f"locmem-{message.pk}"
    assert [(m.to, m.body) for m in sms_outbox] == [("+8613800138000", message.body)]
    assert "EMS1" in message.body


def test_message_is_not_sent_before_commit(django_capture_on_commit_callbacks, sms_outbox):
    with django_capture_on_commit_callbacks(execute=False) as callbacks, transaction.atomic():
        message = enqueue_sms(to=PHONE, template="otp_code", context={"code": "1", "minutes": 5})
        assert OutboxMessage.objects.filter(pk=message.pk, status="pending").exists()
    assert len(callbacks) == 1
    assert sms_outbox == []


def test_rolled_back_cause_leaves_no_row_and_sends_nothing(django_capture_on_commit_callbacks, sms_outbox):
    with django_capture_on_commit_callbacks(execute=True) as callbacks, pytest.raises(Boom), transaction.atomic():
        enqueue_sms(to=PHONE, template="otp_code", context={"code": "1", "minutes": 5})
        raise Boom
    assert callbacks == []
    assert not OutboxMessage.objects.exists()
    assert sms_outbox == []


@pytest.mark.django_db(transaction=True)
def test_real_commit_and_real_rollback(sms_outbox):
    # Without the test's wrapping transaction: real COMMIT and ROLLBACK on the database.
    with pytest.raises(Boom), transaction.atomic():
        enqueue_sms(to=PHONE, template="otp_code", context={"code": "111111", "minutes": 5})
        raise Boom
    assert OutboxMessage.objects.count() == 0
    with transaction.atomic():
        message = enqueue_sms(to=PHONE, template="otp_code", context={"code": "222222", "minutes": 5})
    message.refresh_from_db()
    assert message.status == OutboxMessage.Status.SENT
    assert [m.body for m in sms_outbox] == ["【贵州政务服务】您的验证码为222222，5分钟内有效，请勿泄露。"]


def test_same_dedupe_key_yields_the_same_row_and_one_send(enqueue_committed, sms_outbox):
    first = enqueue_committed(
        dedupe_key="case:N1:received", template="case_received", context={"case_number": "N1", "item_name": "X"}
    )
    second = enqueue_committed(
        dedupe_key="case:N1:received", template="case_received", context={"case_number": "N1", "item_name": "X"}
    )
    assert first.pk == second.pk
    assert OutboxMessage.objects.count() == 1
    assert len(sms_outbox) == 1


def test_dedupe_key_within_one_transaction(django_capture_on_commit_callbacks, sms_outbox):
    with django_capture_on_commit_callbacks(execute=True), transaction.atomic():
        a = enqueue_sms(to=PHONE, template="otp_code", context={"code": "1", "minutes": 5}, dedupe_key="k")
        b = enqueue_sms(to=PHONE, template="otp_code", context={"code": "1", "minutes": 5}, dedupe_key="k")
    assert a.pk == b.pk
    assert len(sms_outbox) == 1


def test_without_dedupe_key_every_call_is_a_new_message(enqueue_committed, sms_outbox):
    enqueue_committed()
    enqueue_committed()
    assert OutboxMessage.objects.count() == 2
    assert OutboxMessage.objects.filter(dedupe_key__isnull=True).count() == 2
    assert len(sms_outbox) == 2


@pytest.mark.parametrize(
    ("kwargs", "error"),
    [
        ({"template": "nope", "context": {}}, "未知的短信模板"),
        ({"template": "otp_code", "context": {"code": "1"}}, "缺少变量"),
        ({"to": "12345", "template": "otp_code", "context": {"code": "1", "minutes": 5}}, "无效的手机号码"),
        ({"template": "otp_code", "context": {"code": "1", "minutes": 5}, "dedupe_key": "  "}, "dedupe_key"),
    ],
)
def test_bad_input_writes_nothing(kwargs, error, django_capture_on_commit_callbacks):
    kwargs.setdefault("to", PHONE)
    with (
        django_capture_on_commit_callbacks(execute=True) as callbacks,
        transaction.atomic(),
        pytest.raises(ValueError, match=error),
    ):
        enqueue_sms(**kwargs)
    assert callbacks == []
    assert not OutboxMessage.objects.exists()


@pytest.mark.django_db(transaction=True)
def test_outside_a_transaction_is_refused():
    with pytest.raises(RuntimeError, match="事务"):
        enqueue_sms(to=PHONE, template="otp_code", context={"code": "1", "minutes": 5})
    assert not OutboxMessage.objects.exists()


def test_context_with_dates_is_stored_as_json(enqueue_committed):
    import datetime

    message = enqueue_committed(
        template="case_accepted",
        context={"case_number": "N1", "item_name": "X", "decide_by": datetime.date(2025, 3, 14)},
    )
    assert "2025-03-14" in message.body
    assert message.context["decide_by"] == "2025-03-14"


def test_broker_down_at_commit_keeps_the_message_pending(django_capture_on_commit_callbacks, settings, monkeypatch):
    # The network edge of Celery: publishing fails as it does when the broker is unreachable.
    from notifications.tasks import send_message

    def broker_down(*args, **kwargs):
        raise ConnectionRefusedError("broker down")

    monkeypatch.setattr(send_message, "delay", broker_down)
    with django_capture_on_commit_callbacks(execute=True), transaction.atomic():
        message = enqueue_sms(to=PHONE, template="otp_code", context={"code": "1", "minutes": 5})
    message.refresh_from_db()
    assert message.status == OutboxMessage.Status.PENDING


# --- staged texts: written by the caller's own statement, or when the block ends ---------------

MAILED = {"template": "case_mailed", "context": {"case_number": "N1", "item_name": "X", "tracking_number": "EMS1"}}


def test_a_staged_text_the_caller_did_not_write_is_written_when_the_block_ends(
    django_capture_on_commit_callbacks, sms_outbox
):
    with django_capture_on_commit_callbacks(execute=True) as callbacks, transaction.atomic():
        with staged_sms() as texts:
            message = enqueue_sms(to=PHONE, **MAILED)
            assert texts == [message]
            assert not OutboxMessage.objects.filter(pk=message.pk).exists()  # not yet: staged
        assert OutboxMessage.objects.filter(pk=message.pk, status="pending").exists()
    assert len(callbacks) == 1
    assert [m.to for m in sms_outbox] == ["+8613800138000"]


def test_a_staged_text_the_caller_wrote_is_not_written_twice(django_capture_on_commit_callbacks, sms_outbox):
    from django.db import connection

    with django_capture_on_commit_callbacks(execute=True), transaction.atomic(), staged_sms() as texts:
        message = enqueue_sms(to=PHONE, **MAILED)
        with connection.cursor() as cur:
            for sql, params in outbox_inserts(texts, from_guard=False):
                cur.execute(sql, params)
        mark_written(texts)
    assert OutboxMessage.objects.filter(pk=message.pk).count() == 1
    stored = OutboxMessage.objects.get(pk=message.pk)
    assert (stored.to, stored.body, stored.status) == (message.to, message.body, "sent")
    assert len(sms_outbox) == 1


def test_a_staged_text_of_a_failed_block_is_neither_written_nor_sent(django_capture_on_commit_callbacks, sms_outbox):
    with (
        django_capture_on_commit_callbacks(execute=True) as callbacks,
        pytest.raises(Boom),
        transaction.atomic(),
        staged_sms(),
    ):
        enqueue_sms(to=PHONE, **MAILED)
        raise Boom
    assert callbacks == []
    assert not OutboxMessage.objects.exists()
    assert sms_outbox == []


def test_keyed_texts_are_never_staged(django_capture_on_commit_callbacks):
    """A dedupe key needs its lookup and its savepoint: such a text is written at once."""
    with django_capture_on_commit_callbacks(execute=False), transaction.atomic(), staged_sms() as texts:
        message = enqueue_sms(to=PHONE, dedupe_key="k1", **MAILED)
        assert texts == []
        assert OutboxMessage.objects.filter(pk=message.pk).exists()

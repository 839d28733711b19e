"""The outbox admin: list, filters, the retry action, no readable one-time codes."""

from __future__ import annotations

import pytest
from django.contrib.auth.models import Permission
from django.db import transaction

from notifications.actions import enqueue_sms, retry_messages
from notifications.models import OutboxMessage
from tests.notifications.conftest import PHONE

pytestmark = [pytest.mark.django_db, pytest.mark.urls("tests.notifications.urls_admin")]
Status = OutboxMessage.Status
CHANGELIST = "/admin/notifications/outboxmessage/"


def make(status: str, *, template: str = "case_received", context: dict | None = None) -> OutboxMessage:
    with transaction.atomic():
        message = enqueue_sms(
            to=PHONE, template=template, context=context or {"case_number": "N1", "item_name": "食品经营许可"}
        )
    OutboxMessage.objects.filter(pk=message.pk).update(status=status, attempts=5, last_error="HTTP 500")
    return message


def test_changelist_and_filters(admin_client):
    make(Status.DEAD)
    make(Status.SENT)
    response = admin_client.get(CHANGELIST)
    assert response.status_code == 200
    assert "已放弃" in response.content.decode()
    assert admin_client.get(CHANGELIST, {"status": "dead"}).context["cl"].result_count == 1
    assert admin_client.get(CHANGELIST, {"template": "case_received"}).context["cl"].result_count == 2
    assert admin_client.get(CHANGELIST, {"q": "+8613800138000"}).context["cl"].result_count == 2


def test_retry_action_resends_failed_and_dead_only(admin_client, django_capture_on_commit_callbacks, sms_outbox):
    dead = make(Status.DEAD)
    failed = make(Status.FAILED)
    sent = make(Status.SENT)
    with django_capture_on_commit_callbacks(execute=True):
        response = admin_client.post(
            CHANGELIST,
            {"action": "retry_selected", "_selected_action": [str(dead.pk), str(failed.pk), str(sent.pk)]},
            follow=True,
        )
    assert response.status_code == 200
    text = response.content.decode()
    assert "已重新排队 2 条消息" in text
    assert "1 条未重发" in text
    for m in (dead, failed):
        m.refresh_from_db()
        assert (m.status, m.attempts, m.last_error) == (Status.SENT, 1, "")
    assert len(sms_outbox) == 2


def test_retry_needs_change_permission(client, django_user_model):
    viewer = django_user_model.objects.create_user(username="viewer", password="x", is_staff=True)
    viewer.user_permissions.add(Permission.objects.get(codename="view_outboxmessage"))
    client.force_login(viewer)
    dead = make(Status.DEAD)
    response = client.get(CHANGELIST)
    assert response.status_code == 200
    assert "retry_selected" not in response.content.decode()
    client.post(CHANGELIST, {"action": "retry_selected", "_selected_action": [str(dead.pk)]})
    dead.refresh_from_db()
    assert dead.status == Status.DEAD


def test_pending_one_time_code_is_not_readable(admin_client):
    message = make(Status.PENDING, template="otp_code", context={"code": "987654", "minutes": 5})
    response = admin_client.get(f"{CHANGELIST}{message.pk}/change/")
    assert response.status_code == 200
    page = response.content.decode()
    assert "987654" not in page
    assert "******" in page


def test_expired_one_time_code_is_not_retried(django_capture_on_commit_callbacks, sms_outbox):
    message = make(Status.DEAD, template="otp_code", context={"code": "******", "minutes": 5})
    with django_capture_on_commit_callbacks(execute=True):
        assert retry_messages(message_ids=[message.pk]) == 0
    assert sms_outbox == []


def test_no_add_or_delete(admin_client):
    assert admin_client.get(f"{CHANGELIST}add/").status_code == 403
    message = make(Status.SENT)
    assert admin_client.post(f"{CHANGELIST}{message.pk}/delete/", {"post": "yes"}).status_code == 403
    assert OutboxMessage.objects.filter(pk=message.pk).exists()

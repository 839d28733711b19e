"""Helpers for the notifications tests."""

from __future__ import annotations

from typing import Any

import pytest
from django.db import transaction

from notifications.actions import enqueue_sms
from notifications.models import OutboxMessage

PHONE = "13800138000"


@pytest.fixture
def enqueue_committed(django_capture_on_commit_callbacks):
    """Enqueue in a transaction that commits (the test's own transaction stays open around it),
    running the on-commit callbacks — with eager Celery, the send happens right there."""

    def _enqueue(**kwargs: Any) -> OutboxMessage:
        kwargs.setdefault("to", PHONE)
        kwargs.setdefault("template", "otp_code")
        kwargs.setdefault("context", {"code": "123456", "minutes": 5})
        with django_capture_on_commit_callbacks(execute=True), transaction.atomic():
            message = enqueue_sms(**kwargs)
        message.refresh_from_db()
        return message

    return _enqueue


@pytest.fixture
def no_grace(settings):
    """The sweep takes every due message at once (no grace period for its own task)."""
    settings.SMS_DISPATCH_GRACE = 0
    return settings

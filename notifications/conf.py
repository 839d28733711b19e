"""Settings of the SMS outbox, with their defaults.

The settings that operators set per deployment (SMS_BACKEND, SMS_FILE_DIR, SMS_RATE_PER_SECOND,
SMS_SENDER, TWILIO_*) live in config/settings/base.py. The tuning knobs below rarely change, so their
defaults live here; any of them can still be overridden in the settings module.
Read them through these functions (never at import time) so `override_settings` works in tests.
"""

from __future__ import annotations

import math

from django.conf import settings


def sms_backend() -> str:
    return str(getattr(settings, "SMS_BACKEND", "console"))


def sender() -> str:
    return str(getattr(settings, "SMS_SENDER", "贵州政务服务"))


def rate_per_second() -> float:
    """Provider-wide sending rate; 0 (or less) means unlimited."""
    return float(getattr(settings, "SMS_RATE_PER_SECOND", 10.0) or 0.0)


def rate_burst() -> int:
    """How many messages may go out back-to-back after an idle period (the bucket's capacity)."""
    default = max(1, math.ceil(rate_per_second()))
    return max(1, int(getattr(settings, "SMS_RATE_BURST", default)))


def rate_max_reserve_seconds() -> float:
    """How far ahead a worker may book a sending slot; beyond that it re-schedules without booking."""
    return float(getattr(settings, "SMS_RATE_MAX_RESERVE_SECONDS", 60.0))


def max_attempts() -> int:
    """Provider attempts before a message is given up (status dead)."""
    return max(1, int(getattr(settings, "SMS_MAX_ATTEMPTS", 5)))


def retry_backoff_base() -> float:
    """Seconds before the first retry; doubled for each further attempt."""
    return float(getattr(settings, "SMS_RETRY_BACKOFF_BASE", 30.0))


def retry_backoff_max() -> float:
    return float(getattr(settings, "SMS_RETRY_BACKOFF_MAX", 3600.0))


def sending_timeout() -> float:
    """A row left in "sending" longer than this (seconds) belongs to a worker that died."""
    return float(getattr(settings, "SMS_SENDING_TIMEOUT", 300.0))


def dispatch_grace() -> float:
    """Seconds a due message may wait for its own task before the sweep queues another one."""
    return float(getattr(settings, "SMS_DISPATCH_GRACE", 30.0))


def dispatch_batch() -> int:
    return max(1, int(getattr(settings, "SMS_DISPATCH_BATCH", 500)))


def file_dir() -> str:
    return str(getattr(settings, "SMS_FILE_DIR", "var/sms"))


def twilio_http_timeout() -> float:
    return float(getattr(settings, "TWILIO_HTTP_TIMEOUT", 10.0))

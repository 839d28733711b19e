"""Settings of the SMS outbox, with their defaults.

Every setting here is declared, typed and defaulted once in config/settings/base.py.
Read them through these functions (never at import time) so `override_settings` works in tests.
"""

from __future__ import annotations

import math

from django.conf import settings


def sms_backend() -> str:
    return str(settings.SMS_BACKEND)


def sender() -> str:
    return str(settings.SMS_SENDER)


def rate_per_second() -> float:
    """Provider-wide sending rate; 0 (or less) means unlimited."""
    return float(settings.SMS_RATE_PER_SECOND or 0.0)


def rate_burst() -> int:
    """How many messages may go out back-to-back after an idle period (the bucket's capacity)."""
    burst = settings.SMS_RATE_BURST
    # Unset: one second's worth of the rate, so a burst never outruns the provider's own limit.
    return max(1, int(burst) if burst is not None else math.ceil(rate_per_second()))


def rate_max_reserve_seconds() -> float:
    """How far ahead a worker may book a sending slot; beyond that it re-schedules without booking."""
    return float(settings.SMS_RATE_MAX_RESERVE_SECONDS)


def max_attempts() -> int:
    """Provider attempts before a message is given up (status dead)."""
    return max(1, int(settings.SMS_MAX_ATTEMPTS))


def retry_backoff_base() -> float:
    """Seconds before the first retry; doubled for each further attempt."""
    return float(settings.SMS_RETRY_BACKOFF_BASE)


def retry_backoff_max() -> float:
    return float(settings.SMS_RETRY_BACKOFF_MAX)


def sending_timeout() -> float:
    """A row left in "sending" longer than this (seconds) belongs to a worker that died."""
    return float(settings.SMS_SENDING_TIMEOUT)


def dispatch_grace() -> float:
    """Seconds a due message may wait for its own task before the sweep queues another one."""
    return float(settings.SMS_DISPATCH_GRACE)


def dispatch_batch() -> int:
    return max(1, int(settings.SMS_DISPATCH_BATCH))


def file_dir() -> str:
    return str(settings.SMS_FILE_DIR)


def twilio_http_timeout() -> float:
    return float(settings.TWILIO_HTTP_TIMEOUT)

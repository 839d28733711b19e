"""Phone numbers: one stored form (E.164), one parser, one mask, one model field.

Every phone the system keeps (citizens' accounts, login codes, identity claims, applicants of
cases, queue tickets, appointments, ratings' contacts, the SMS outbox) is stored in E.164
(``+8613800138000``): what Twilio and the carriers take, and the only form that also holds the
non-mainland numbers the SMS outbox and hall kiosks accept. Inputs keep accepting the forms people
type (11 digits, spaces, hyphens, ``+86``/``0086``); pages and API responses keep showing what they
always showed (masked ``138****8000``, or the 11 digits where the full number is shown).
"""

from __future__ import annotations

import re
from typing import Any

from django.db import models

_SEPARATORS = re.compile(r"[\s\-().]")
_CN_MOBILE = re.compile(r"1[3-9]\d{9}")
_E164 = re.compile(r"\+[1-9]\d{6,14}")
CN_PREFIX = "+86"


def normalize_phone(raw: str) -> str:
    """Return `raw` as E.164; an 11-digit mainland mobile number gets +86.

    Accepts "13800138000", "138-0013-8000", "+86 138 0013 8000", "008613800138000" and any other
    E.164 number ("+15005550006"). Raises ValueError for anything else.
    """
    if not isinstance(raw, str):
        raise ValueError("手机号码必须是字符串")
    number = _SEPARATORS.sub("", raw.strip())
    if number.startswith("00"):
        number = "+" + number[2:]
    if _CN_MOBILE.fullmatch(number):
        return CN_PREFIX + number
    if number.startswith("86") and _CN_MOBILE.fullmatch(number[2:]):
        return "+" + number
    if number.startswith(CN_PREFIX):
        if _CN_MOBILE.fullmatch(number[3:]):
            return number
        raise ValueError(f"无效的手机号码：{raw!r}")
    if _E164.fullmatch(number):
        return number
    raise ValueError(f"无效的手机号码：{raw!r}")


def mainland_mobile(raw: str) -> str:
    """`raw` as E.164 when it is a mainland mobile number (citizens log in and applicants are
    reached with those only); ValueError for anything else, foreign numbers included."""
    number = normalize_phone(raw)
    if not is_mainland_mobile(number):
        raise ValueError(f"不是中国大陆手机号码：{raw!r}")
    return number


def is_mainland_mobile(e164: str) -> bool:
    return e164.startswith(CN_PREFIX) and bool(_CN_MOBILE.fullmatch(e164[3:]))


def national(phone: str) -> str:
    """+8613800138000 → 13800138000: the form shown where a full mainland number is shown and
    sent to services that take it so (the real-name service); any other value is returned as is."""
    return phone[3:] if is_mainland_mobile(phone) else phone


def stored_or_raw(raw: str) -> str:
    """The stored form of `raw` when it parses, else `raw` unchanged (a blank, or a legacy value
    that never was a mobile number: comparisons then simply find nothing)."""
    try:
        return normalize_phone(raw)
    except ValueError:
        return raw


def mask_phone(phone: str) -> str:
    """+8613800138000 (or 13800138000) → 138****8000 (for pages and logs)."""
    local = phone[3:] if phone.startswith(CN_PREFIX) else phone
    if len(local) < 7:
        return "*" * len(local)
    return local[:3] + "*" * (len(local) - 7) + local[-4:]


class PhoneField(models.CharField):
    """A CharField that writes and compares phones in the stored form (E.164).

    Values are normalised on the way to the database, in saves and in lookups alike, so
    ``filter(phone="13800138000")`` finds ``+8613800138000`` and no caller can compare two forms.
    Actions still normalise (and validate, with their own messages) before assigning, so the
    instance in memory holds the stored form too. A value that does not parse is written unchanged.
    """

    def get_prep_value(self, value: Any) -> Any:
        value = super().get_prep_value(value)
        if isinstance(value, str) and value:
            return stored_or_raw(value)
        return value

"""Phone numbers for SMS: stored and sent in E.164 (what Twilio and carriers expect)."""

from __future__ import annotations

import re

_SEPARATORS = re.compile(r"[\s\-().]")
_CN_MOBILE = re.compile(r"1[3-9]\d{9}")
_E164 = re.compile(r"\+[1-9]\d{6,14}")


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
        return "+86" + number
    if number.startswith("86") and _CN_MOBILE.fullmatch(number[2:]):
        return "+" + number
    if number.startswith("+86"):
        if _CN_MOBILE.fullmatch(number[3:]):
            return number
        raise ValueError(f"无效的手机号码：{raw!r}")
    if _E164.fullmatch(number):
        return number
    raise ValueError(f"无效的手机号码：{raw!r}")


def mask_phone(e164: str) -> str:
    """+8613800138000 → 138****8000 (for pages and logs)."""
    local = e164[3:] if e164.startswith("+86") else e164
    if len(local) < 7:
        return "*" * len(local)
    return local[:3] + "*" * (len(local) - 7) + local[-4:]

"""Small formatting helpers for the ratings pages."""

from __future__ import annotations

from typing import Any

from django import template

register = template.Library()


@register.filter
def pct(value: Any) -> str:
    """0.9345 → "93.5%"; None → "—" (no ratings is not 0%)."""
    if value is None or value == "":
        return "—"
    try:
        return f"{float(value) * 100:.1f}%"
    except (TypeError, ValueError):
        return "—"


@register.simple_tag
def qs(base: str, **extra: Any) -> str:
    """A query string: ``base`` (already encoded) with ``extra`` parameters replacing their keys."""
    from urllib.parse import parse_qsl, urlencode

    pairs = dict(parse_qsl(base))
    for key, value in extra.items():
        if value in (None, ""):
            pairs.pop(key, None)
        else:
            pairs[key] = str(value)
    return urlencode(pairs)

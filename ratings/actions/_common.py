"""What every ratings action shares: the refusal (409), the rating input and its cleaning, the
small helpers. The actions themselves live in the sibling modules; import them from
``ratings.actions``."""

from __future__ import annotations

import datetime as dt
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from django.conf import settings
from django.core.exceptions import ValidationError
from django.utils import timezone
from django.utils.translation import gettext as _

from core import errors as domain
from ratings.models import indicators_for
from workflows.models import CaseState

# A case can be rated once it reached one of these (一事一评 after the result, or the refusal).
RATEABLE_STATES = (CaseState.DELIVERED, CaseState.DENIED, CaseState.REJECTED)
MAX_COMMENT = 1000


class RatingConflict(domain.Conflict):
    """Not allowed in the current state, or a duplicate (409, with ``state`` and ``allowed``)."""

    def __init__(self, detail: str, *, state: str, allowed: list[str] | None = None) -> None:
        super().__init__(detail, state=state, allowed=allowed or [])
        self.state = state
        self.allowed = self.extra["allowed"]


def rectification_days() -> int:
    return int(settings.RECTIFICATION_DAYS)


def province_escalation_days() -> int:
    """Working days the city has after the deadline before the province takes over."""
    return int(settings.RECTIFICATION_PROVINCE_ESCALATION_DAYS)


# --- input ---------------------------------------------------------------------------------------


@dataclass(frozen=True)
class RatingInput:
    level: Any
    indicators: Mapping[str, Any] | None = None
    comment: str = ""


def _clean(kind: str, data: RatingInput) -> tuple[int, dict[str, int], str]:
    errors: dict[str, list[str]] = {}
    level = data.level
    if isinstance(level, bool) or not isinstance(level, int | str):
        level = None
    try:
        level = int(level) if level is not None else None
    except (TypeError, ValueError):
        level = None
    if level is None or not 1 <= level <= 5:
        errors["level"] = [_("评价等级须为 1（非常不满意）至 5（非常满意）。")]
    allowed = indicators_for(kind)
    cleaned: dict[str, int] = {}
    raw = data.indicators or {}
    if not isinstance(raw, Mapping):
        errors["indicators"] = [_("分项评价格式不正确。")]
    else:
        for name, value in raw.items():
            if name not in allowed:
                errors.setdefault("indicators", []).append(
                    _("未知的评价指标“%(name)s”，可选：%(names)s。") % {"name": name, "names": "、".join(allowed)}
                )
                continue
            try:
                number = int(value)
            except (TypeError, ValueError):
                number = 0
            if isinstance(value, bool) or not 1 <= number <= 5:
                errors.setdefault("indicators", []).append(_("指标“%(label)s”须为 1 至 5。") % {"label": allowed[name]})
                continue
            cleaned[name] = number
    comment = (data.comment or "").strip()
    if len(comment) > MAX_COMMENT:
        errors["comment"] = [_("评价内容不能超过 %(n)s 字。") % {"n": MAX_COMMENT}]
    if errors:
        raise ValidationError(errors)
    assert level is not None
    # "overall" IS the rating's level (a different overall would make two answers to one question).
    cleaned["overall"] = level
    return level, cleaned, comment


def _codes(adcode: str) -> dict[str, str]:
    return {"province_code": adcode[:2], "city_code": adcode[:4], "county_code": adcode}


def _now(at: dt.datetime | None) -> dt.datetime:
    return at if at is not None else timezone.now()


def _text(value: str | None, field: str, message: str, *, limit: int = 2000) -> str:
    text = (value or "").strip()
    if not text:
        raise ValidationError({field: [message]})
    if len(text) > limit:
        raise ValidationError({field: [_("内容不能超过 %(n)s 字。") % {"n": limit}]})
    return text

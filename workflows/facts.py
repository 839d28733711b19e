"""The facts a result certifies (申请表的事项信息), taken at intake into ``Case.form_data``.

A 户籍证明 that states no registration facts certifies nothing to a third party: every result type
names what it certifies (a licence its premises and scope, a certificate its content, an approval
notice what is approved), and some items certify more specific facts (a 户籍证明 the registered
address, the head of household and the registering authority). The result document prints them;
identifiers of other persons are printed masked (个人信息保护法: only what the purpose needs).
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from django.conf import settings
from django.core.exceptions import ValidationError
from django.utils import translation
from django.utils.functional import Promise
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy as _lazy

from accounts.protect import mask_id_number
from services.models import Item


@dataclass(frozen=True)
class Fact:
    key: str
    label: str | Promise
    kind: str = "text"  # text | id_number (printed masked)
    required: bool = True
    max_length: int = 200
    hint: str | Promise = ""

    def as_dict(self) -> dict[str, Any]:
        return {
            "key": self.key,
            "label": str(self.label),
            "kind": self.kind,
            "required": self.required,
            "max_length": self.max_length,
            "hint": str(self.hint),
        }


BY_RESULT_TYPE: dict[str, tuple[Fact, ...]] = {
    "licence": (
        Fact("premises", _lazy("经营（执业）场所"), hint=_lazy("详细地址")),
        Fact("scope", _lazy("许可范围"), max_length=500, hint=_lazy("许可的经营项目、类别或范围")),
    ),
    "certificate": (
        Fact("certified", _lazy("证明内容"), max_length=500, hint=_lazy("经核实需要证明的事实")),
        Fact("purpose", _lazy("用途"), required=False, max_length=100),
    ),
    "approval_notice": (Fact("approved", _lazy("批准内容"), max_length=500, hint=_lazy("批准的事项、标准或金额")),),
}

# Items whose certificate states more specific facts, matched by a word of the item's name (the
# catalog's names are the province's standard ones).
BY_ITEM_NAME: tuple[tuple[str, tuple[Fact, ...]], ...] = (
    (
        "户籍证明",
        (
            Fact("registered_address", _lazy("户籍地址")),
            Fact("household_head", _lazy("户主姓名"), max_length=64),
            Fact("relation", _lazy("与户主关系"), max_length=32),
            Fact("household_head_id", _lazy("户主证件号码"), kind="id_number", required=False, max_length=32),
            Fact("registering_authority", _lazy("户口登记机关"), max_length=100, hint=_lazy("如：××派出所")),
            Fact("purpose", _lazy("用途"), required=False, max_length=100),
        ),
    ),
    (
        "无犯罪记录证明",
        (
            Fact("period", _lazy("查询期间"), max_length=100, hint=_lazy("如：2010年1月1日至今")),
            Fact("finding", _lazy("查询结果"), max_length=200, hint=_lazy("如：未发现有犯罪记录")),
            Fact("purpose", _lazy("用途"), max_length=100),
        ),
    ),
    (
        "婚姻登记记录证明",
        (
            Fact("marriage_record", _lazy("婚姻登记记录"), max_length=500),
            Fact("purpose", _lazy("用途"), required=False, max_length=100),
        ),
    ),
    (
        "学籍证明",
        (
            Fact("school", _lazy("学校"), max_length=100),
            Fact("enrolment", _lazy("学籍信息"), max_length=200, hint=_lazy("专业、年级、入学时间")),
        ),
    ),
)


def facts_for(item: Item) -> tuple[Fact, ...]:
    for word, facts in BY_ITEM_NAME:
        if word in item.name and item.result_type == "certificate":
            return facts
    return BY_RESULT_TYPE.get(item.result_type, ())


def clean(item: Item, data: Mapping[str, Any] | None) -> dict[str, str]:
    """The validated facts for ``item`` (every required one present, nothing unknown, lengths,
    dates, ID numbers), or a ValidationError naming each problem under ``form.<key>``."""
    facts = facts_for(item)
    given = {str(k): str(v if v is not None else "").strip() for k, v in (data or {}).items()}
    known = {f.key for f in facts}
    errors: dict[str, list[str]] = {}
    for key in sorted(set(given) - known):
        errors[f"form.{key}"] = [_("事项“%(item)s”没有“%(key)s”这一项。") % {"item": item.name, "key": key}]
    out: dict[str, str] = {}
    for f in facts:
        value = given.get(f.key, "")
        if not value:
            if f.required:
                errors[f"form.{f.key}"] = [_("请填写%(label)s。") % {"label": f.label}]
            continue
        if len(value) > f.max_length:
            errors[f"form.{f.key}"] = [_("%(label)s不能超过 %(n)s 字。") % {"label": f.label, "n": f.max_length}]
            continue
        if f.kind == "id_number" and not re.fullmatch(r"[0-9]{17}[0-9Xx]|[0-9A-Z]{18}", value):
            errors[f"form.{f.key}"] = [_("%(label)s格式不正确。") % {"label": f.label}]
            continue
        out[f.key] = value.upper() if f.kind == "id_number" else value
    if errors:
        raise ValidationError(errors)
    return out


def printed(item: Item, data: Mapping[str, Any] | None) -> list[tuple[str, str]]:
    """(label, value) pairs as a result document prints them: in the item's order, identifiers of
    other persons masked, empty ones left out."""
    rows: list[tuple[str, str]] = []
    for f in facts_for(item):
        value = str((data or {}).get(f.key) or "").strip()
        if not value:
            continue
        with translation.override(settings.LANGUAGE_CODE):  # the documents are Chinese whoever renders them
            label = str(f.label)
        rows.append((label, mask_id_number(value) if f.kind == "id_number" else value))
    return rows

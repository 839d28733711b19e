"""The catalog's exchange format: one row per item, materials in one cell.

The same format is used by the data shipped in the repository (services/data/items.csv), the admin
import/export (CSV and Excel) and the `import_catalog` / `export_catalog` commands, so a file
exported from one place can be edited in a spreadsheet and imported anywhere else. The format is
documented for humans in services/data/README.md; this module is its single implementation.

Parsing never touches the database except through a `Vocabulary` (the known department kinds and
industry zones), so a whole file can be validated before anything is written.
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from decimal import Decimal, InvalidOperation
from typing import TYPE_CHECKING, Any

from django.utils.translation import gettext as _
from django.utils.translation import ngettext, pgettext

from services.models import HandlingLevel, ItemType, Mode, ResultType

if TYPE_CHECKING:
    from services.models import Item

# (key, header): the header is what a spreadsheet shows; either is accepted on import.
COLUMNS: list[tuple[str, str]] = [
    ("code", "事项编码"),
    ("name", "事项名称"),
    ("item_type", "事项类型"),
    ("department_kind", "部门类别"),
    ("handling_level", "办理层级"),
    ("modes", "办理模式"),
    ("legal_days", "法定时限"),
    ("committed_days", "承诺时限"),
    ("fee", "收费"),
    ("visits_required", "到现场次数"),
    ("result_type", "结果类型"),
    ("result_name", "结果名称"),
    ("zones", "行业专区"),
    ("co_department_kinds", "联办部门类别"),
    ("keywords", "检索关键词"),
    ("deemed_acceptance", "逾期视为受理"),
    ("is_active", "在用"),
    ("legal_basis", "设定依据"),
    ("materials", "申请材料"),
]
HEADERS: dict[str, str] = dict(COLUMNS)
KEY_BY_HEADER: dict[str, str] = {header: key for key, header in COLUMNS}
REQUIRED_KEYS = (
    "code",
    "name",
    "item_type",
    "department_kind",
    "handling_level",
    "legal_days",
    "committed_days",
    "result_type",
)

# DB52/T 1264-2018 基本编码: 2-letter item-type code + 5-digit main item + 3-digit sub-item, here
# prefixed with the adcode of the region that publishes the standard list (520000 for Guizhou).
TYPE_CODES: dict[str, str] = {
    ItemType.LICENSING: "XK",
    ItemType.CONFIRMATION: "QR",
    ItemType.PAYMENT: "JF",
    ItemType.REGISTRATION: "DJ",
    ItemType.PUBLIC_SERVICE: "GG",
    ItemType.OTHER: "QT",
}
CODE_RE = re.compile(r"^(?P<region>\d{6})-(?P<type>[A-Z]{2})-(?P<main>\d{5})-(?P<sub>\d{3})$")

_LIST_SPLIT = re.compile(r"[,，、;；\s]+")
_TRUE = {"是", "y", "yes", "true", "1", "√", "需要"}
_FALSE = {"否", "n", "no", "false", "0", "×", "不需要", ""}
_REQUIRED_TRUE = {"必要", "必须", "必需", "必填", "是", "required", "true", "1", ""}
_REQUIRED_FALSE = {"可选", "非必要", "容缺", "选填", "否", "optional", "false", "0"}
_ORIGINAL_TRUE = {"原件", "需原件", "核验原件", "是", "true", "1"}
_ORIGINAL_FALSE = {"", "复印件", "无需原件", "否", "false", "0"}
MAX_VISITS = 5


@dataclass
class MaterialSpec:
    code: str
    name: str
    required: bool = True
    original_needed: bool = False
    e_license_type: str = ""


@dataclass
class ItemSpec:
    code: str
    name: str
    item_type: str
    department_kind: str
    handling_level: str
    online: bool
    proxy: bool
    joint: bool
    legal_days: int
    committed_days: int
    fee: Decimal
    visits_required: int
    result_type: str
    result_name: str = ""
    zones: list[str] = field(default_factory=list)
    co_department_kinds: list[str] = field(default_factory=list)
    keywords: str = ""
    deemed_acceptance: bool = True
    is_active: bool = True
    legal_basis: str = ""
    materials: list[MaterialSpec] = field(default_factory=list)

    def item_fields(self) -> dict[str, Any]:
        """The values of Item's own columns (no relations)."""
        return {
            "name": self.name,
            "item_type": self.item_type,
            "department_kind_id": self.department_kind,
            "handling_level": self.handling_level,
            "online": self.online,
            "proxy": self.proxy,
            "joint": self.joint,
            "legal_days": self.legal_days,
            "committed_days": self.committed_days,
            "fee": self.fee,
            "visits_required": self.visits_required,
            "result_type": self.result_type,
            "result_name": self.result_name,
            "keywords": self.keywords,
            "deemed_acceptance": self.deemed_acceptance,
            "is_active": self.is_active,
            "legal_basis": self.legal_basis,
        }


class RowError(Exception):
    """Everything wrong with one row, by column header, in Chinese."""

    def __init__(self, errors: dict[str, list[str]]) -> None:
        super().__init__("; ".join(m for ms in errors.values() for m in ms))
        self.errors = errors

    def prefixed(self, line: int) -> dict[str, list[str]]:
        """The same errors, each message prefixed with the spreadsheet line ("第 3 行：...")."""
        return {
            col: [_("第 %(line)s 行：%(message)s") % {"line": line, "message": m} for m in ms]
            for col, ms in self.errors.items()
        }


@dataclass
class Vocabulary:
    """Known department kinds and industry zones, each findable by code or by Chinese name."""

    kinds: dict[str, str]
    zones: dict[str, str]

    @classmethod
    def from_pairs(cls, kinds: Iterable[tuple[str, str]], zones: Iterable[tuple[str, str]]) -> Vocabulary:
        def index(pairs: Iterable[tuple[str, str]]) -> dict[str, str]:
            out: dict[str, str] = {}
            for code, name in pairs:
                out[code] = code
                out.setdefault(name, code)
            return out

        return cls(kinds=index(kinds), zones=index(zones))

    @classmethod
    def from_db(cls) -> Vocabulary:
        from services.models import DepartmentKind, IndustryZone

        return cls.from_pairs(
            DepartmentKind.objects.values_list("code", "name"), IndustryZone.objects.values_list("code", "name")
        )


def _days(n: int) -> str:
    """“n 个工作日”, plural-aware in English (1 working day, 2 working days)."""
    return ngettext("%(n)s 个工作日", "%(n)s 个工作日", n) % {"n": n}


def line_number(data_row_number: int) -> int:
    """Spreadsheet line of the n-th data row (1-based): the header is line 1."""
    return data_row_number + 1


def normalise_row(row: Mapping[str, Any]) -> dict[str, str]:
    """Map Chinese headers (or keys) to keys; every value becomes a stripped string."""
    out: dict[str, str] = {}
    for header, value in row.items():
        if header is None:
            continue
        h = str(header).strip()
        key = KEY_BY_HEADER.get(h, h if h in HEADERS else None)
        if key is None:
            continue
        if value is None:
            text = ""
        elif isinstance(value, float) and value.is_integer():
            # Excel stores 20 as 20.0.
            text = str(int(value))
        else:
            text = str(value).strip()
        out[key] = text
    return out


def missing_columns(headers: Iterable[str | None]) -> list[str]:
    present = {KEY_BY_HEADER.get(str(h).strip(), str(h).strip()) for h in headers if h is not None}
    return [HEADERS[k] for k in REQUIRED_KEYS if k not in present]


def _choice(value: str, choices: type[Any], what: str) -> str:
    v = value.strip()
    by_label = {str(label): code for code, label in choices.choices}
    if v in choices.values:
        return v
    if v in by_label:
        return by_label[v]
    allowed = pgettext("list separator", "、").join(f"{code}（{label}）" for code, label in choices.choices)
    raise ValueError(
        _("未知的%(what)s「%(value)s」，可选：%(allowed)s") % {"what": what, "value": value, "allowed": allowed}
    )


_LEVEL_ALIASES = {
    "省": "province",
    "市": "city",
    "市（州）": "city",
    "州": "city",
    "县": "county",
    "县（市、区）": "county",
}
_MODE_ALIASES = {
    "网办": "online",
    "全程网办": "online",
    "代收代办": "proxy",
    "异地代收代办": "proxy",
    "联办": "joint",
    "多地联办": "joint",
}
_RESULT_ALIASES = {
    "证照": "licence",
    "许可证": "licence",
    "证书": "certificate",
    "证明": "certificate",
    "批文": "approval_notice",
}


def _bool(value: str, truthy: set[str], falsy: set[str], what: str) -> bool:
    v = value.strip().lower()
    if v in truthy:
        return True
    if v in falsy:
        return False
    raise ValueError(_("%(what)s应填写「是」或「否」，而不是「%(value)s」") % {"what": what, "value": value})


def split_list(value: str) -> list[str]:
    return [p for p in _LIST_SPLIT.split(value.strip()) if p]


def parse_modes(value: str) -> set[str]:
    modes: set[str] = set()
    for part in split_list(value):
        mode = _MODE_ALIASES.get(part, part)
        if mode not in Mode.values:
            allowed = pgettext("list separator", "、").join(f"{code}（{label}）" for code, label in Mode.choices)
            raise ValueError(_("未知的办理模式「%(mode)s」，可选：%(allowed)s") % {"mode": part, "allowed": allowed})
        modes.add(mode)
    return modes


def encode_materials(materials: Iterable[Any]) -> str:
    """One material per line: 编码|名称|必要或可选|原件或复印件|可免提交的电子证照类型."""
    lines = []
    for m in materials:
        parts = [m.code, m.name, "必要" if m.required else "可选", "原件" if m.original_needed else "复印件"]
        if m.e_license_type:
            parts.append(m.e_license_type)
        lines.append("|".join(parts))
    return "\n".join(lines)


def decode_materials(value: str) -> list[MaterialSpec]:
    """Parse the materials cell; raise ValueError naming the bad line (申请材料第 n 条)."""
    specs: list[MaterialSpec] = []
    seen: set[str] = set()
    lines = [ln.strip() for ln in value.replace("\r\n", "\n").replace("\r", "\n").split("\n")]
    for n, line in enumerate((ln for ln in lines if ln), 1):
        parts = [p.strip() for p in line.split("|")]
        if len(parts) < 2 or len(parts) > 5:
            raise ValueError(
                _("申请材料第 %(n)s 条「%(line)s」格式不对，应为：编码|名称|必要或可选|原件或复印件|电子证照类型")
                % {"n": n, "line": line}
            )
        parts += [""] * (5 - len(parts))
        code, name, required, original, e_license = parts
        if not code or not name:
            raise ValueError(_("申请材料第 %(n)s 条缺少编码或名称") % {"n": n})
        if len(code) > 64 or len(name) > 200 or len(e_license) > 64:
            raise ValueError(_("申请材料第 %(n)s 条的编码、名称或电子证照类型过长") % {"n": n})
        if code in seen:
            raise ValueError(_("申请材料编码「%(code)s」重复") % {"code": code})
        seen.add(code)
        if required.lower() in _REQUIRED_TRUE:
            req = True
        elif required.lower() in _REQUIRED_FALSE:
            req = False
        else:
            raise ValueError(
                _("申请材料第 %(n)s 条的第 3 项应为「必要」或「可选」，而不是「%(value)s」")
                % {"n": n, "value": required}
            )
        if original.lower() in _ORIGINAL_TRUE:
            orig = True
        elif original.lower() in _ORIGINAL_FALSE:
            orig = False
        else:
            raise ValueError(
                _("申请材料第 %(n)s 条的第 4 项应为「原件」或「复印件」，而不是「%(value)s」")
                % {"n": n, "value": original}
            )
        specs.append(MaterialSpec(code=code, name=name, required=req, original_needed=orig, e_license_type=e_license))
    return specs


def _int(value: str, what: str, minimum: int) -> int:
    try:
        n = int(Decimal(value))
        if Decimal(value) != n:
            raise InvalidOperation
    except (InvalidOperation, ValueError):
        raise ValueError(_("%(what)s应为整数，而不是「%(value)s」") % {"what": what, "value": value}) from None
    if n < minimum:
        raise ValueError(_("%(what)s不能小于 %(n)s") % {"what": what, "n": minimum})
    return n


def parse_row(row: Mapping[str, Any], vocab: Vocabulary) -> ItemSpec:
    """Validate one row (keys or Chinese headers) and return the item it describes.

    Raises RowError listing every problem in the row at once (one-time notice, 一次性告知).
    """
    r = normalise_row(row)
    errors: dict[str, list[str]] = {}

    def fail(key: str, message: str) -> None:
        errors.setdefault(HEADERS[key], []).append(message)

    def get(key: str) -> str:
        return r.get(key, "")

    for key in REQUIRED_KEYS:
        if not get(key):
            fail(key, _("%(what)s不能为空") % {"what": HEADERS[key]})

    out: dict[str, Any] = {}

    def attempt(key: str, fn: Any) -> None:
        if key in REQUIRED_KEYS and not get(key):
            return
        try:
            out[key] = fn(get(key))
        except ValueError as e:
            fail(key, str(e))

    def parse_name(v: str) -> str:
        if len(v) > 200:
            raise ValueError(_("事项名称不能超过 %(n)s 个字") % {"n": 200})
        return v

    attempt("name", parse_name)
    attempt("item_type", lambda v: _choice(v, ItemType, "事项类型"))
    attempt("handling_level", lambda v: _choice(_LEVEL_ALIASES.get(v) or v, HandlingLevel, "办理层级"))
    attempt("result_type", lambda v: _choice(_RESULT_ALIASES.get(v) or v, ResultType, "结果类型"))
    attempt("modes", parse_modes)
    attempt("legal_days", lambda v: _int(v, "法定时限", 1))
    attempt("committed_days", lambda v: _int(v, "承诺时限", 1))
    attempt("visits_required", lambda v: _int(v or "0", "到现场次数", 0))
    attempt("deemed_acceptance", lambda v: _bool(v or "是", _TRUE, _FALSE, "逾期视为受理"))
    attempt("is_active", lambda v: _bool(v or "是", _TRUE, _FALSE, "在用"))
    attempt("materials", decode_materials)

    def parse_fee(v: str) -> Decimal:
        if v in ("", "免费", "不收费"):
            return Decimal("0")
        try:
            fee = Decimal(v.removesuffix("元"))
        except InvalidOperation:
            raise ValueError(_("收费应为金额（元），而不是「%(value)s」") % {"value": v}) from None
        if fee < 0 or fee >= Decimal("100000000") or fee != fee.quantize(Decimal("0.01")):
            raise ValueError(_("收费金额「%(value)s」不合理") % {"value": v})
        return fee

    attempt("fee", parse_fee)

    def lookup(key: str, table: dict[str, str], what: str) -> list[str]:
        codes = []
        for part in split_list(get(key)):
            if part not in table:
                fail(key, _("未知的%(what)s「%(value)s」") % {"what": what, "value": part})
            elif table[part] not in codes:
                codes.append(table[part])
        return codes

    kind = get("department_kind")
    if kind:
        if kind in vocab.kinds:
            out["department_kind"] = vocab.kinds[kind]
        else:
            fail("department_kind", _("未知的部门类别「%(kind)s」") % {"kind": kind})
    out["zones"] = lookup("zones", vocab.zones, "行业专区")
    out["co_department_kinds"] = lookup("co_department_kinds", vocab.kinds, "联办部门类别")

    for key, limit in (("result_name", 128), ("keywords", 200)):
        if len(get(key)) > limit:
            fail(key, _("%(what)s不能超过 %(n)s 个字") % {"what": HEADERS[key], "n": limit})

    # Cross-field rules, only where the fields themselves parsed.
    if "legal_days" in out and "committed_days" in out and out["committed_days"] > out["legal_days"]:
        fail(
            "committed_days",
            _("承诺时限（%(committed)s）不能超过法定时限（%(legal)s）")
            % {"committed": _days(out["committed_days"]), "legal": _days(out["legal_days"])},
        )
    if "visits_required" in out and out["visits_required"] > MAX_VISITS:
        fail("visits_required", _("到现场次数不能超过 %(n)s 次") % {"n": MAX_VISITS})
    code = get("code")
    if code:
        m = CODE_RE.match(code)
        if not m:
            fail(
                "code",
                _("事项编码「%(code)s」格式不对，应为“区划代码-类型代码-5位主项-3位子项”，如 520000-XK-01001-000")
                % {"code": code},
            )
        elif "item_type" in out and m["type"] != TYPE_CODES[out["item_type"]]:
            fail(
                "code",
                _("事项编码中的类型代码「%(code)s」与事项类型「%(type)s」不符，应为「%(expected)s」")
                % {
                    "code": m["type"],
                    "type": ItemType(out["item_type"]).label,
                    "expected": TYPE_CODES[out["item_type"]],
                },
            )
    modes = out.get("modes", set())
    if out["co_department_kinds"] and "modes" in out and Mode.JOINT not in modes:
        fail("co_department_kinds", _("填写了联办部门类别的事项，办理模式必须包含 joint（多地联办）"))
    if out.get("department_kind") and out["department_kind"] in out["co_department_kinds"]:
        fail("co_department_kinds", _("联办部门类别不能包含牵头部门类别本身"))
    if Mode.ONLINE in modes and out.get("visits_required", 0) > 0:
        fail("visits_required", _("全程网办的事项到现场次数应为 0"))

    if errors:
        raise RowError(errors)
    return ItemSpec(
        code=code,
        name=out["name"],
        item_type=out["item_type"],
        department_kind=out["department_kind"],
        handling_level=out["handling_level"],
        online=Mode.ONLINE in modes,
        proxy=Mode.PROXY in modes,
        joint=Mode.JOINT in modes,
        legal_days=out["legal_days"],
        committed_days=out["committed_days"],
        fee=out["fee"],
        visits_required=out["visits_required"],
        result_type=out["result_type"],
        result_name=get("result_name"),
        zones=out["zones"],
        co_department_kinds=out["co_department_kinds"],
        keywords=get("keywords"),
        deemed_acceptance=out["deemed_acceptance"],
        is_active=out["is_active"],
        legal_basis=get("legal_basis"),
        materials=out["materials"],
    )


def _yes_no(value: bool) -> str:
    return "是" if value else "否"


def item_to_row(item: Item) -> dict[str, str]:
    """The row (by key) an item exports to. Expects zones, co-kinds and materials prefetched."""
    return {
        "code": item.code,
        "name": item.name,
        "item_type": item.item_type,
        "department_kind": item.department_kind_id,
        "handling_level": item.handling_level,
        "modes": ",".join(item.modes),
        "legal_days": str(item.legal_days),
        "committed_days": str(item.committed_days),
        "fee": f"{Decimal(item.fee):.2f}",
        "visits_required": str(item.visits_required),
        "result_type": item.result_type,
        "result_name": item.result_name,
        "zones": ",".join(sorted(z.code for z in item.zones.all())),
        "co_department_kinds": ",".join(sorted(k.code for k in item.co_department_kinds.all())),
        "keywords": item.keywords,
        "deemed_acceptance": _yes_no(item.deemed_acceptance),
        "is_active": _yes_no(item.is_active),
        "legal_basis": item.legal_basis,
        "materials": encode_materials(item.materials.all()),
    }

"""What licences plugs into the workflow's extension points (workflows/extensions.py)."""

from __future__ import annotations

from typing import Any

from django.core.exceptions import ValidationError
from django.db import connection
from django.db.models import Exists, OuterRef
from django.utils.translation import gettext as _

from accounts.models import User
from halls.models import Window
from licences import actions, selectors
from licences.models import BlankStock
from workflows.models import Case, Material
from workflows.results import Result


class LicencesMaterialReuse:
    """The materials API's e_license / shared_material branches: resolve the id within the
    applicant's own library, then reuse with the consent recorded (ReuseConsent + ledger)."""

    def use_e_licence(self, *, case: Case, requirement: str, value: Any, actor: User, consent: bool | None) -> Material:
        e_licence = selectors.e_licence_for_case(case, value)
        if e_licence is None:
            raise ValidationError({"e_license": [_("未找到申请人名下的该电子证照。")]})
        return actions.use_e_licence(
            case=case, requirement=requirement, e_licence=e_licence, actor=actor, consent=consent
        )

    def use_shared_material(
        self, *, case: Case, requirement: str, value: Any, actor: User, consent: bool | None
    ) -> Material:
        material = selectors.shared_material_for_case(case, value)
        if material is None:
            raise ValidationError({"shared_material": [_("未找到申请人可复用的该材料。")]})
        return actions.use_shared_material(
            case=case, requirement=requirement, material=material, actor=actor, consent=consent
        )


# The annotation the print step's read of the results carries (LicencesPrintStock.result_annotations).
_KEPT = "blank_stock_kept_at_delivery_hall"


def _hall_keeps_stock(result: Result) -> bool:
    """Whether the result's delivery hall keeps pre-printed blank stock of the result's type.

    Asked once per case, hall and type within one atomic block: a joint case prints one result
    per sub-case, of one type, in one step, and the answer is the same for each. The answer is
    kept on the case object only for the block that asked (the innermost one, the print's own
    transaction), so a later step, or a retry after the stock was loaded, asks again."""
    case = result.case
    hall_id = case.delivery_hall_id
    if hall_id is None:
        return False
    if _KEPT in result.__dict__:  # answered by the print step's own read (result_annotations)
        return bool(result.__dict__[_KEPT])
    key = (hall_id, result.result_type)
    block = connection.atomic_blocks[-1] if connection.in_atomic_block else None
    memo: tuple[Any, dict[tuple[int, str], bool]] | None = case.__dict__.get("_blank_stock_kept")
    if memo is None or block is None or memo[0] is not block:
        memo = (block, {})
        if block is not None:
            case.__dict__["_blank_stock_kept"] = memo
    if key not in memo[1]:
        memo[1][key] = BlankStock.objects.filter(hall_id=hall_id, result_type=result.result_type).exists()
    return memo[1][key]


class LicencesPrintStock:
    """Blank stock at printing. A hall that keeps pre-printed stock of the result's type must use a
    sheet (and is refused when it has run out); a hall that keeps none prints on plain paper."""

    def allocate(self, *, result: Result, actor: User, window: Window | None, serial: str | None = None) -> str | None:
        if not actions.uses_blank_stock(result.result_type):
            return None
        if not _hall_keeps_stock(result):
            if serial:
                raise ValidationError({"blank_serials": [_("本场所没有登记该类空白证书，无需填写流水号。")]})
            return None
        sheet = actions.allocate_blank_stock(result=result, actor=actor, window=window, serial=serial)
        return sheet.serial if sheet is not None else None

    def result_annotations(self, *, hall_id: int | None) -> dict[str, Any]:
        if hall_id is None:
            return {}
        return {_KEPT: Exists(BlankStock.objects.filter(hall_id=hall_id, result_type=OuterRef("result_type")))}

    def needs_serial(self, *, result: Result) -> bool:
        return actions.uses_blank_stock(result.result_type) and _hall_keeps_stock(result)

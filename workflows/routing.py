"""Routing a case: the competent authority (有权机关) and whether the case is cross-region (通办).

The catalog owns the rule "that department kind, at the item's handling level, for the region the
applicant names" (``services.selectors.competent_department``). Joint items add co-deciding kinds
(``Item.co_department_kinds``); each of those is routed by the same rule.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from django.core.exceptions import ValidationError
from django.utils.translation import gettext as _

from govmap.models import Region, RegionLevel
from services.models import Department, DepartmentKind, HandlingLevel, Item

_catalog_competent_department: Callable[..., Department] | None
_catalog_joint_departments: Callable[..., list[Department]] | None
try:  # the catalog's selectors are the single source of the routing rule when present
    from services.selectors import competent_department as _catalog_competent_department
except ImportError:  # pragma: no cover - only while the catalog module is being built
    _catalog_competent_department = None
try:
    from services.selectors import joint_departments as _catalog_joint_departments
except ImportError:  # pragma: no cover
    _catalog_joint_departments = None


def _ancestor_at(region: Region, level: str) -> Region | None:
    node: Region | None = region
    while node is not None and node.level != level:
        node = node.parent
    return node


def _resolve(kind: DepartmentKind | str, handling_level: str, jurisdiction: Region) -> Department:
    wanted = {
        HandlingLevel.PROVINCE: RegionLevel.PROVINCE,
        HandlingLevel.CITY: RegionLevel.CITY,
        HandlingLevel.COUNTY: RegionLevel.COUNTY,
    }[HandlingLevel(handling_level)]
    region = _ancestor_at(jurisdiction, wanted)
    if region is None:
        raise ValidationError(
            {
                "jurisdiction": [
                    _("该事项由%(level)s部门办理，请选择%(level)s及以下的属地。")
                    % {"level": HandlingLevel(handling_level).label}
                ]
            }
        )
    kind_code = kind.pk if isinstance(kind, DepartmentKind) else kind
    department = Department.objects.filter(kind_id=kind_code, region=region).select_related("region").first()
    if department is None:
        raise ValidationError({"jurisdiction": [_("%(region)s没有可办理该事项的部门。") % {"region": region.name}]})
    return department


def competent_department(*, item: Item, jurisdiction: Region, kind: DepartmentKind | None = None) -> Department:
    """The department that decides ``item`` (or its ``kind`` part) for ``jurisdiction``.

    Raises django ValidationError (field ``jurisdiction``) when the case cannot be routed.
    """
    if kind is None or kind.pk == item.department_kind_id:
        if _catalog_competent_department is not None:
            return _catalog_competent_department(item=item, jurisdiction=jurisdiction)
        return _resolve(item.department_kind_id, item.handling_level, jurisdiction)
    return _resolve(kind, item.handling_level, jurisdiction)


def joint_kinds(item: Item) -> list[DepartmentKind]:
    """The lead kind first, then the co-deciding kinds of a joint item (if the catalog has them)."""
    kinds: list[DepartmentKind] = [item.department_kind]
    co: Any = getattr(item, "co_department_kinds", None)
    if co is not None:
        kinds.extend(k for k in co.order_by("code") if k.pk != item.department_kind_id)
    return kinds


def joint_authorities(*, item: Item, jurisdiction: Region) -> list[Department]:
    """The deciding authorities of a joint item, lead first: one sub-case each."""
    if _catalog_joint_departments is not None:
        return list(_catalog_joint_departments(item=item, jurisdiction=jurisdiction))
    return [competent_department(item=item, jurisdiction=jurisdiction, kind=k) for k in joint_kinds(item)]


def is_cross_region(*, receiving_region: Region | str | None, jurisdiction: Region) -> bool:
    """通办 when the receiving hall lies outside the jurisdiction the applicant named: a clerk in 遵义
    receiving for 云岩区 is, a clerk in 云岩区 receiving for 云岩区 (or for 贵阳市 as a whole) is not.

    ``receiving_region`` may be the region's adcode (a hall's ``region_id``): only the code matters,
    so the caller need not load the region row (and its boundary)."""
    if receiving_region is None:
        return False
    code = receiving_region.pk if isinstance(receiving_region, Region) else receiving_region
    return not str(code).startswith(_prefix(jurisdiction.pk))


def _prefix(adcode: str) -> str:
    code = str(adcode)
    if code.endswith("0000"):
        return code[:2]
    if code.endswith("00"):
        return code[:4]
    return code


__all__ = ["competent_department", "is_cross_region", "joint_authorities", "joint_kinds"]

"""Writes to the catalog: items with their materials and tags, and the departments that handle them.

The catalog is maintained by province administrators (admin import, `import_catalog`) and shipped
with the code (services/data/); every write goes through the functions here so the rules
(one transaction, materials replaced item by item, nothing half-written) live in one place.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from typing import Any

from django.core.exceptions import ValidationError
from django.db import transaction
from django.db.models import ProtectedError
from django.utils.translation import gettext as _
from django.utils.translation import pgettext

from services.catalog_format import ItemSpec, MaterialSpec
from services.models import Department, DepartmentKind, Item, MaterialRequirement

ITEM_UPDATE_FIELDS = [
    "name",
    "item_type",
    "department_kind",
    "handling_level",
    "online",
    "proxy",
    "joint",
    "legal_days",
    "committed_days",
    "fee",
    "visits_required",
    "result_type",
    "result_name",
    "keywords",
    "deemed_acceptance",
    "is_active",
    "legal_basis",
]
MATERIAL_UPDATE_FIELDS = ["name", "required", "original_needed", "e_license_type", "position"]


def _material_values(spec: MaterialSpec, position: int) -> dict[str, Any]:
    return {
        "name": spec.name,
        "required": spec.required,
        "original_needed": spec.original_needed,
        "e_license_type": spec.e_license_type,
        "position": position,
    }


def _delete_materials(ids: Iterable[int]) -> None:
    try:
        MaterialRequirement.objects.filter(pk__in=list(ids)).delete()
    except ProtectedError as e:
        names = sorted({str(obj) for obj in e.protected_objects})[:5]
        raise ValidationError(
            {
                "materials": [
                    _("申请材料已被办件引用，不能删除（%(names)s）；请保留其编码，或将事项设为停用")
                    % {"names": pgettext("list separator", "、").join(names)}
                ]
            }
        ) from None


@transaction.atomic
def upsert_items(*, specs: Sequence[ItemSpec]) -> dict[str, int]:
    """Create or update items by code with their zones, joint kinds and materials, in bulk.

    Side effects: writes Item, its zone and joint-kind links and MaterialRequirement rows in one
    transaction. Materials are matched by code within their item: new codes are created, known
    ones updated, and codes no longer listed deleted (refused with a ValidationError when a case
    already references one). Items absent from `specs` are left alone.
    """
    codes = [s.code for s in specs]
    existing = {i.code: i for i in Item.objects.filter(code__in=codes)}
    to_create: list[Item] = []
    to_update: list[Item] = []
    for spec in specs:
        values = spec.item_fields()
        item = existing.get(spec.code)
        if item is None:
            to_create.append(Item(code=spec.code, **values))
            continue
        if any(getattr(item, k) != v for k, v in values.items()):
            for k, v in values.items():
                setattr(item, k, v)
            to_update.append(item)
    Item.objects.bulk_create(to_create, batch_size=500)
    if to_update:
        Item.objects.bulk_update(to_update, ITEM_UPDATE_FIELDS, batch_size=500)
    ids = dict(Item.objects.filter(code__in=codes).values_list("code", "pk"))
    item_ids = list(ids.values())

    # Many-to-many links: replace them wholesale (they carry no data of their own).
    zone_link = Item.zones.through
    zone_link.objects.filter(item_id__in=item_ids).delete()
    zone_link.objects.bulk_create(
        [zone_link(item_id=ids[s.code], industryzone_id=code) for s in specs for code in s.zones], batch_size=1000
    )
    kind_link = Item.co_department_kinds.through
    kind_link.objects.filter(item_id__in=item_ids).delete()
    kind_link.objects.bulk_create(
        [kind_link(item_id=ids[s.code], departmentkind_id=code) for s in specs for code in s.co_department_kinds],
        batch_size=1000,
    )

    current = {(m.item_id, m.code): m for m in MaterialRequirement.objects.filter(item_id__in=item_ids)}
    wanted: set[tuple[int, str]] = set()
    new_materials: list[MaterialRequirement] = []
    changed_materials: list[MaterialRequirement] = []
    for spec in specs:
        item_id = ids[spec.code]
        for position, m in enumerate(spec.materials, 1):
            key = (item_id, m.code)
            wanted.add(key)
            values = _material_values(m, position)
            material = current.get(key)
            if material is None:
                new_materials.append(MaterialRequirement(item_id=item_id, code=m.code, **values))
            elif any(getattr(material, k) != v for k, v in values.items()):
                for k, v in values.items():
                    setattr(material, k, v)
                changed_materials.append(material)
    _delete_materials(m.pk for key, m in current.items() if key not in wanted)
    MaterialRequirement.objects.bulk_create(new_materials, batch_size=1000)
    if changed_materials:
        MaterialRequirement.objects.bulk_update(changed_materials, MATERIAL_UPDATE_FIELDS, batch_size=1000)
    return {
        "items_created": len(to_create),
        "items_updated": len(to_update),
        "materials": sum(len(s.materials) for s in specs),
    }


# --- departments -------------------------------------------------------------------------------


def short_region_name(name: str) -> str:
    """南明区 → 南明, 盘州市 → 盘州, 六枝特区 → 六枝, 道真仡佬族苗族自治县 → 道真.

    Branch offices (公安分局, 生态环境分局) are named with the short form. Guizhou's autonomous
    counties all carry a two-character place name before the peoples' names.
    """
    if "自治" in name:
        return name[:2]
    for suffix in ("特区", "新区", "区", "县", "市"):
        if name.endswith(suffix) and len(name) > len(suffix) + 1:
            return name[: -len(suffix)]
    return name


def department_name(kind: DepartmentKind, *, level: str, names: dict[str, str], is_district: bool) -> str:
    """The department's real-style name from the kind's patterns (see services/data/README.md)."""
    patterns = kind.name_patterns or {}
    pattern = (patterns.get("district") if is_district else None) or patterns.get(level)
    if not pattern:
        return f"{names.get(level, '')}{kind.name}部门"
    try:
        return pattern.format(**names)
    except (KeyError, IndexError, ValueError):
        # A bad pattern typed by an admin must not stop the load: fall back to a plain name.
        return f"{names.get(level, '')}{kind.name}部门"


@transaction.atomic
def sync_departments(*, wanted: Iterable[tuple[DepartmentKind, Any]]) -> dict[str, int]:
    """Create or rename one Department per (kind, region) pair.

    `wanted` pairs a kind with a govmap Region whose `parent` chain is loaded. Side effects: inserts
    missing departments and updates the code and name of existing ones; never deletes (cases and
    staff point at departments).
    """
    existing = {(d.kind_id, d.region_id): d for d in Department.objects.all()}
    to_create: list[Department] = []
    to_update: list[Department] = []
    seen = 0
    for kind, region in wanted:
        seen += 1
        names = region_names(region)
        name = department_name(
            kind, level=region.level, names=names, is_district=region.level == "county" and is_district(region.name)
        )
        code = f"{region.adcode}-{kind.code}"
        dept = existing.get((kind.code, region.adcode))
        if dept is None:
            to_create.append(Department(code=code, name=name, kind=kind, region=region))
        elif dept.name != name or dept.code != code:
            dept.name, dept.code = name, code
            to_update.append(dept)
    Department.objects.bulk_create(to_create, batch_size=1000)
    if to_update:
        Department.objects.bulk_update(to_update, ["name", "code"], batch_size=1000)
    return {"departments": seen, "created": len(to_create), "updated": len(to_update)}


def is_district(name: str) -> bool:
    """A city district (市辖区), as opposed to a county, a county-level city or a special district."""
    return name.endswith("区") and not name.endswith("特区")


def region_names(region: Any) -> dict[str, str]:
    """Placeholders for department name patterns: province, city, county, county_short, region."""
    names = {"province": "", "city": "", "county": "", "county_short": "", "region": region.name}
    node = region
    while node is not None:
        if node.level in ("province", "city", "county"):
            names.setdefault(node.level, "")
            if not names[node.level]:
                names[node.level] = node.name
        node = node.parent
    names["county_short"] = short_region_name(names["county"]) if names["county"] else ""
    return names

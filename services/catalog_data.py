"""Load the catalog shipped in services/data/ and the departments that handle it.

Not demo data: the shipped catalog is the province's real list, and `load_departments` also runs
after every catalog import (services.resources), so this stays in services while the demo loaders
live in the demo app. Called by `load_demo` (idempotent: running it twice changes nothing), by the
catalog import and by the `catalog` test fixture. Regions must already be loaded (govmap); they are
read from the database.
"""

from __future__ import annotations

import csv
from pathlib import Path

from django.core.exceptions import ValidationError
from django.db import transaction

from govmap.models import Region
from services.actions import sync_departments, upsert_items
from services.catalog_format import ItemSpec, RowError, Vocabulary, line_number, parse_row
from services.models import DepartmentKind, IndustryZone, Item

DATA_DIR = Path(__file__).resolve().parent / "data"
LEVELS = ("province", "city", "county")


def _read_csv(path: Path) -> list[dict[str, str]]:
    # utf-8-sig: a file saved by Excel starts with a BOM.
    with path.open(encoding="utf-8-sig", newline="") as f:
        return [{k: (v or "").strip() for k, v in row.items() if k} for row in csv.DictReader(f)]


def read_item_specs(path: Path, vocab: Vocabulary) -> list[ItemSpec]:
    """Parse an items CSV; raise ValidationError listing every bad row ("第 n 行：...")."""
    specs: list[ItemSpec] = []
    problems: list[str] = []
    seen: dict[str, int] = {}
    for n, row in enumerate(_read_csv(path), 1):
        try:
            spec = parse_row(row, vocab)
        except RowError as e:
            problems += [m for ms in e.prefixed(line_number(n)).values() for m in ms]
            continue
        if spec.code in seen:
            problems.append(
                f"第 {line_number(n)} 行：事项编码「{spec.code}」与第 {line_number(seen[spec.code])} 行重复"
            )
            continue
        seen[spec.code] = n
        specs.append(spec)
    if problems:
        raise ValidationError(problems)
    return specs


@transaction.atomic
def load_catalog(data_dir: Path = DATA_DIR) -> dict[str, int]:
    """Create or update department kinds, industry zones, items and their materials from data_dir.

    Idempotent and in one transaction: a bad data file raises ValidationError and writes nothing.
    Returns counts: department_kinds, industry_zones, items, materials (+ created/updated).
    """
    kinds = _read_csv(data_dir / "department_kinds.csv")
    zones = _read_csv(data_dir / "industry_zones.csv")
    DepartmentKind.objects.bulk_create(
        [
            DepartmentKind(
                code=k["code"],
                name=k["name"],
                name_patterns={lvl: k[lvl] for lvl in (*LEVELS, "district") if k.get(lvl)},
            )
            for k in kinds
        ],
        update_conflicts=True,
        unique_fields=["code"],
        update_fields=["name", "name_patterns"],
    )
    IndustryZone.objects.bulk_create(
        [IndustryZone(code=z["code"], name=z["name"]) for z in zones],
        update_conflicts=True,
        unique_fields=["code"],
        update_fields=["name"],
    )
    specs = read_item_specs(data_dir / "items.csv", Vocabulary.from_db())
    result = upsert_items(specs=specs)
    return {
        "department_kinds": len(kinds),
        "industry_zones": len(zones),
        "items": len(specs),
        **result,
    }


def needed_levels() -> dict[str, set[str]]:
    """Department kind code → the levels at which active items of that kind (lead or joint) are
    handled, plus the province for every kind in use."""
    needed: dict[str, set[str]] = {}
    pairs = set(Item.objects.filter(is_active=True).values_list("department_kind_id", "handling_level"))
    pairs |= set(
        Item.co_department_kinds.through.objects.filter(item__is_active=True).values_list(
            "departmentkind_id", "item__handling_level"
        )
    )
    for kind, level in pairs:
        # The province-level department of every kind in use owns the province-wide standard of
        # its items (事项标准由省级主管部门统一制定) even when it decides none of them itself.
        needed.setdefault(kind, {"province"}).add(level)
    return needed


@transaction.atomic
def load_departments() -> dict[str, int]:
    """One Department per kind per region at each level where that kind's items are handled.

    Reads regions from the database (loaded by govmap beforehand). Idempotent; returns counts
    (departments, created, updated).
    """
    needed = needed_levels()
    regions_by_level: dict[str, list[Region]] = {lvl: [] for lvl in LEVELS}
    regions = (
        Region.objects.filter(level__in=LEVELS)
        .select_related("parent__parent")
        # Boundaries are large GeoJSON documents: decoding them would be most of the load time.
        .only(*(f"{p}{f}" for p in ("", "parent__", "parent__parent__") for f in ("adcode", "name", "level", "parent")))
        .order_by("adcode")
    )
    for region in regions:
        regions_by_level[region.level].append(region)
    kinds = DepartmentKind.objects.in_bulk(list(needed))
    wanted = [
        (kinds[code], region)
        for code in sorted(needed)
        for level in LEVELS
        if level in needed[code]
        for region in regions_by_level[level]
    ]
    return sync_departments(wanted=wanted)

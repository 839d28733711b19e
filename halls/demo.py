"""The Guizhou demo hall registry: real province/city/county centres plus seeded synthetic points.

``load_halls()`` is called by ``manage.py load_demo`` after the regions and the catalog. It builds
the full desired registry in memory ("the plan"), then reconciles the database with it in
batches: one transaction per batch, a constant number of statements per batch (multi-row inserts,
bulk_update), so 20,000 points load in seconds on SQLite.

What is real and what is not:

* real (``is_synthetic=False``): the province centre, the 9 city/prefecture centres and the Gui'an
  New Area centre (``halls/data/guizhou_halls.json``), and one comprehensive hall per county.
  Their names follow the real naming; locations are approximate: a known point for the
  province/city centres, the county's representative point plus a small seeded offset for the
  counties (addresses then only name the county, never a made-up street). Every point is checked
  with ``govmap.geo.county_at`` and moved inside its county if it falls outside.
* synthetic (``is_synthetic=True``): department branch halls, township centres, kiosks and (size
  "large") village stations, with names from ``halls/data/place_names.json``. They are sampled
  uniformly inside their real county with ``govmap.geo.random_points_in``, seeded per county and
  per kind, so the same seed gives the same codes, names and coordinates on any database.

Hall codes (stable, readable, unique):

* ``520000-C01`` province centre, ``520000-C02`` Gui'an New Area (no GB/T 2260 code of its own);
* ``<city adcode>-C01`` city centres, ``<county adcode>-C01`` county centres;
* ``<city or county adcode>-B01..B04`` branch halls (B01 出入境, B02 车管, B03 不动产, B04 社保医保);
* ``<county adcode>-S0001`` township centres, ``-K001`` kiosks, ``-V00001`` village stations.

Window items: comprehensive halls' windows keep an empty item set, which means "every item the
window's kinds allow" (see ``halls.selectors.window_takes_item_q``); branch windows list their
department's items; stations, kiosks and villages list a few high-frequency items. That keeps the
window-item rows to about 10 per point for size "default" (~19,500) and ~5.5 for "large" (~110,000).
"""

from __future__ import annotations

import json
import logging
import math
import random
import time
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from enum import Enum
from functools import cache
from pathlib import Path
from typing import Any

import numpy as np
from django.db import connection, models, transaction

from halls.models import Hall, HallLevel, HallType, Window, WindowKind

log = logging.getLogger(__name__)

DATA_DIR = Path(__file__).resolve().parent / "data"
PROVINCE = "520000"

SIZES = ("default", "large")
TOWNSHIP_STATIONS = 1_500
KIOSKS = 300
# Published: 17,000-19,000 village (community) service points; with the ~2,000 other points the
# map then holds ~20,000 points.
VILLAGE_STATIONS = 18_000
MIN_TOWNSHIPS_PER_COUNTY = 6
MIN_KIOSKS_PER_COUNTY = 2
MIN_VILLAGES_PER_COUNTY = 40

BATCH_SIZE = 2_000

HOURS_COMPREHENSIVE = "工作日 09:00-12:00，13:00-17:00"
HOURS_BRANCH = "工作日 09:00-12:00，13:00-17:00"
HOURS_TOWNSHIP = "工作日 09:00-12:00，14:00-17:30"
HOURS_KIOSK = "24小时"
HOURS_VILLAGE = "工作日 09:00-17:00（村（社区）干部轮流值守）"

TB, GI, IS, CO = (
    WindowKind.TONGBAN_INTAKE.value,
    WindowKind.GENERAL_INTAKE.value,
    WindowKind.ISSUING.value,
    WindowKind.CONSULTATION.value,
)
KIND_FIELDS = (TB, GI, IS, CO)

# Windows of comprehensive halls, in number order: (count, kinds). Every one has 通办 intake
# windows (also general intake), issuing windows that print results, and consultation.
COMPREHENSIVE_LAYOUT: dict[str, list[tuple[int, frozenset[str]]]] = {
    HallLevel.PROVINCE: [(6, frozenset({TB, GI})), (10, frozenset({GI})), (4, frozenset({IS})), (2, frozenset({CO}))],
    HallLevel.CITY: [(4, frozenset({TB, GI})), (8, frozenset({GI})), (3, frozenset({IS})), (2, frozenset({CO}))],
    HallLevel.COUNTY: [(2, frozenset({TB, GI})), (4, frozenset({GI})), (2, frozenset({IS})), (1, frozenset({CO}))],
}


@dataclass(frozen=True)
class BranchTemplate:
    suffix: str
    name: str
    # A department kind matches when its code or name contains one of these.
    kind_keywords: tuple[str, ...]
    # An item matches when its name contains one of these.
    item_keywords: tuple[str, ...]
    # Chance that a county (not a city seat) has this branch as well.
    county_share: float


BRANCH_TEMPLATES: tuple[BranchTemplate, ...] = (
    BranchTemplate(
        "B01",
        "公安出入境分厅",
        ("公安", "police", "public_security"),
        ("出入境", "护照", "港澳", "台湾", "签证", "通行证"),
        0.0,
    ),
    BranchTemplate(
        "B02", "公安车管分厅", ("公安", "police", "public_security"), ("机动车", "驾驶", "车辆", "号牌", "驾照"), 0.25
    ),
    BranchTemplate(
        "B03",
        "不动产登记分厅",
        ("自然资源", "不动产", "国土", "natural_resources", "land"),
        ("不动产", "房屋", "土地"),
        0.5,
    ),
    BranchTemplate(
        "B04",
        "社保医保分厅",
        ("人力资源", "社会保障", "医疗保障", "医保", "social", "medical", "hrss"),
        ("社会保险", "养老", "医疗保险", "医保", "社保", "失业", "工伤", "生育保险"),
        0.3,
    ),
)
MAX_BRANCH_ITEMS = 60

# What township/village centres handle most (帮办代办): social insurance, social assistance,
# household and civil affairs, rural housing. Order is priority.
HIGH_FREQUENCY_KEYWORDS = (
    "养老保险",
    "医疗保险",
    "医保",
    "社会保险",
    "社保卡",
    "最低生活保障",
    "低保",
    "残疾",
    "高龄",
    "老年",
    "生育",
    "户籍",
    "户口",
    "居住证",
    "临时救助",
    "特困",
    "婚姻",
    "就业",
    "宅基地",
    "农村",
)
STATION_ITEMS = 10
VILLAGE_ITEMS = 5
KIOSK_ITEMS = 8


@dataclass(frozen=True)
class WindowSpec:
    number: str
    kinds: frozenset[str]
    items: tuple[int, ...] = ()  # item ids; empty = every item the kinds allow


@dataclass
class HallSpec:
    code: str
    name: str
    type: str
    level: str
    region_id: str
    address: str
    lat: float
    lon: float
    opening_hours: str
    phone: str
    is_synthetic: bool
    windows: list[WindowSpec] = field(default_factory=list)


HALL_FIELDS = ("name", "type", "level", "region_id", "address", "lat", "lon", "opening_hours", "phone", "is_synthetic")


@dataclass
class _County:
    adcode: str
    name: str
    city_adcode: str
    city_name: str
    lat: float
    lon: float
    area_km2: float
    is_district: bool


# --------------------------------------------------------------------------------------------
# Public entry point
# --------------------------------------------------------------------------------------------


def load_halls(*, size: str = "default", seed: int = 52) -> dict[str, Any]:
    """Create or update the demo hall registry of Guizhou (idempotent upsert by hall code).

    Side effects: writes Hall, Window and window-item rows, one transaction per batch of
    ``BATCH_SIZE`` halls. Halls and windows are never deleted (staff posts, tickets and cases may
    point at them) and ``is_active`` is left as an operator set it; a window's item list is reset
    to the plan. Requires the regions (``govmap.loaders.load_shipped_regions``) and the catalog
    (``services.demo.load_catalog``) to be loaded first.

    Returns counts (created / updated / unchanged per table, totals by type and level), the
    points that had to be moved inside their county, and timings in seconds.
    """
    if size not in SIZES:
        raise ValueError(f"未知的规模 {size!r}，可选：{', '.join(SIZES)}")
    started = time.perf_counter()
    plan = plan_halls(size=size, seed=seed)
    planned = time.perf_counter()
    counts = _reconcile(plan.halls)
    finished = time.perf_counter()
    by_type: dict[str, int] = {}
    by_level: dict[str, int] = {}
    for h in plan.halls:
        # str(): plain values ("station"), not the choice enums, in the printed/JSON summary.
        by_type[str(h.type)] = by_type.get(str(h.type), 0) + 1
        by_level[str(h.level)] = by_level.get(str(h.level), 0) + 1
    result: dict[str, Any] = {
        "size": size,
        "seed": seed,
        "total": len(plan.halls),
        "by_type": by_type,
        "by_level": by_level,
        **counts,
        "moved_inside_county": plan.moved,
        "skipped": plan.skipped,
        "seconds": {
            "plan": round(planned - started, 3),
            "write": round(finished - planned, 3),
            "total": round(finished - started, 3),
        },
    }
    log.info(
        "load_halls size=%s: %d halls (%d created, %d updated) in %.2fs",
        size,
        len(plan.halls),
        counts["halls"]["created"],
        counts["halls"]["updated"],
        finished - started,
    )
    if counts["halls"]["created"] or counts["halls"]["updated"]:
        # Bulk writes skip model signals: tell every ASGI worker to rebuild its nearest-hall index now.
        from halls.live_selectors import bump_hall_index_version

        bump_hall_index_version()
    return result


# --------------------------------------------------------------------------------------------
# The plan: every hall and window we want, computed without writing anything
# --------------------------------------------------------------------------------------------


@dataclass
class Plan:
    halls: list[HallSpec]
    moved: list[str] = field(default_factory=list)
    skipped: list[str] = field(default_factory=list)


@cache
def _real_halls() -> dict[str, Any]:
    with (DATA_DIR / "guizhou_halls.json").open(encoding="utf-8") as f:
        data: dict[str, Any] = json.load(f)
    return data


@cache
def _place_names() -> dict[str, Any]:
    with (DATA_DIR / "place_names.json").open(encoding="utf-8") as f:
        data: dict[str, Any] = json.load(f)
    return data


def _rng(seed: int, adcode: str, stream: int) -> np.random.Generator:
    """An independent, reproducible generator per (seed, county, kind of point).

    Seeding per county and kind keeps every county's points stable when another county or kind
    changes (e.g. ``size="large"`` adds villages without moving a single township).
    """
    return np.random.default_rng([seed, int(adcode), stream])


_STREAM_OFFSET, _STREAM_BRANCH, _STREAM_TOWNSHIP, _STREAM_KIOSK, _STREAM_VILLAGE, _STREAM_NAMES = range(1, 7)


def _points(adcode: str, n: int, rng: np.random.Generator) -> list[tuple[float, float]]:
    """n seeded (lat, lon) points uniformly inside a county.

    Not rounded: rounding could push a point that lies within centimetres of the border into the
    neighbouring county (with 20,000 points that happens), and floats round-trip exactly through
    SQLite REAL and PostgreSQL double precision, which the idempotent update relies on.
    """
    if n <= 0:
        return []
    from govmap.geo import random_points_in

    return [(float(lat), float(lon)) for lat, lon in random_points_in(adcode, n, rng)]


def _county_at(lat: float, lon: float) -> str | None:
    from govmap.geo import county_at

    return county_at(lat, lon)


def _place_inside(
    adcode: str, lat: float, lon: float, rng: np.random.Generator, label: str, moved: list[str]
) -> tuple[float, float]:
    """(lat, lon) if it lies in the county, else a point near the county's representative point.

    A point outside its stated county would put the hall under the wrong jurisdiction on the
    map and in "nearest hall" answers, so it is never kept.
    """
    lat, lon = round(lat, 6), round(lon, 6)
    if _county_at(lat, lon) == adcode:
        return lat, lon
    moved.append(label)
    return _points(adcode, 1, rng)[0]


def _near_representative_point(county: _County, rng: np.random.Generator) -> tuple[float, float]:
    """The county's representative point plus a small seeded offset (≤ ~1 km), kept inside."""
    for _ in range(8):
        dlat, dlon = rng.uniform(-0.008, 0.008, size=2)
        lat, lon = round(county.lat + float(dlat), 6), round(county.lon + float(dlon), 6)
        if _county_at(lat, lon) == county.adcode:
            return lat, lon
    # The representative point itself is inside the boundary by construction.
    return round(county.lat, 6), round(county.lon, 6)


def _allocate(total: int, weights: Sequence[float], minimum: int) -> list[int]:
    """Split `total` into integer shares ≥ minimum proportional to weights (largest remainder)."""
    n = len(weights)
    if n == 0:
        return []
    spare = max(total - minimum * n, 0)
    wsum = sum(weights) or float(n)
    raw = [spare * (w if wsum else 1.0) / wsum for w in weights]
    shares = [math.floor(r) for r in raw]
    left = spare - sum(shares)
    # Ties go to the earlier county (adcode order) so the split is deterministic.
    order = sorted(range(n), key=lambda i: (-(raw[i] - shares[i]), i))
    for i in order[:left]:
        shares[i] += 1
    return [minimum + s for s in shares]


def _pick_weighted(rng: random.Random, pairs: Sequence[Sequence[Any]]) -> str:
    values = [str(p[0]) for p in pairs]
    weights = [float(p[1]) for p in pairs]
    return rng.choices(values, weights=weights, k=1)[0]


def _unique_names(
    rng: random.Random, n: int, suffixes: Sequence[Sequence[Any]], taken: set[str] | None = None
) -> list[str]:
    """n distinct synthetic place names like 青坪镇 from the syllable lists."""
    names = _place_names()
    first: list[str] = names["first"]
    second: list[str] = names["second"]
    seen = taken if taken is not None else set()
    out: list[str] = []
    attempts = 0
    while len(out) < n:
        attempts += 1
        stem = rng.choice(first) + rng.choice(second)
        if attempts > 50 * n:  # the syllable space is large; this only guards against a bad list
            stem += rng.choice(second)
        name = stem + _pick_weighted(rng, suffixes)
        if name in seen:
            continue
        seen.add(name)
        out.append(name)
    return out


def _load_counties() -> tuple[list[_County], dict[str, str]]:
    from govmap.models import Region, RegionLevel

    rows = list(
        Region.objects.filter(adcode__startswith=PROVINCE[:2])
        .only("adcode", "name", "level", "parent_id", "lat", "lon", "area_km2")
        .order_by("adcode")
    )
    cities = {r.adcode: r.name for r in rows if r.level == RegionLevel.CITY}
    counties = []
    for r in rows:
        if r.level != RegionLevel.COUNTY:
            continue
        if r.lat is None or r.lon is None:
            raise ValueError(f"区县 {r.name}（{r.adcode}）没有代表点，请先加载行政区划边界。")
        city = str(r.parent_id or r.adcode[:4] + "00")
        counties.append(
            _County(
                adcode=r.adcode,
                name=r.name,
                city_adcode=city,
                city_name=cities.get(city, ""),
                lat=r.lat,
                lon=r.lon,
                area_km2=r.area_km2 or 1.0,
                is_district=r.name.endswith("区"),
            )
        )
    if not counties:
        raise ValueError("没有找到贵州省的区县，请先运行 load_shipped_regions（load_demo 会先加载行政区划）。")
    return counties, cities


@dataclass
class _Catalog:
    branch_items: dict[str, tuple[int, ...]]
    station_items: tuple[int, ...]
    village_items: tuple[int, ...]
    kiosk_items: tuple[int, ...]


def _load_catalog_choices() -> _Catalog:
    """Which items branch, station, kiosk and village windows list (by keyword, then by code)."""
    from services.models import DepartmentKind, Item

    items = list(
        Item.objects.filter(is_active=True)
        .only("id", "code", "name", "department_kind_id", "online", "proxy", "handling_level")
        .order_by("code")
    )
    kinds = {k.code: k.name for k in DepartmentKind.objects.only("code", "name")}

    def kind_matches(item: Item, keywords: Iterable[str]) -> bool:
        text = f"{item.department_kind_id} {kinds.get(item.department_kind_id, '')}".lower()
        return any(k.lower() in text for k in keywords)

    branch_items: dict[str, tuple[int, ...]] = {}
    for t in BRANCH_TEMPLATES:
        by_name = [i for i in items if any(k in i.name for k in t.item_keywords)]
        chosen = [i for i in by_name if kind_matches(i, t.kind_keywords)] or by_name
        branch_items[t.suffix] = tuple(i.pk for i in chosen[:MAX_BRANCH_ITEMS])

    def ranked(pool: list[Item]) -> list[Item]:
        def rank(item: Item) -> tuple[int, int, str]:
            misses = len(HIGH_FREQUENCY_KEYWORDS)
            hit = next((n for n, k in enumerate(HIGH_FREQUENCY_KEYWORDS) if k in item.name), misses)
            # Items handled at county level are what a township centre forwards most.
            return hit, 0 if item.handling_level == "county" else 1, item.code

        hits = [i for i in pool if any(k in i.name for k in HIGH_FREQUENCY_KEYWORDS)]
        hit_ids = {i.pk for i in hits}
        rest = [i for i in pool if i.pk not in hit_ids]
        return sorted(hits, key=rank) + rest

    station = ranked([i for i in items if i.proxy or i.online])[:STATION_ITEMS] or items[:STATION_ITEMS]
    kiosk = ranked([i for i in items if i.online])[:KIOSK_ITEMS]
    return _Catalog(
        branch_items=branch_items,
        station_items=tuple(i.pk for i in station),
        village_items=tuple(i.pk for i in station[:VILLAGE_ITEMS]),
        kiosk_items=tuple(i.pk for i in kiosk),
    )


def _comprehensive_windows(level: str) -> list[WindowSpec]:
    windows: list[WindowSpec] = []
    for count, kinds in COMPREHENSIVE_LAYOUT[level]:
        for _ in range(count):
            windows.append(WindowSpec(str(len(windows) + 1), kinds))
    return windows


def _branch_windows(items: tuple[int, ...], city_level: bool) -> list[WindowSpec]:
    windows = [WindowSpec("1", frozenset({GI}), items), WindowSpec("2", frozenset({GI}), items)]
    if city_level:
        windows.append(WindowSpec("3", frozenset({GI}), items))
    windows.append(WindowSpec(str(len(windows) + 1), frozenset({IS})))
    windows.append(WindowSpec(str(len(windows) + 1), frozenset({CO})))
    return windows


def plan_halls(*, size: str = "default", seed: int = 52) -> Plan:
    """The desired registry for a size and seed (pure read: regions, catalog, geometry)."""
    counties, _cities = _load_counties()
    by_adcode = {c.adcode: c for c in counties}
    catalog = _load_catalog_choices()
    data = _real_halls()
    names = _place_names()
    area_codes: dict[str, str] = data["area_codes"]
    plan = Plan(halls=[])
    moved = plan.moved

    def phone_for(city_adcode: str) -> str:
        return f"{area_codes.get(city_adcode, '0851')}-12345"

    # Province and city centres (real).
    real = [dict(data["province"], level=HallLevel.PROVINCE)] + [dict(c, level=HallLevel.CITY) for c in data["cities"]]
    city_seat: dict[str, str] = {}
    city_short: dict[str, str] = {}
    for entry in real:
        county = str(entry["county"])
        if county not in by_adcode:
            plan.skipped.append(f"{entry['code']}: 区县 {county} 不存在")
            continue
        lat, lon = _place_inside(
            county, float(entry["lat"]), float(entry["lon"]), _rng(seed, county, _STREAM_OFFSET), entry["code"], moved
        )
        if entry.get("city"):
            city_seat[entry["city"]] = county
            city_short[entry["city"]] = str(entry["name"]).removesuffix("政务服务中心")
        plan.halls.append(
            HallSpec(
                code=entry["code"],
                name=entry["name"],
                type=HallType.COMPREHENSIVE,
                level=entry["level"],
                region_id=county,
                address=entry["address"],
                lat=lat,
                lon=lon,
                opening_hours=entry.get("opening_hours", HOURS_COMPREHENSIVE),
                phone=entry.get("phone") or phone_for(county[:4] + "00"),
                is_synthetic=False,
                windows=_comprehensive_windows(entry["level"]),
            )
        )

    # County comprehensive halls (real institutions, approximate location).
    for c in counties:
        lat, lon = _near_representative_point(c, _rng(seed, c.adcode, _STREAM_OFFSET))
        plan.halls.append(
            HallSpec(
                code=f"{c.adcode}-C01",
                name=f"{c.name}政务服务{'大厅' if c.is_district else '中心'}",
                type=HallType.COMPREHENSIVE,
                level=HallLevel.COUNTY,
                region_id=c.adcode,
                address=f"贵州省{c.city_name}{c.name}",
                lat=lat,
                lon=lon,
                opening_hours=HOURS_COMPREHENSIVE,
                phone=phone_for(c.city_adcode),
                is_synthetic=False,
                windows=_comprehensive_windows(HallLevel.COUNTY),
            )
        )

    # Department branch halls (synthetic): every template in each city seat, some in counties.
    for city_adcode, seat in sorted(city_seat.items()):
        rng = _rng(seed, city_adcode, _STREAM_BRANCH)
        templates = [t for t in BRANCH_TEMPLATES if catalog.branch_items[t.suffix]]
        points = _points(seat, len(templates), rng)
        for t, (lat, lon) in zip(templates, points, strict=True):
            plan.halls.append(
                _branch_spec(
                    f"{city_adcode}-{t.suffix}",
                    f"{city_short[city_adcode]}{t.name}",
                    HallLevel.CITY,
                    by_adcode[seat],
                    lat,
                    lon,
                    phone_for(city_adcode),
                    catalog.branch_items[t.suffix],
                    True,
                )
            )
    for c in counties:
        rng = _rng(seed, c.adcode, _STREAM_BRANCH)
        draws = rng.random(len(BRANCH_TEMPLATES))
        templates = [
            t
            for t, u in zip(BRANCH_TEMPLATES, draws, strict=True)
            if u < t.county_share and catalog.branch_items[t.suffix]
        ]
        for t, (lat, lon) in zip(templates, _points(c.adcode, len(templates), rng), strict=True):
            plan.halls.append(
                _branch_spec(
                    f"{c.adcode}-{t.suffix}",
                    f"{c.name}{t.name}",
                    HallLevel.COUNTY,
                    c,
                    lat,
                    lon,
                    phone_for(c.city_adcode),
                    catalog.branch_items[t.suffix],
                    False,
                )
            )
    skipped_templates = [t.name for t in BRANCH_TEMPLATES if not catalog.branch_items[t.suffix]]
    if skipped_templates:
        plan.skipped.append(f"目录中没有相关事项，未建分厅：{'、'.join(skipped_templates)}")

    # Township centres (synthetic), more in larger counties.
    townships = _allocate(TOWNSHIP_STATIONS, [math.sqrt(c.area_km2) for c in counties], MIN_TOWNSHIPS_PER_COUNTY)
    kiosks = _allocate(KIOSKS, townships, MIN_KIOSKS_PER_COUNTY)
    villages = _allocate(VILLAGE_STATIONS, [c.area_km2 for c in counties], MIN_VILLAGES_PER_COUNTY)
    roads: list[str] = names["roads"]
    for c, n_town, n_kiosk, n_village in zip(counties, townships, kiosks, villages, strict=True):
        kind = "district" if c.is_district else "county"
        name_rng = random.Random(f"{seed}:{c.adcode}:{_STREAM_NAMES}")
        town_names = _unique_names(name_rng, n_town, names["township_suffix"][kind])
        phone = phone_for(c.city_adcode)
        prefix = f"贵州省{c.city_name}{c.name}"
        station_windows = [
            WindowSpec("1", frozenset({TB, GI}), catalog.station_items),
            WindowSpec("2", frozenset({IS, CO})),
        ]
        for i, (town, (lat, lon)) in enumerate(
            zip(town_names, _points(c.adcode, n_town, _rng(seed, c.adcode, _STREAM_TOWNSHIP)), strict=True), 1
        ):
            plan.halls.append(
                HallSpec(
                    code=f"{c.adcode}-S{i:04d}",
                    name=f"{town}便民服务中心",
                    type=HallType.STATION,
                    level=HallLevel.TOWNSHIP,
                    region_id=c.adcode,
                    address=f"{prefix}{town}{name_rng.choice(roads)}{name_rng.randint(1, 199)}号",
                    lat=lat,
                    lon=lon,
                    opening_hours=HOURS_TOWNSHIP,
                    phone=phone,
                    is_synthetic=True,
                    windows=station_windows,
                )
            )
        # A self-service terminal takes online applications; it has no clerk, so it can neither
        # receive a proxy case (identity and originals are checked in person) nor hand over results.
        kiosk_windows = [
            WindowSpec("1", frozenset({GI}), catalog.kiosk_items)
            if catalog.kiosk_items
            else WindowSpec("1", frozenset({CO}))  # an empty list would mean "every item"
        ]
        kiosk_places = (roads * (n_kiosk // len(roads) + 1))[:n_kiosk]
        for i, (road, (lat, lon)) in enumerate(
            zip(kiosk_places, _points(c.adcode, n_kiosk, _rng(seed, c.adcode, _STREAM_KIOSK)), strict=True), 1
        ):
            suffix = "" if i <= len(roads) else f"{(i - 1) // len(roads) + 1}号"
            plan.halls.append(
                HallSpec(
                    code=f"{c.adcode}-K{i:03d}",
                    name=f"{c.name}{road}24小时自助服务站{suffix}",
                    type=HallType.KIOSK,
                    level=HallLevel.TOWNSHIP,
                    region_id=c.adcode,
                    address=f"{prefix}{road}{name_rng.randint(1, 299)}号",
                    lat=lat,
                    lon=lon,
                    opening_hours=HOURS_KIOSK,
                    phone=phone,
                    is_synthetic=True,
                    windows=kiosk_windows,
                )
            )
        if size == "large":
            village_rng = random.Random(f"{seed}:{c.adcode}:{_STREAM_VILLAGE}")
            village_names = _unique_names(village_rng, n_village, names["village_suffix"][kind])
            village_windows = [WindowSpec("1", frozenset({GI, CO}), catalog.village_items)]
            for i, (village, (lat, lon)) in enumerate(
                zip(village_names, _points(c.adcode, n_village, _rng(seed, c.adcode, _STREAM_VILLAGE)), strict=True), 1
            ):
                town = village_rng.choice(town_names)
                plan.halls.append(
                    HallSpec(
                        code=f"{c.adcode}-V{i:05d}",
                        name=f"{town}{village}便民服务站",
                        type=HallType.STATION,
                        level=HallLevel.VILLAGE,
                        region_id=c.adcode,
                        address=f"{prefix}{town}{village}",
                        lat=lat,
                        lon=lon,
                        opening_hours=HOURS_VILLAGE,
                        phone=phone,
                        is_synthetic=True,
                        windows=village_windows,
                    )
                )
    _verify_inside(plan, seed)
    return plan


def _verify_inside(plan: Plan, seed: int) -> None:
    """Check every point against its county in one vectorised lookup; re-sample any outlier."""
    from govmap.geo import counties_at

    if not plan.halls:
        return
    found = counties_at([h.lat for h in plan.halls], [h.lon for h in plan.halls])
    for n, (hall, county) in enumerate(zip(plan.halls, found, strict=True)):
        if county != hall.region_id:
            rng = np.random.default_rng([seed, int(hall.region_id), 99, n])
            hall.lat, hall.lon = _points(hall.region_id, 1, rng)[0]
            plan.moved.append(hall.code)


def _branch_spec(
    code: str,
    name: str,
    level: str,
    county: _County,
    lat: float,
    lon: float,
    phone: str,
    items: tuple[int, ...],
    city_level: bool,
) -> HallSpec:
    return HallSpec(
        code=code,
        name=name,
        type=HallType.BRANCH,
        level=level,
        region_id=county.adcode,
        address=f"贵州省{county.city_name}{county.name}",
        lat=lat,
        lon=lon,
        opening_hours=HOURS_BRANCH,
        phone=phone,
        is_synthetic=True,
        windows=_branch_windows(items, city_level),
    )


# --------------------------------------------------------------------------------------------
# Reconciling the database with the plan
# --------------------------------------------------------------------------------------------


def _counter() -> dict[str, int]:
    return {"created": 0, "updated": 0, "unchanged": 0}


@dataclass
class _Existing:
    """What the database holds before the run, read once with three plain queries.

    Reading everything up front (tens of thousands of small tuples) is far cheaper than asking
    per batch with long ``IN (...)`` lists, and it makes an idempotent re-run almost read-only.
    """

    halls: dict[str, tuple[Any, ...]]  # code -> (id, *HALL_FIELDS)
    windows: dict[tuple[int, str], tuple[Any, ...]]  # (hall_id, number) -> (id, *KIND_FIELDS)
    links: dict[int, dict[int, int]]  # window_id -> {item_id: through row id}

    @classmethod
    def read(cls) -> _Existing:
        halls = {row[0]: row[1:] for row in Hall.objects.values_list("code", "id", *HALL_FIELDS).iterator(2000)}
        windows = {
            (row[1], row[2]): (row[0], *row[3:])
            for row in Window.objects.values_list("id", "hall_id", "number", *KIND_FIELDS).iterator(2000)
        }
        links: dict[int, dict[int, int]] = {}
        for pk, window_id, item_id in Window.items.through.objects.values_list("id", "window_id", "item_id").iterator(
            5000
        ):
            links.setdefault(window_id, {})[item_id] = pk
        return cls(halls, windows, links)


def _reconcile(specs: list[HallSpec]) -> dict[str, Any]:
    halls, windows = _counter(), _counter()
    links = {"added": 0, "removed": 0, "total": 0}
    existing = _Existing.read()
    for start in range(0, len(specs), BATCH_SIZE):
        with transaction.atomic():
            _reconcile_batch(specs[start : start + BATCH_SIZE], existing, halls, windows, links)
    return {"halls": halls, "windows": windows, "window_items": links}


def _chunks(values: list[Any], n: int = 900) -> Iterable[list[Any]]:
    # Keep every IN (...) below SQLite's bound-parameter limit, whatever it was compiled with.
    for i in range(0, len(values), n):
        yield values[i : i + n]


def _max_id(model: type[models.Model]) -> int:
    return int(model._default_manager.aggregate(m=models.Max("id"))["m"] or 0)


def _insert(model: type[models.Model], fields: Sequence[str], rows: Sequence[tuple[Any, ...]]) -> None:
    """Plain multi-row INSERTs: no model instances and no per-row value preparation.

    ``bulk_create`` spends most of its time building and preparing 25,000 model instances; the
    values here are already plain str/float/bool/int, valid for SQLite and PostgreSQL alike.
    Rows are chunked so a statement never exceeds SQLite's bound-parameter limit.
    """
    if not rows:
        return
    qn = connection.ops.quote_name
    concrete = {f.name: f for f in model._meta.concrete_fields}
    concrete.update({f.attname: f for f in model._meta.concrete_fields})
    given = [concrete[f] for f in fields]
    # Every other concrete column gets its model default (e.g. is_active=True), as the ORM would:
    # Django sets no database defaults, so a column left out would be NULL.
    names = {f.name for f in given}
    rest = [f for f in model._meta.concrete_fields if f.name not in names and not f.primary_key]
    tail = tuple(f.get_db_prep_save(f.get_default(), connection) for f in rest)
    columns = ", ".join(qn(str(f.column)) for f in (*given, *rest))
    width = len(given) + len(rest)
    one = "(" + ", ".join(["%s"] * width) + ")"
    per_statement = max(1, 900 // width)
    table = qn(model._meta.db_table)
    with connection.cursor() as cursor:
        for i in range(0, len(rows), per_statement):
            chunk = rows[i : i + per_statement]
            sql = f"INSERT INTO {table} ({columns}) VALUES " + ", ".join([one] * len(chunk))  # noqa: S608
            # Choices are str enums: bind their plain value (sqlite3 refuses str subclasses).
            params = [v.value if isinstance(v, Enum) else v for row in chunk for v in (*row, *tail)]
            cursor.execute(sql, params)


def _reconcile_batch(
    specs: list[HallSpec],
    existing: _Existing,
    halls: dict[str, int],
    windows: dict[str, int],
    links: dict[str, int],
) -> None:
    # Halls: insert the new, update the changed (is_active is the operator's and left alone).
    new_halls: list[tuple[Any, ...]] = []
    changed_halls: list[Hall] = []
    ids: dict[str, int] = {}
    for s in specs:
        values = tuple(getattr(s, f) for f in HALL_FIELDS)
        row = existing.halls.get(s.code)
        if row is None:
            new_halls.append((s.code, *values))
            continue
        ids[s.code] = row[0]
        if row[1:] != values:
            changed_halls.append(Hall(id=row[0], code=s.code, **dict(zip(HALL_FIELDS, values, strict=True))))
        else:
            halls["unchanged"] += 1
    if new_halls:
        # Ids of rows inserted now are all above the largest id seen before (autoincrement and
        # sequences only grow), so one range query maps the new codes to ids without an IN list.
        floor = _max_id(Hall)
        _insert(Hall, ("code", *HALL_FIELDS), new_halls)
        wanted_codes = {r[0] for r in new_halls}
        for code, pk in Hall.objects.filter(id__gt=floor).values_list("code", "id"):
            if code in wanted_codes:
                ids[code] = pk
    Hall.objects.bulk_update(changed_halls, list(HALL_FIELDS), batch_size=500)
    halls["created"] += len(new_halls)
    halls["updated"] += len(changed_halls)

    # Windows: insert missing numbers, correct kinds; never delete (posts and tickets point at them).
    new_windows: list[tuple[Any, ...]] = []
    changed_windows: list[Window] = []
    window_ids: dict[tuple[int, str], int] = {}
    for s in specs:
        hid = ids[s.code]
        for ws in s.windows:
            flags = tuple(k in ws.kinds for k in KIND_FIELDS)
            current = existing.windows.get((hid, ws.number))
            if current is None:
                new_windows.append((hid, ws.number, *flags))
                continue
            window_ids[(hid, ws.number)] = current[0]
            if tuple(current[1:]) != flags:
                changed_windows.append(
                    Window(id=current[0], hall_id=hid, number=ws.number, **dict(zip(KIND_FIELDS, flags, strict=True)))
                )
            else:
                windows["unchanged"] += 1
    if new_windows:
        floor = _max_id(Window)
        _insert(Window, ("hall_id", "number", *KIND_FIELDS), new_windows)
        for pk, hid, number in Window.objects.filter(id__gt=floor).values_list("id", "hall_id", "number"):
            window_ids.setdefault((hid, number), pk)
    Window.objects.bulk_update(changed_windows, list(KIND_FIELDS), batch_size=500)
    windows["created"] += len(new_windows)
    windows["updated"] += len(changed_windows)

    # Window items: make each planned window's set exactly the plan's (other windows untouched).
    add: list[tuple[int, int]] = []
    remove: list[int] = []
    for s in specs:
        hid = ids[s.code]
        for ws in s.windows:
            wid = window_ids[(hid, ws.number)]
            have = existing.links.get(wid, {})
            add.extend((wid, item_id) for item_id in ws.items if item_id not in have)
            if have:
                wanted = set(ws.items)
                remove.extend(pk for item_id, pk in have.items() if item_id not in wanted)
            links["total"] += len(ws.items)
    through = Window.items.through
    _insert(through, ("window_id", "item_id"), add)
    for chunk in _chunks(remove):
        through.objects.filter(id__in=chunk).delete()
    links["added"] += len(add)
    links["removed"] += len(remove)

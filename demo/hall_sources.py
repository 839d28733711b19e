"""What the demo hall plan is built from: real centres, place names, counties, catalog choices.

Pure reads (the shipped JSON under demo/data/, regions, the catalog) and seeded geometry helpers.
"""

from __future__ import annotations

import json
import math
import random
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from functools import cache
from typing import Any

import numpy as np

from demo.hall_specs import (
    BRANCH_TEMPLATES,
    CO,
    COMPREHENSIVE_LAYOUT,
    DATA_DIR,
    GI,
    HIGH_FREQUENCY_KEYWORDS,
    IS,
    KIOSK_ITEMS,
    MAX_BRANCH_ITEMS,
    PROVINCE,
    STATION_ITEMS,
    VILLAGE_ITEMS,
    County,
    HallSpec,
    WindowSpec,
)

# --------------------------------------------------------------------------------------------
# The plan: every hall and window we want, computed without writing anything
# --------------------------------------------------------------------------------------------


@dataclass
class Plan:
    halls: list[HallSpec]
    moved: list[str] = field(default_factory=list)
    skipped: list[str] = field(default_factory=list)


@cache
def real_halls() -> dict[str, Any]:
    with (DATA_DIR / "guizhou_halls.json").open(encoding="utf-8") as f:
        data: dict[str, Any] = json.load(f)
    return data


@cache
def place_names() -> dict[str, Any]:
    with (DATA_DIR / "place_names.json").open(encoding="utf-8") as f:
        data: dict[str, Any] = json.load(f)
    return data


def county_rng(seed: int, adcode: str, stream: int) -> np.random.Generator:
    """An independent, reproducible generator per (seed, county, kind of point).

    Seeding per county and kind keeps every county's points stable when another county or kind
    changes (e.g. ``size="large"`` adds villages without moving a single township).
    """
    return np.random.default_rng([seed, int(adcode), stream])


STREAM_OFFSET, STREAM_BRANCH, STREAM_TOWNSHIP, STREAM_KIOSK, STREAM_VILLAGE, STREAM_NAMES = range(1, 7)


def points_in(adcode: str, n: int, rng: np.random.Generator) -> list[tuple[float, float]]:
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


def place_inside(
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
    return points_in(adcode, 1, rng)[0]


def near_representative_point(county: County, rng: np.random.Generator) -> tuple[float, float]:
    """The county's representative point plus a small seeded offset (≤ ~1 km), kept inside."""
    for _ in range(8):
        dlat, dlon = rng.uniform(-0.008, 0.008, size=2)
        lat, lon = round(county.lat + float(dlat), 6), round(county.lon + float(dlon), 6)
        if _county_at(lat, lon) == county.adcode:
            return lat, lon
    # The representative point itself is inside the boundary by construction.
    return round(county.lat, 6), round(county.lon, 6)


def allocate(total: int, weights: Sequence[float], minimum: int) -> list[int]:
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


def unique_names(
    rng: random.Random, n: int, suffixes: Sequence[Sequence[Any]], taken: set[str] | None = None
) -> list[str]:
    """n distinct synthetic place names like 青坪镇 from the syllable lists."""
    names = place_names()
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


def load_counties() -> tuple[list[County], dict[str, str]]:
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
            County(
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


def load_catalog_choices() -> _Catalog:
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


def comprehensive_windows(level: str) -> list[WindowSpec]:
    windows: list[WindowSpec] = []
    for count, kinds in COMPREHENSIVE_LAYOUT[level]:
        for _ in range(count):
            windows.append(WindowSpec(str(len(windows) + 1), kinds))
    return windows


def branch_windows(items: tuple[int, ...], city_level: bool) -> list[WindowSpec]:
    windows = [WindowSpec("1", frozenset({GI}), items), WindowSpec("2", frozenset({GI}), items)]
    if city_level:
        windows.append(WindowSpec("3", frozenset({GI}), items))
    windows.append(WindowSpec(str(len(windows) + 1), frozenset({IS})))
    windows.append(WindowSpec(str(len(windows) + 1), frozenset({CO})))
    return windows

"""The demo hall plan: every hall and window wanted for a size and seed, computed without writing."""

from __future__ import annotations

import logging
import math
import random

import numpy as np

from demo.hall_sources import (
    STREAM_BRANCH,
    STREAM_KIOSK,
    STREAM_NAMES,
    STREAM_OFFSET,
    STREAM_TOWNSHIP,
    STREAM_VILLAGE,
    Plan,
    allocate,
    branch_windows,
    comprehensive_windows,
    county_rng,
    load_catalog_choices,
    load_counties,
    near_representative_point,
    place_inside,
    place_names,
    points_in,
    real_halls,
    unique_names,
)
from demo.hall_specs import (
    BRANCH_TEMPLATES,
    CO,
    GI,
    HOURS_BRANCH,
    HOURS_COMPREHENSIVE,
    HOURS_KIOSK,
    HOURS_TOWNSHIP,
    HOURS_VILLAGE,
    IS,
    KIOSKS,
    MIN_KIOSKS_PER_COUNTY,
    MIN_TOWNSHIPS_PER_COUNTY,
    MIN_VILLAGES_PER_COUNTY,
    TB,
    TOWNSHIP_STATIONS,
    VILLAGE_STATIONS,
    County,
    HallSpec,
    WindowSpec,
)
from halls.models import HallLevel, HallType

log = logging.getLogger(__name__)


def plan_halls(*, size: str = "default", seed: int = 52) -> Plan:
    """The desired registry for a size and seed (pure read: regions, catalog, geometry)."""
    counties, _cities = load_counties()
    by_adcode = {c.adcode: c for c in counties}
    catalog = load_catalog_choices()
    data = real_halls()
    names = place_names()
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
        lat, lon = place_inside(
            county,
            float(entry["lat"]),
            float(entry["lon"]),
            county_rng(seed, county, STREAM_OFFSET),
            entry["code"],
            moved,
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
                windows=comprehensive_windows(entry["level"]),
            )
        )

    # County comprehensive halls (real institutions, approximate location).
    for c in counties:
        lat, lon = near_representative_point(c, county_rng(seed, c.adcode, STREAM_OFFSET))
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
                windows=comprehensive_windows(HallLevel.COUNTY),
            )
        )

    # Department branch halls (synthetic): every template in each city seat, some in counties.
    for city_adcode, seat in sorted(city_seat.items()):
        rng = county_rng(seed, city_adcode, STREAM_BRANCH)
        templates = [t for t in BRANCH_TEMPLATES if catalog.branch_items[t.suffix]]
        points = points_in(seat, len(templates), rng)
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
        rng = county_rng(seed, c.adcode, STREAM_BRANCH)
        draws = rng.random(len(BRANCH_TEMPLATES))
        templates = [
            t
            for t, u in zip(BRANCH_TEMPLATES, draws, strict=True)
            if u < t.county_share and catalog.branch_items[t.suffix]
        ]
        for t, (lat, lon) in zip(templates, points_in(c.adcode, len(templates), rng), strict=True):
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
    townships = allocate(TOWNSHIP_STATIONS, [math.sqrt(c.area_km2) for c in counties], MIN_TOWNSHIPS_PER_COUNTY)
    kiosks = allocate(KIOSKS, townships, MIN_KIOSKS_PER_COUNTY)
    villages = allocate(VILLAGE_STATIONS, [c.area_km2 for c in counties], MIN_VILLAGES_PER_COUNTY)
    roads: list[str] = names["roads"]
    for c, n_town, n_kiosk, n_village in zip(counties, townships, kiosks, villages, strict=True):
        kind = "district" if c.is_district else "county"
        name_rng = random.Random(f"{seed}:{c.adcode}:{STREAM_NAMES}")
        town_names = unique_names(name_rng, n_town, names["township_suffix"][kind])
        phone = phone_for(c.city_adcode)
        prefix = f"贵州省{c.city_name}{c.name}"
        station_windows = [
            WindowSpec("1", frozenset({TB, GI}), catalog.station_items),
            WindowSpec("2", frozenset({IS, CO})),
        ]
        for i, (town, (lat, lon)) in enumerate(
            zip(town_names, points_in(c.adcode, n_town, county_rng(seed, c.adcode, STREAM_TOWNSHIP)), strict=True), 1
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
            zip(kiosk_places, points_in(c.adcode, n_kiosk, county_rng(seed, c.adcode, STREAM_KIOSK)), strict=True), 1
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
            village_rng = random.Random(f"{seed}:{c.adcode}:{STREAM_VILLAGE}")
            village_names = unique_names(village_rng, n_village, names["village_suffix"][kind])
            village_windows = [WindowSpec("1", frozenset({GI, CO}), catalog.village_items)]
            for i, (village, (lat, lon)) in enumerate(
                zip(
                    village_names,
                    points_in(c.adcode, n_village, county_rng(seed, c.adcode, STREAM_VILLAGE)),
                    strict=True,
                ),
                1,
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
            hall.lat, hall.lon = points_in(hall.region_id, 1, rng)[0]
            plan.moved.append(hall.code)


def _branch_spec(
    code: str,
    name: str,
    level: str,
    county: County,
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
        windows=branch_windows(items, city_level),
    )

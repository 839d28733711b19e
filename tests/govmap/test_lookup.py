"""Point → county by containment, the vectorised form, and sampling inside a county."""

from __future__ import annotations

import numpy as np
import pytest
import shapely
from shapely.geometry import shape

from govmap.geo import counties_at, county_and_parent_at, county_at, county_index, random_points_in
from govmap.models import Region, RegionLevel

# WGS-84 positions of well-known places, each at least ~370 m inside its county in our data
# (筑城广场 is the closest to a border; the others are ≥ 1 km inside).
KNOWN_PLACES = [
    ("贵阳 筑城广场", 26.578, 106.713, "520102"),  # 南明区
    ("贵阳 龙洞堡机场", 26.5385, 106.8008, "520102"),  # 南明区
    ("遵义会议会址", 27.6937, 106.9217, "520302"),  # 红花岗区
    ("兴义市区", 25.092, 104.895, "522301"),
    ("黔西市区", 27.03, 106.03, "520581"),
    ("凯里市区", 26.566, 107.981, "522601"),
    ("铜仁 碧江区", 27.718, 109.19, "520602"),
    ("六盘水 钟山区", 26.5947, 104.843, "520201"),
    ("毕节 七星关区", 27.302, 105.284, "520502"),
    ("安顺 西秀区", 26.245, 105.946, "520402"),
    ("都匀市区", 26.259, 107.518, "522701"),
]
OUTSIDE = [
    ("昆明", 25.04, 102.71),
    ("重庆", 29.56, 106.55),
    ("长沙", 28.23, 112.94),
    ("北京", 39.9, 116.4),
    ("Null Island", 0.0, 0.0),
]


@pytest.mark.parametrize(("label", "lat", "lon", "adcode"), KNOWN_PLACES)
def test_known_places(guizhou_regions: dict[str, Region], label: str, lat: float, lon: float, adcode: str) -> None:
    assert county_at(lat, lon) == adcode, label


@pytest.mark.parametrize(("label", "lat", "lon"), OUTSIDE)
def test_outside_guizhou_is_none(guizhou_regions: dict[str, Region], label: str, lat: float, lon: float) -> None:
    assert county_at(lat, lon) is None, label


def test_no_regions_means_no_county(db: None) -> None:
    assert county_at(26.578, 106.713) is None


def test_county_and_parent(guizhou_regions: dict[str, Region]) -> None:
    assert county_and_parent_at(27.6937, 106.9217) == ("520302", "520300")
    assert county_and_parent_at(39.9, 116.4) is None


def test_vectorised_matches_scalar_and_shapely(guizhou_regions: dict[str, Region]) -> None:
    rng = np.random.default_rng(1)
    lats = rng.uniform(24.5, 29.3, 3000)
    lons = rng.uniform(103.5, 109.7, 3000)
    got = counties_at(lats, lons)
    assert len(got) == 3000
    assert got[:50] == [county_at(la, lo) for la, lo in zip(lats[:50], lons[:50], strict=True)]
    polygons = {r.adcode: shape(r.boundary) for r in guizhou_regions.values() if r.level == RegionLevel.COUNTY}
    for la, lo, code in zip(lats[:300], lons[:300], got[:300], strict=True):
        expected = [a for a, g in polygons.items() if g.contains(shapely.Point(lo, la))]
        assert (expected[0] if expected else None) == code
    # Points in the bounding box but outside the province exist and get None.
    assert None in got and sum(c is not None for c in got) > 1500


def test_point_on_a_shared_border_gets_one_county(guizhou_regions: dict[str, Region]) -> None:
    nanming = shape(guizhou_regions["520102"].boundary)
    yunyan = shape(guizhou_regions["520103"].boundary)
    border = nanming.intersection(yunyan)
    assert border.length > 0
    vertex = shapely.get_coordinates(border)[1]
    assert county_at(float(vertex[1]), float(vertex[0])) in {"520102", "520103"}


@pytest.mark.parametrize(
    ("lats", "lons"),
    [([91.0], [106.0]), ([26.0], [181.0]), ([float("nan")], [106.0]), ([26.0, 27.0], [106.0])],
)
def test_bad_coordinates_raise(guizhou_regions: dict[str, Region], lats: list[float], lons: list[float]) -> None:
    with pytest.raises(ValueError):
        counties_at(lats, lons)


def test_index_follows_region_changes(guizhou_regions: dict[str, Region], django_capture_on_commit_callbacks) -> None:
    assert county_at(26.578, 106.713) == "520102"
    before = county_index()
    region = Region.objects.get(adcode="520102")
    # Replace 南明区's boundary by a small square far away (a save() fires the signal, which
    # invalidates the index once the write commits).
    region.boundary = shapely.geometry.mapping(shapely.box(106.0, 25.0, 106.01, 25.01))
    with django_capture_on_commit_callbacks(execute=True):
        region.save()
    assert county_index() is not before
    assert county_at(26.578, 106.713) is None
    assert county_at(25.005, 106.005) == "520102"


def test_random_points_are_inside_seeded_and_spread(guizhou_regions: dict[str, Region]) -> None:
    points = random_points_in("520102", 500, np.random.default_rng(42))
    assert len(points) == 500
    assert random_points_in("520102", 500, np.random.default_rng(42)) == points
    assert random_points_in("520102", 500, 42) == random_points_in("520102", 500, 42)
    assert random_points_in("520102", 500, np.random.default_rng(43)) != points
    lats, lons = np.array(points).T
    assert set(counties_at(lats, lons)) == {"520102"}
    # Uniform in area: the two halves of the bounding box split ~ by the polygon's area there.
    geom = shape(guizhou_regions["520102"].boundary)
    minx, miny, maxx, maxy = geom.bounds
    west = geom.intersection(shapely.box(minx, miny, (minx + maxx) / 2, maxy)).area / geom.area
    assert np.mean(lons < (minx + maxx) / 2) == pytest.approx(west, abs=0.07)


def test_random_points_in_a_city_and_bad_input(guizhou_regions: dict[str, Region]) -> None:
    points = random_points_in("520100", 50, 1)
    parents = {guizhou_regions[c].parent_id for c in counties_at(*np.array(points).T)}
    assert parents == {"520100"}
    assert random_points_in("520102", 0, 1) == []
    with pytest.raises(LookupError):
        random_points_in("999999", 3, 1)
    with pytest.raises(ValueError):
        random_points_in("520102", -1, 1)

"""Coverage: the share of each county within a distance of a service point, and the gaps."""

from __future__ import annotations

import json
import math

import pytest
from django.core.management import CommandError, call_command

from govmap.spatial import compute_coverage


def _square(lat: float, lon: float, half_deg: float) -> dict:
    return {
        "type": "Polygon",
        "coordinates": [
            [
                [lon - half_deg, lat - half_deg],
                [lon + half_deg, lat - half_deg],
                [lon + half_deg, lat + half_deg],
                [lon - half_deg, lat + half_deg],
                [lon - half_deg, lat - half_deg],
            ]
        ],
    }


def test_circle_inside_a_square_covers_its_area():
    region = _square(26.5, 106.7, 0.2)  # ~40 km × 44 km
    [result] = compute_coverage([("520102", region)], [(26.5, 106.7)], distance_m=5000)
    circle_km2 = math.pi * 25
    assert result.area_km2 * result.covered_share == pytest.approx(circle_km2, rel=0.02)
    assert result.points == 1
    assert result.gaps and result.gaps[0]["area_km2"] == pytest.approx(result.uncovered_km2, rel=0.01)


def test_points_outside_cover_the_border_and_none_means_zero():
    region = _square(26.5, 106.7, 0.05)
    # A point just outside the square's west edge, with a radius that reaches across all of it.
    [outside] = compute_coverage([("1", region)], [(26.5, 106.64)], distance_m=30_000)
    assert outside.covered_share == pytest.approx(1.0)
    assert outside.points == 0
    assert outside.gaps == []
    [empty] = compute_coverage([("1", region)], [], distance_m=5000)
    assert empty.covered_share == 0.0
    assert empty.uncovered_km2 == pytest.approx(empty.area_km2)
    with pytest.raises(ValueError):
        compute_coverage([("1", region)], [], distance_m=0)


@pytest.mark.django_db
def test_command_saves_per_county_and_feeds_the_map(client, guizhou_regions, fresh_hall_index, hall_factory, capsys):
    from halls.models import CountyCoverage

    county = guizhou_regions["520102"]
    hall_factory("520102", lat=county.lat, lon=county.lon, type="comprehensive")
    hall_factory("520102", lat=county.lat, lon=county.lon + 0.01, type="kiosk", windows="kiosk")  # not counted
    call_command("coverage", "--distance-km", "8", "--region", "520100", "--json")
    out = json.loads(capsys.readouterr().out)
    assert out["distance_m"] == 8000
    assert out["points"] == 1
    by_county = {c["adcode"]: c for c in out["by_county"]}
    assert set(by_county) == {a for a in guizhou_regions if a.startswith("5201") and a != "520100"}
    assert by_county["520102"]["covered_share"] > 0.5  # 南明区 is small: most of it within 8 km
    assert by_county["520102"]["points"] == 1
    assert by_county["520122"]["covered_share"] == 0.0  # 息烽县: no point
    assert out["largest_gaps"][0]["area_km2"] >= out["largest_gaps"][-1]["area_km2"]
    saved = CountyCoverage.objects.get(region_id="520102")
    assert saved.distance_m == 8000 and saved.covered_share == by_county["520102"]["covered_share"]
    fc = client.get("/api/v1/map/counties.geojson").json()
    props = {f["properties"]["adcode"]: f["properties"] for f in fc["features"]}
    assert props["520102"]["coverage"] == saved.covered_share
    assert props["520201"]["coverage"] is None  # outside the computed region


@pytest.mark.django_db
@pytest.mark.parametrize(
    "argv",
    [["--distance-km", "0"], ["--types", "castle"], ["--region", "999999"]],
)
def test_command_refuses_bad_options(guizhou_regions, argv):
    from halls.models import CountyCoverage

    with pytest.raises(CommandError):
        call_command("coverage", *argv)
    assert not CountyCoverage.objects.exists()

"""export_points: every service point as a GeoPackage or GeoJSON layer for GIS users, in WGS-84."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from django.core.management import CommandError, call_command

pytestmark = pytest.mark.django_db


@pytest.mark.parametrize(("fmt", "name"), [("gpkg", "points.gpkg"), ("geojson", "points.geojson")])
def test_exports_the_active_points_with_their_attributes(guizhou_regions, hall_factory, tmp_path: Path, fmt, name):
    import geopandas as gpd

    county = guizhou_regions["520102"]
    hall_factory("520102", code="520102-A", lat=county.lat, lon=county.lon, address="新华路 1 号")
    hall_factory("520102", code="520102-B", type="kiosk", windows="kiosk", lat=26.57, lon=106.71)
    hall_factory("520102", code="520102-C", is_active=False)
    out = tmp_path / "sub" / name
    call_command("export_points", "--format", fmt, "--out", str(out))

    frame = gpd.read_file(out, engine="pyogrio")
    assert frame.crs.to_epsg() == 4326
    assert list(frame["code"]) == ["520102-A", "520102-B"]
    first = frame.iloc[0]
    assert (first["type"], first["region"], first["region_name"]) == ("comprehensive", "520102", county.name)
    assert first["address"] == "新华路 1 号"
    assert (first.geometry.x, first.geometry.y) == pytest.approx((county.lon, county.lat))
    assert (frame.iloc[1].geometry.x, frame.iloc[1].geometry.y) == pytest.approx((106.71, 26.57))


def test_replaces_the_file_and_can_include_closed_points(guizhou_regions, hall_factory, tmp_path: Path):
    import geopandas as gpd

    hall_factory("520102", code="520102-A")
    hall_factory("520102", code="520102-C", is_active=False)
    out = tmp_path / "points.gpkg"
    call_command("export_points", "--out", str(out))  # the format from the extension
    call_command("export_points", "--out", str(out), "--include-inactive")
    frame = gpd.read_file(out, layer="service_points", engine="pyogrio")
    assert sorted(frame["code"]) == ["520102-A", "520102-C"]
    assert dict(zip(frame["code"], frame["is_active"], strict=True)) == {"520102-A": True, "520102-C": False}


def test_geojson_is_plain_lon_lat_and_unknown_extension_is_refused(guizhou_regions, hall_factory, tmp_path: Path):
    hall_factory("520102", code="520102-A", lat=26.5, lon=106.7)
    out = tmp_path / "points.json"
    call_command("export_points", "--out", str(out))
    feature = json.loads(out.read_text(encoding="utf-8"))["features"][0]
    assert feature["geometry"] == {"type": "Point", "coordinates": [106.7, 26.5]}
    with pytest.raises(CommandError, match="--format"):
        call_command("export_points", "--out", str(tmp_path / "points.shp"))

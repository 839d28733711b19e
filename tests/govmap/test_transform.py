"""GCJ-02 ⇄ WGS-84: reference values, exact inverse, points outside China untouched."""

from __future__ import annotations

import math

import numpy as np
import pytest
import shapely
from hypothesis import given, settings
from hypothesis import strategies as st

from govmap.geo import gcj02_to_wgs84, geometry_gcj02_to_wgs84, out_of_china, wgs84_to_gcj02

# Reference pairs (WGS-84 → GCJ-02) computed with two independent implementations, the C
# extension of `coordTransform` 0.2.1 and the Rust crate `geocoordinates-rs` 0.14.2, which agree
# to the last bit: (lat, lon) WGS-84, (lat, lon) GCJ-02.
REFERENCE = [
    ((39.915, 116.404), (39.91640428150164, 116.41024449916938)),  # Beijing, Tian'anmen
    ((26.578, 106.713), (26.574477225604085, 106.71677103435458)),  # Guiyang, 筑城广场
]


@pytest.mark.parametrize(("wgs", "gcj"), REFERENCE)
def test_forward_matches_reference(wgs: tuple[float, float], gcj: tuple[float, float]) -> None:
    lon, lat = wgs84_to_gcj02(wgs[1], wgs[0])
    assert float(lat) == pytest.approx(gcj[0], abs=1e-12)
    assert float(lon) == pytest.approx(gcj[1], abs=1e-12)


@pytest.mark.parametrize(("wgs", "gcj"), REFERENCE)
def test_inverse_recovers_reference_to_sub_millimetre(wgs: tuple[float, float], gcj: tuple[float, float]) -> None:
    lon, lat = gcj02_to_wgs84(gcj[1], gcj[0])
    # 1e-8° is ~1 mm on the ground.
    assert float(lat) == pytest.approx(wgs[0], abs=1e-8)
    assert float(lon) == pytest.approx(wgs[1], abs=1e-8)


def test_offset_in_guizhou_is_hundreds_of_metres() -> None:
    """Sanity check of the magnitude that makes the conversion matter for point-in-county."""
    lon, lat = wgs84_to_gcj02(106.713, 26.578)
    dx = (float(lon) - 106.713) * 111_320 * math.cos(math.radians(26.578))
    dy = (float(lat) - 26.578) * 110_574
    assert 300 < math.hypot(dx, dy) < 800


@settings(max_examples=300, deadline=None)
@given(lat=st.floats(min_value=18.0, max_value=53.0), lon=st.floats(min_value=74.0, max_value=134.5))
def test_round_trip_inside_china_is_sub_centimetre(lat: float, lon: float) -> None:
    glon, glat = wgs84_to_gcj02(lon, lat)
    wlon, wlat = gcj02_to_wgs84(glon, glat)
    assert abs(float(wlat) - lat) < 1e-7  # 1e-7° ≈ 1 cm
    assert abs(float(wlon) - lon) < 1e-7


def test_vectorised_round_trip_many_points() -> None:
    rng = np.random.default_rng(7)
    lon = rng.uniform(103.5, 109.6, 50_000)
    lat = rng.uniform(24.6, 29.2, 50_000)
    wlon, wlat = gcj02_to_wgs84(*wgs84_to_gcj02(lon, lat))
    assert np.max(np.abs(wlon - lon)) < 1e-9
    assert np.max(np.abs(wlat - lat)) < 1e-9


@pytest.mark.parametrize(
    ("lat", "lon"),
    [
        (51.5007, -0.1246),  # London
        (35.6586, 139.7454),  # Tokyo: east of the GCJ-02 rectangle
        (1.2903, 103.8519),  # Singapore: south of it
        (-33.8568, 151.2153),  # Sydney
        (0.0, 0.0),
    ],
)
def test_points_outside_china_are_unchanged(lat: float, lon: float) -> None:
    assert bool(out_of_china(lon, lat))
    assert tuple(float(v) for v in wgs84_to_gcj02(lon, lat)) == (lon, lat)
    assert tuple(float(v) for v in gcj02_to_wgs84(lon, lat)) == (lon, lat)


def test_non_finite_input_is_refused() -> None:
    with pytest.raises(ValueError, match="有限"):
        gcj02_to_wgs84([106.7, float("nan")], [26.5, 26.5])


def test_geometry_conversion_moves_every_vertex_and_keeps_shared_vertices_shared() -> None:
    a = shapely.Polygon([(106.7, 26.5), (106.8, 26.5), (106.8, 26.6), (106.7, 26.6)])
    b = shapely.Polygon([(106.8, 26.5), (106.9, 26.5), (106.9, 26.6), (106.8, 26.6)])
    wa, wb = geometry_gcj02_to_wgs84(a), geometry_gcj02_to_wgs84(b)
    assert wa.is_valid and wb.is_valid
    # Same input vertex → same output vertex, so the shared edge stays exactly shared.
    assert shapely.intersection(wa, wb).area == 0
    assert shapely.shared_paths(wa.exterior, wb.exterior).length > 0
    coords_in = shapely.get_coordinates(a)
    coords_out = shapely.get_coordinates(wa)
    expected_lon, expected_lat = gcj02_to_wgs84(coords_in[:, 0], coords_in[:, 1])
    np.testing.assert_allclose(coords_out[:, 0], expected_lon)
    np.testing.assert_allclose(coords_out[:, 1], expected_lat)


def test_inverse_converges_near_the_edge_of_the_gcj_rectangle() -> None:
    """Xinjiang's western border runs along the rectangle's edge (lon 73.66°), where the masked
    forward map jumps; the inverse must still converge and invert the points it calls inside."""
    lon = np.array([73.6601, 73.661, 73.665, 73.67, 73.7, 73.5])
    lat = np.full(lon.shape, 39.0)
    wlon, wlat = gcj02_to_wgs84(lon, lat)
    assert np.all(np.isfinite(wlon)) and np.all(np.isfinite(wlat))
    assert (wlon[-1], wlat[-1]) == (73.5, 39.0)  # outside: unchanged
    # The points well inside map back exactly.
    flon, flat = wgs84_to_gcj02(wlon[3:5], wlat[3:5])
    np.testing.assert_allclose(flon, lon[3:5], atol=1e-9)
    np.testing.assert_allclose(flat, lat[3:5], atol=1e-9)

"""Nearest hall: the in-memory index agrees with brute-force haversine; the API and its errors."""

from __future__ import annotations

import numpy as np
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from govmap.spatial import PointIndex, haversine_m

lat_s = st.floats(min_value=-89.9, max_value=89.9, allow_nan=False)
lon_s = st.floats(min_value=-179.9, max_value=179.9, allow_nan=False)


def _brute(index: PointIndex, lat: float, lon: float, k: int, mask=None):
    d = haversine_m(lat, lon, index.lat, index.lon)
    rows = [(round(float(d[i]), 6), int(index.ids[i])) for i in range(len(index.ids)) if mask is None or mask[i]]
    rows.sort()
    return [(i, dist) for dist, i in rows[:k]]


@settings(max_examples=60, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(
    seed=st.integers(0, 2**32 - 1),
    n=st.integers(1, 400),
    k=st.integers(1, 12),
    lat=lat_s,
    lon=lon_s,
    local=st.booleans(),
)
def test_nearest_equals_brute_force(seed, n, k, lat, lon, local):
    rng = np.random.default_rng(seed)
    if local:  # Guizhou-sized cloud around the query: the realistic case
        plat = np.clip(lat + rng.normal(0, 1.0, n), -90, 90)
        plon = (lon + rng.normal(0, 1.0, n) + 180) % 360 - 180
    else:  # the whole globe: poles and the antimeridian included
        plat = np.degrees(np.arcsin(rng.uniform(-1, 1, n)))
        plon = rng.uniform(-180, 180, n)
    index = PointIndex(ids=np.arange(1, n + 1) * 7, lat=plat, lon=plon)
    got = [(nb.id, nb.distance_m) for nb in index.nearest(lat, lon, k)]
    want = _brute(index, lat, lon, k)
    assert [i for i, _ in got] == [i for i, _ in want]
    assert np.allclose([d for _, d in got], [d for _, d in want], atol=1e-3)


@settings(max_examples=40, deadline=None)
@given(seed=st.integers(0, 2**32 - 1), k=st.integers(1, 8), lat=st.floats(24, 29.5), lon=st.floats(103.5, 109.5))
def test_filtered_nearest_equals_brute_force(seed, k, lat, lon):
    rng = np.random.default_rng(seed)
    n = 6000  # above the brute-force threshold, so the tree walk with a mask is exercised
    types = rng.choice(np.array(["comprehensive", "station", "kiosk"], dtype=object), n, p=[0.01, 0.3, 0.69])
    index = PointIndex(
        ids=np.arange(n), lat=rng.uniform(24, 29.5, n), lon=rng.uniform(103.5, 109.5, n), labels={"type": types}
    )
    for wanted in ("comprehensive", "station"):
        mask = index.mask_for(type=wanted)
        got = [nb.id for nb in index.nearest(lat, lon, k, mask=mask)]
        assert got == [i for i, _ in _brute(index, lat, lon, k, mask)]


def test_duplicate_points_tie_by_id():
    index = PointIndex(ids=np.array([5, 3, 9, 1]), lat=np.full(4, 26.5), lon=np.full(4, 106.7))
    assert [nb.id for nb in index.nearest(26.6, 106.7, 3)] == [1, 3, 5]


def test_bad_coordinates_refused():
    index = PointIndex(ids=np.array([1]), lat=np.array([26.5]), lon=np.array([106.7]))
    for lat, lon in ((91, 0), (0, 181), (float("nan"), 0)):
        with pytest.raises(ValueError):
            index.nearest(lat, lon, 1)


@pytest.mark.django_db
class TestNearestApi:
    def _halls(self, hall_factory):
        a = hall_factory("520102", code="H-A", lat=26.58, lon=106.71, type="comprehensive")
        b = hall_factory("520102", code="H-B", lat=26.60, lon=106.72, type="station", windows="station")
        c = hall_factory("520103", code="H-C", lat=26.70, lon=106.80, type="kiosk", windows="kiosk")
        return a, b, c

    def test_nearest_first_with_metres_and_queue(self, api_client, guizhou_regions, fresh_hall_index, hall_factory):
        from halls import actions

        _a, b, _c = self._halls(hall_factory)
        actions.issue_ticket(hall=b, category="A", actor=None)
        response = api_client.get("/api/v1/halls/nearest/", {"lat": 26.601, "lon": 106.72, "k": 2})
        assert response.status_code == 200, response.content
        rows = response.json()
        assert [r["code"] for r in rows] == ["H-B", "H-A"]
        assert rows[0]["distance_m"] == pytest.approx(haversine_m(26.601, 106.72, 26.60, 106.72), abs=0.1)
        assert rows[0]["queue_waiting"] == 1
        assert set(rows[0]) == {"code", "name", "type", "lat", "lon", "distance_m", "queue_waiting"}

    def test_type_filter_and_default_k(self, api_client, guizhou_regions, fresh_hall_index, hall_factory):
        self._halls(hall_factory)
        rows = api_client.get("/api/v1/halls/nearest/", {"lat": 26.7, "lon": 106.8, "type": "comprehensive"}).json()
        assert [r["code"] for r in rows] == ["H-A"]
        assert len(api_client.get("/api/v1/halls/nearest/", {"lat": 26.7, "lon": 106.8}).json()) == 3

    def test_item_filter(self, api_client, guizhou_regions, fresh_hall_index, hall_factory):
        from services.models import DepartmentKind, Item

        kind = DepartmentKind.objects.create(code="test", name="测试部门")
        item = Item.objects.create(
            code="T-ITEM-1",
            name="测试事项",
            item_type="licensing",
            department_kind=kind,
            handling_level="county",
            legal_days=20,
            committed_days=10,
            result_type="licence",
        )
        hall_factory("520102", code="H-LISTS", lat=26.9, lon=106.9, items=[item])
        hall_factory("520102", code="H-OTHER", lat=26.58, lon=106.71, windows="issuing_only")
        rows = api_client.get("/api/v1/halls/nearest/", {"lat": 26.58, "lon": 106.71, "item": "T-ITEM-1"}).json()
        assert [r["code"] for r in rows] == ["H-LISTS"]
        unknown = api_client.get("/api/v1/halls/nearest/", {"lat": 26.58, "lon": 106.71, "item": "NOPE"})
        assert unknown.status_code == 400
        assert "item" in unknown.json()["errors"]

    @pytest.mark.parametrize(
        ("params", "field"),
        [
            ({"lon": 106.7}, "lat"),
            ({"lat": "abc", "lon": 106.7}, "lat"),
            ({"lat": 95, "lon": 106.7}, "lat"),
            ({"lat": 26.5, "lon": 190}, "lon"),
            ({"lat": 26.5, "lon": 106.7, "k": 0}, "k"),
            ({"lat": 26.5, "lon": 106.7, "k": 51}, "k"),
            ({"lat": 26.5, "lon": 106.7, "k": "x"}, "k"),
            ({"lat": 26.5, "lon": 106.7, "type": "castle"}, "type"),
        ],
    )
    def test_bad_input(self, api_client, guizhou_regions, fresh_hall_index, params, field):
        response = api_client.get("/api/v1/halls/nearest/", params)
        assert response.status_code == 400
        assert field in response.json()["errors"]

    def test_index_follows_changes(self, api_client, guizhou_regions, fresh_hall_index, hall_factory):
        from halls.models import Hall

        a, b, _c = self._halls(hall_factory)
        near = {"lat": 26.58, "lon": 106.71, "k": 1}
        assert api_client.get("/api/v1/halls/nearest/", near).json()[0]["code"] == "H-A"
        Hall.objects.filter(pk=a.pk).update(is_active=False)  # bulk: no signal, the fingerprint sees it
        assert api_client.get("/api/v1/halls/nearest/", near).json()[0]["code"] == "H-B"
        b.lat, b.lon = 27.5, 107.5
        b.save()
        assert api_client.get("/api/v1/halls/nearest/", near).json()[0]["code"] == "H-C"

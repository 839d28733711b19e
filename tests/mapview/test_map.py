"""The map page and its endpoints: local assets only, size independent of the data, escaping."""

from __future__ import annotations

import re

import pytest
from django.contrib.staticfiles import finders

XSS = '<script>alert("x")</script><img src=x onerror=alert(1)>'


@pytest.mark.django_db
class TestMapPage:
    def test_every_asset_is_local_and_exists(self, client):
        response = client.get("/map/")
        assert response.status_code == 200
        html = response.content.decode()
        assert "TongbanMap.init" in html
        assert not re.findall(r"https?://", html), "no CDN, no external tiles by default"
        assets = re.findall(r'(?:src|href)="(/static/[^"]+)"', html)
        assert any(a.endswith("leaflet.js") for a in assets)
        assert any(a.endswith("leaflet.markercluster.js") for a in assets)
        for asset in assets:
            assert finders.find(asset.removeprefix("/static/")), asset
        assert client.get("/static/govmap/vendor/leaflet/leaflet.js").status_code == 200
        # folium's defaults are untouched for the rest of the process (no add_js_link).
        import folium

        assert any("leaflet" in name for name, _url in folium.Map.default_js)

    def test_size_does_not_depend_on_hall_count(self, client, guizhou_regions, fresh_hall_index, hall_factory):
        empty = len(client.get("/map/").content)
        for i in range(30):
            hall_factory("520102", code=f"SIZE-{i}", lat=26.5 + i / 1000, lon=106.7)
        full = len(client.get("/map/").content)
        assert abs(full - empty) < 200  # only folium's random element ids differ
        assert full < 300 * 1024

    def test_tile_layer_only_when_configured(self, client, settings):
        assert "tileLayer" not in client.get("/map/").content.decode()
        settings.MAP_TILE_URL = "http://tiles.example.invalid/{z}/{x}/{y}.png"
        assert "tiles.example.invalid" in client.get("/map/").content.decode()


@pytest.mark.django_db
class TestHallsGeojson:
    def test_features_with_live_figures(self, client, guizhou_regions, fresh_hall_index, hall_factory):
        from halls import actions

        a = hall_factory("520102", code="G-A", lat=26.58, lon=106.71)
        hall_factory("520102", code="G-K", lat=26.6, lon=106.72, type="kiosk", windows="kiosk")
        actions.issue_ticket(hall=a, category="A", actor=None)
        response = client.get("/api/v1/map/halls.geojson")
        assert response.status_code == 200
        assert response["Content-Type"].startswith("application/geo+json")
        fc = response.json()
        assert fc["type"] == "FeatureCollection"
        by_code = {f["properties"]["code"]: f for f in fc["features"]}
        assert set(by_code) == {"G-A", "G-K"}
        props = by_code["G-A"]["properties"]
        assert props["queue_waiting"] == 1
        assert set(props) >= {
            "code",
            "name",
            "type",
            "queue_waiting",
            "appointments_today",
            "rating_avg",
            "rating_count",
            "bad_count",
        }
        assert by_code["G-A"]["geometry"] == {"type": "Point", "coordinates": [106.71, 26.58]}

    def test_filters(self, client, guizhou_regions, fresh_hall_index, hall_factory):
        hall_factory("520102", code="F-IN", lat=26.58, lon=106.71)
        hall_factory("520102", code="F-OUT", lat=27.5, lon=107.5, type="station", windows="station")
        codes = lambda r: [f["properties"]["code"] for f in r.json()["features"]]  # noqa: E731
        assert codes(client.get("/api/v1/map/halls.geojson", {"bbox": "106.5,26.5,106.9,26.7"})) == ["F-IN"]
        assert codes(client.get("/api/v1/map/halls.geojson", {"type": "station"})) == ["F-OUT"]

    @pytest.mark.parametrize(
        ("params", "field"),
        [
            ({"bbox": "1,2,3"}, "bbox"),
            ({"bbox": "a,b,c,d"}, "bbox"),
            ({"bbox": "107,26,106,27"}, "bbox"),
            ({"type": "castle"}, "type"),
            ({"item": "NO-SUCH-ITEM"}, "item"),
        ],
    )
    def test_bad_input(self, client, params, field):
        response = client.get("/api/v1/map/halls.geojson", params)
        assert response.status_code == 400
        assert field in response.json()["errors"]


@pytest.mark.django_db
class TestPopupEscaping:
    def test_script_in_hall_texts_is_escaped(self, client, guizhou_regions, fresh_hall_index, hall_factory):
        hall = hall_factory("520102", code="XSS-1", name=XSS, address=XSS, opening_hours=XSS, lat=26.58, lon=106.71)
        response = client.get(f"/api/v1/map/halls/{hall.code}/popup/")
        assert response.status_code == 200
        html = response.json()["html"]
        assert "<script" not in html
        assert "<img" not in html
        assert "&lt;script&gt;alert(&quot;x&quot;)&lt;/script&gt;" in html
        # The GeoJSON carries the name as data (JSON-escaped), never as markup.
        fc = client.get("/api/v1/map/halls.geojson").json()
        assert fc["features"][0]["properties"]["name"] == XSS

    def test_script_in_item_names_is_escaped(self, client, guizhou_regions, fresh_hall_index, hall_factory):
        from services.models import DepartmentKind, Item

        kind = DepartmentKind.objects.create(code="xss", name="部门")
        item = Item.objects.create(
            code="XSS-ITEM",
            name=XSS,
            item_type="licensing",
            department_kind=kind,
            handling_level="county",
            legal_days=20,
            committed_days=10,
            result_type="licence",
        )
        hall = hall_factory("520102", code="XSS-2", items=[item])
        html = client.get(f"/api/v1/map/halls/{hall.code}/popup/").json()["html"]
        assert "<script" not in html and "&lt;script&gt;" in html

    def test_popup_has_live_numbers(self, client, guizhou_regions, fresh_hall_index, hall_factory):
        from halls import actions

        hall = hall_factory("520102", code="LIVE-POP")
        for _ in range(3):
            actions.issue_ticket(hall=hall, category="A", actor=None)
        data = client.get(f"/api/v1/map/halls/{hall.code}/popup/").json()
        assert data["queue_waiting"] == 3
        assert "3 人" in data["html"]

    def test_unknown_or_inactive_hall_404(self, client, guizhou_regions, fresh_hall_index, hall_factory):
        assert client.get("/api/v1/map/halls/none/popup/").status_code == 404
        hall = hall_factory("520102", code="GONE", is_active=False)
        assert client.get(f"/api/v1/map/halls/{hall.code}/popup/").status_code == 404


@pytest.mark.django_db
def test_counties_geojson_has_boundaries_and_coverage(client, guizhou_regions):
    fc = client.get("/api/v1/map/counties.geojson").json()
    assert len(fc["features"]) == 88
    f = fc["features"][0]
    assert f["geometry"]["type"] in ("Polygon", "MultiPolygon")
    assert f["properties"]["coverage"] is None

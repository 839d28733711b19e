"""The map's offline reference layer (place names) and the popup's actions, through the HTTP API."""

from __future__ import annotations

import pytest

pytestmark = pytest.mark.django_db


def test_labels_name_cities_counties_and_townships(client, guizhou_regions, fresh_hall_index, hall_factory):
    hall_factory("520102", type="station", level="township", name="青坪镇便民服务中心", windows="station")
    hall_factory("520102", type="station", level="village", name="青坪镇红岩村便民服务站", windows="station")
    hall_factory(
        "520102", type="station", level="township", name="旧镇便民服务中心", windows="station", is_active=False
    )
    resp = client.get("/api/v1/map/labels.geojson")
    assert resp.status_code == 200 and resp["Content-Type"].startswith("application/geo+json")
    features = resp.json()["features"]
    by_kind: dict[str, list[dict]] = {}
    for f in features:
        by_kind.setdefault(f["properties"]["kind"], []).append(f)
    assert len(by_kind["city"]) == 9 and len(by_kind["county"]) == 88
    # Townships come from township centres only (not villages, not closed ones), suffix dropped.
    assert [f["properties"]["name"] for f in by_kind["township"]] == ["青坪镇"]
    nanming = next(f for f in by_kind["county"] if f["properties"]["name"] == "南明区")
    lon, lat = nanming["geometry"]["coordinates"]
    region = guizhou_regions["520102"]
    assert (round(region.lat, 5), round(region.lon, 5)) == (lat, lon)  # the point inside the county
    zooms = {k: v[0]["properties"]["min_zoom"] for k, v in by_kind.items()}
    assert zooms["city"] < zooms["county"] < zooms["township"]


def test_labels_follow_hall_changes(client, guizhou_regions, fresh_hall_index, hall_factory):
    from halls.live_selectors import bump_hall_index_version

    assert not [
        f for f in client.get("/api/v1/map/labels.geojson").json()["features"] if f["properties"]["kind"] == "township"
    ]
    hall_factory("520102", type="station", level="township", name="新场镇便民服务中心", windows="station")
    bump_hall_index_version()  # the test transaction never commits, so signal-driven bumps wait
    names = [f["properties"]["name"] for f in client.get("/api/v1/map/labels.geojson").json()["features"]]
    assert "新场镇" in names


def test_popup_offers_ticket_booking_and_route(client, guizhou_regions, fresh_hall_index, hall_factory):
    hall = hall_factory("520102", code="520102-POP", name="南明区政务服务中心", windows="county")
    html = client.get("/api/v1/map/halls/520102-POP/popup/").json()["html"]
    for act in ('data-act="ticket"', 'data-act="book"', 'data-act="route"'):
        assert act in html
    assert f'data-lat="{hall.lat:.6f}"' in html and 'data-today="' in html
    assert '<option value="A">' in html or '<option value="B">' in html


def test_a_kiosk_popup_offers_only_the_route(client, guizhou_regions, fresh_hall_index, hall_factory):
    hall_factory("520102", code="520102-KSK", type="kiosk", windows="kiosk")
    html = client.get("/api/v1/map/halls/520102-KSK/popup/").json()["html"]
    assert 'data-act="route"' in html and 'data-act="ticket"' not in html and 'data-act="book"' not in html


def test_map_page_has_no_remote_asset_and_a_csrf_token(client, guizhou_regions):
    html = client.get("/map/").content.decode()
    assert 'id="tb-csrf"' in html and "csrfmiddlewaretoken" in html
    assert "/api/v1/map/labels.geojson" in html
    for remote in ("https://", "http://cdn", "//unpkg", "//cdn."):
        assert f'src="{remote}' not in html and f'href="{remote}' not in html

"""GET /api/v1/regions/ ... as in API.md: shapes, filters, 400/404, and the OpenAPI schema."""

from __future__ import annotations

import pytest
import shapely
from shapely.geometry import shape

from govmap.models import Region

URL = "/api/v1/regions/"


def test_list_counties_of_guiyang(api_client, guizhou_regions: dict[str, Region]) -> None:
    response = api_client.get(URL, {"level": "county", "parent": "520100"})
    assert response.status_code == 200
    body = response.json()
    assert [r["name"] for r in body] == [
        "南明区",
        "云岩区",
        "花溪区",
        "乌当区",
        "白云区",
        "观山湖区",
        "开阳县",
        "息烽县",
        "修文县",
        "清镇市",
    ]
    assert body[0] == {"adcode": "520102", "name": "南明区", "level": "county", "parent": "520100"}


def test_list_by_level(api_client, guizhou_regions: dict[str, Region]) -> None:
    provinces = api_client.get(URL, {"level": "province"}).json()
    assert provinces == [{"adcode": "520000", "name": "贵州省", "level": "province", "parent": None}]
    cities = api_client.get(URL, {"level": "city"}).json()
    assert len(cities) == 9 and {c["parent"] for c in cities} == {"520000"}
    assert len(api_client.get(URL, {"level": "county"}).json()) == 88
    assert len(api_client.get(URL).json()) == 98
    assert api_client.get(URL, {"parent": "520000"}).json() == cities
    assert api_client.get(URL, {"parent": "990000"}).json() == []


@pytest.mark.parametrize(
    ("params", "field"),
    [
        ({"level": "town"}, "level"),
        ({"level": "County"}, "level"),
        ({"parent": "5201"}, "parent"),
        ({"parent": "abcdef"}, "parent"),
    ],
)
def test_list_bad_filters_are_400(
    api_client, guizhou_regions: dict[str, Region], params: dict[str, str], field: str
) -> None:
    response = api_client.get(URL, params)
    assert response.status_code == 400
    body = response.json()
    assert field in body["errors"] and body["detail"]


def test_detail(api_client, guizhou_regions: dict[str, Region]) -> None:
    response = api_client.get(f"{URL}520302/")
    assert response.status_code == 200
    body = response.json()
    assert {k: body[k] for k in ("adcode", "name", "level", "parent")} == {
        "adcode": "520302",
        "name": "红花岗区",
        "level": "county",
        "parent": "520300",
    }
    assert "boundary" not in body
    assert body["area_km2"] > 100 and 27 < body["lat"] < 28


def test_detail_with_geometry(api_client, guizhou_regions: dict[str, Region]) -> None:
    body = api_client.get(f"{URL}520102/", {"geometry": "1"}).json()
    geom = shape(body["boundary"])
    assert geom.geom_type in ("Polygon", "MultiPolygon") and geom.is_valid
    assert geom.contains(shapely.Point(106.713, 26.578))  # 筑城广场
    assert "boundary" not in api_client.get(f"{URL}520102/", {"geometry": "0"}).json()
    assert api_client.get(f"{URL}520102/", {"geometry": "maybe"}).status_code == 400


def test_detail_unknown_is_404(api_client, guizhou_regions: dict[str, Region]) -> None:
    assert api_client.get(f"{URL}999999/").status_code == 404
    assert api_client.get(f"{URL}52010/").status_code == 404


def test_lookup(api_client, guizhou_regions: dict[str, Region]) -> None:
    response = api_client.get(f"{URL}lookup/", {"lat": "27.6937", "lon": "106.9217"})
    assert response.status_code == 200
    body = response.json()
    assert body["county"] == {"adcode": "520302", "name": "红花岗区", "level": "county", "parent": "520300"}
    assert body["city"] == {"adcode": "520300", "name": "遵义市", "level": "city", "parent": "520000"}
    assert body["province"] == "520000"


def test_lookup_outside_is_404_with_detail(api_client, guizhou_regions: dict[str, Region]) -> None:
    response = api_client.get(f"{URL}lookup/", {"lat": "39.9", "lon": "116.4"})
    assert response.status_code == 404
    assert "区县" in response.json()["detail"]


@pytest.mark.parametrize(
    ("params", "field"),
    [
        ({"lat": "26.5"}, "lon"),
        ({"lon": "106.7"}, "lat"),
        ({"lat": "abc", "lon": "106.7"}, "lat"),
        ({"lat": "91", "lon": "106.7"}, "lat"),
        ({"lat": "26.5", "lon": "-181"}, "lon"),
        ({"lat": "nan", "lon": "106.7"}, "lat"),
        ({"lat": "26.5", "lon": "inf"}, "lon"),
    ],
)
def test_lookup_bad_coordinates_are_400(
    api_client, guizhou_regions: dict[str, Region], params: dict[str, str], field: str
) -> None:
    response = api_client.get(f"{URL}lookup/", params)
    assert response.status_code == 400
    assert field in response.json()["errors"]


def test_regions_are_public_and_read_only(api_client, guizhou_regions: dict[str, Region]) -> None:
    assert api_client.get(URL).status_code == 200
    assert api_client.post(URL, {"adcode": "520199", "name": "x"}).status_code in (401, 403, 405)
    assert Region.objects.count() == 98


def test_schema_documents_the_regions_api(api_client, db: None) -> None:
    response = api_client.get("/api/schema/", HTTP_ACCEPT="application/vnd.oai.openapi+json")
    assert response.status_code == 200
    schema = response.json()
    paths = schema["paths"]
    listing = paths["/api/v1/regions/"]["get"]
    assert {p["name"] for p in listing["parameters"]} >= {"level", "parent"}
    level = next(p for p in listing["parameters"] if p["name"] == "level")
    assert set(level["schema"]["enum"]) == {"province", "city", "county"}
    assert "/api/v1/regions/{adcode}/" in paths
    assert {p["name"] for p in paths["/api/v1/regions/{adcode}/"]["get"]["parameters"]} >= {"adcode", "geometry"}
    lookup = paths["/api/v1/regions/lookup/"]["get"]
    assert {"200", "400", "404"} <= set(lookup["responses"])


def test_lookup_without_regions_is_404(api_client, db: None) -> None:
    assert api_client.get(f"{URL}lookup/", {"lat": "26.578", "lon": "106.713"}).status_code == 404
    assert api_client.get(URL).json() == []

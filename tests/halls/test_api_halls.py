"""GET /api/v1/halls/ and GET /api/v1/halls/<code>/ (API.md, "Catalog and places")."""

from __future__ import annotations

from typing import Any

import pytest
from django.urls import Resolver404, resolve

from halls.models import Hall, Window
from tests.fixtures.halls import make_hall

LIST = "/api/v1/halls/"
LIST_KEYS = {
    "code",
    "name",
    "type",
    "level",
    "region",
    "address",
    "lat",
    "lon",
    "opening_hours",
    "phone",
    "is_synthetic",
    "windows",
}
DETAIL_EXTRA = {
    "queue_categories",
    "queue_waiting",
    "appointments_today",
    "rating_avg",
    "rating_count",
    "bad_count",
    "is_active",
}


def test_list_shape_and_pagination(demo_halls: dict[str, Any], api_client, django_assert_max_num_queries) -> None:
    with django_assert_max_num_queries(4):  # count, page of halls, their windows: no N+1
        response = api_client.get(LIST)
    assert response.status_code == 200
    body = response.json()
    assert set(body) >= {"count", "next", "previous", "results"}
    assert body["count"] == Hall.objects.filter(is_active=True).count()
    assert len(body["results"]) == 50
    first = body["results"][0]
    assert set(first) == LIST_KEYS
    assert first["code"] == "520000-C01"
    assert first["name"] == "贵州省政务服务中心"
    assert first["type"] == "comprehensive"
    assert first["level"] == "province"
    assert first["region"] == "520115"
    assert isinstance(first["lat"], float) and isinstance(first["lon"], float)
    assert first["is_synthetic"] is False
    windows = first["windows"]
    assert [w["number"] for w in windows] == [str(n) for n in range(1, len(windows) + 1)]
    assert set(windows[0]) == {"id", "number", "kinds"}
    assert windows[0]["kinds"] == ["tongban_intake", "general_intake"]
    assert {k for w in windows for k in w["kinds"]} == {"tongban_intake", "general_intake", "issuing", "consultation"}


def test_page_size_and_next_page(demo_halls: dict[str, Any], api_client) -> None:
    body = api_client.get(LIST, {"page_size": 500}).json()
    assert len(body["results"]) == 500
    second = api_client.get(body["next"]).json()
    assert second["results"][0]["code"] > body["results"][-1]["code"]
    assert len(api_client.get(LIST, {"page_size": 10_000}).json()["results"]) == 500  # capped


def test_filters(demo_halls: dict[str, Any], api_client) -> None:
    body = api_client.get(LIST, {"region": "520300", "type": "comprehensive"}).json()
    assert body["count"] == 15  # 遵义市政务服务中心 + 14 counties
    assert all(r["region"].startswith("5203") and r["type"] == "comprehensive" for r in body["results"])

    county = api_client.get(LIST, {"region": "520302", "page_size": 500}).json()
    assert county["count"] == Hall.objects.filter(region_id="520302").count()
    assert {r["region"] for r in county["results"]} == {"520302"}

    kiosks = api_client.get(LIST, {"type": "kiosk"}).json()
    assert kiosks["count"] == 300

    province = api_client.get(LIST, {"region": "520000"}).json()
    assert province["count"] == Hall.objects.count()


def test_item_filter(demo_halls: dict[str, Any], api_client) -> None:
    from services.models import Item

    listed_by_stations = (
        Window.items.through.objects.filter(window__hall__type="station").values_list("item__code", flat=True).first()
    )
    body = api_client.get(LIST, {"item": listed_by_stations, "type": "station"}).json()
    assert body["count"] == 1500
    unlisted = Item.objects.exclude(windows__hall__type="station").filter(proxy=True).first()
    body = api_client.get(LIST, {"item": unlisted.code, "page_size": 500}).json()
    assert {r["type"] for r in body["results"]} <= {"comprehensive", "branch"}
    assert body["count"] >= 99


def test_inactive_halls_are_not_listed_but_can_be_looked_up(demo_halls: dict[str, Any], api_client) -> None:
    Hall.objects.filter(code="520302-C01").update(is_active=False)
    codes = [r["code"] for r in api_client.get(LIST, {"region": "520302", "page_size": 500}).json()["results"]]
    assert "520302-C01" not in codes
    detail = api_client.get(f"{LIST}520302-C01/").json()
    assert detail["is_active"] is False


@pytest.mark.parametrize(
    ("params", "field"),
    [
        ({"type": "office"}, "type"),
        ({"region": "5203"}, "region"),
        ({"region": "abcdef"}, "region"),
        ({"region": "110000"}, "region"),
        ({"item": "NO-SUCH-ITEM"}, "item"),
    ],
)
def test_bad_filters_are_400_with_a_clear_message(
    guizhou_regions: Any, catalog: Any, api_client, params: dict[str, str], field: str
) -> None:
    response = api_client.get(LIST, params)
    assert response.status_code == 400
    body = response.json()
    assert set(body) == {"detail", "errors"}
    assert list(body["errors"]) == [field]
    assert body["detail"] == body["errors"][field][0]
    assert next(iter(params.values())) in body["detail"]


def test_detail(demo_halls: dict[str, Any], api_client, django_assert_max_num_queries) -> None:
    # The hall, its windows, and the few grouped queries of halls.hall_stats (queue, appointments,
    # ratings): a constant, whatever the number of windows.
    with django_assert_max_num_queries(6):
        response = api_client.get(f"{LIST}520302-C01/")
    assert response.status_code == 200
    body = response.json()
    assert set(body) == LIST_KEYS | DETAIL_EXTRA
    assert body["code"] == "520302-C01"
    assert body["name"] == "红花岗区政务服务大厅"
    assert body["level"] == "county"
    assert body["queue_categories"] == [
        {"code": "A", "name": "综合业务"},
        {"code": "B", "name": "通办业务"},
        {"code": "C", "name": "出件领证"},
        {"code": "D", "name": "咨询"},
    ]
    assert body["queue_waiting"] == 0
    assert body["appointments_today"] == 0
    assert body["rating_avg"] is None
    assert body["rating_count"] == 0


def test_detail_of_a_kiosk_has_no_queue(demo_halls: dict[str, Any], api_client) -> None:
    body = api_client.get(f"{LIST}520102-K001/").json()
    assert body["type"] == "kiosk"
    assert body["opening_hours"] == "24小时"
    assert body["queue_categories"] == []


def test_detail_takes_ratings_from_the_registered_provider(guizhou_regions: Any, api_client) -> None:
    from halls.extensions import rating_providers

    hall = make_hall("520102", code="520102-R01")

    def provider(ids: list[int]) -> dict[int, tuple[float | None, int, int]]:
        return {hall.pk: (4.666, 3, 1)} if hall.pk in ids else {}

    with rating_providers.registered(provider):
        body = api_client.get(f"{LIST}520102-R01/").json()
    assert (body["rating_avg"], body["rating_count"], body["bad_count"]) == (4.67, 3, 1)


def test_unknown_code_is_404(guizhou_regions: Any, api_client) -> None:
    response = api_client.get(f"{LIST}520102-C99/")
    assert response.status_code == 404
    assert "detail" in response.json()


def test_detail_route_does_not_swallow_nearest() -> None:
    # /api/v1/halls/nearest/ belongs to the map; hall codes always contain a digit.
    try:
        match = resolve("/api/v1/halls/nearest/")
    except Resolver404:
        return
    assert match.url_name != "hall-detail"
    assert resolve("/api/v1/halls/520102-C01/").url_name == "hall-detail"


def test_writes_are_not_allowed(guizhou_regions: Any, api_client) -> None:
    make_hall("520102", code="520102-W01")
    assert api_client.post(LIST, {"code": "x"}, format="json").status_code in (401, 403, 405)
    assert api_client.delete(f"{LIST}520102-W01/").status_code in (401, 403, 405)
    assert Hall.objects.filter(code="520102-W01").exists()


def test_openapi_describes_the_hall_endpoints() -> None:
    from drf_spectacular.generators import SchemaGenerator

    from halls import registry_urls

    schema = SchemaGenerator(patterns=registry_urls.urlpatterns).get_schema(request=None, public=True)
    listing = schema["paths"]["/api/v1/halls/"]["get"]
    assert {p["name"] for p in listing["parameters"]} >= {"region", "type", "item", "page", "page_size"}
    detail = schema["paths"]["/api/v1/halls/{code}/"]["get"]
    ref = detail["responses"]["200"]["content"]["application/json"]["schema"]["$ref"].rsplit("/", 1)[-1]
    props = schema["components"]["schemas"][ref]["properties"]
    assert set(props) >= LIST_KEYS | DETAIL_EXTRA
    window_ref = props["windows"]["items"]["$ref"].rsplit("/", 1)[-1]
    kinds = schema["components"]["schemas"][window_ref]["properties"]["kinds"]
    assert kinds["type"] == "array"

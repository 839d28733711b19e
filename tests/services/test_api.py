"""GET /api/v1/items/ and /api/v1/departments/ as API.md describes them."""

from __future__ import annotations

import pytest

from services.models import Item

pytestmark = pytest.mark.django_db

ITEMS = "/api/v1/items/"
DEPARTMENTS = "/api/v1/departments/"


def test_item_list_shape(catalog, api_client):
    r = api_client.get(ITEMS)
    assert r.status_code == 200
    body = r.json()
    assert set(body) >= {"count", "next", "results"}
    assert body["count"] == Item.objects.filter(is_active=True).count()
    assert body["next"] is not None  # more than one page of 50
    first = body["results"][0]
    assert set(first) >= {
        "code",
        "name",
        "department_kind",
        "handling_level",
        "modes",
        "legal_days",
        "committed_days",
        "fee",
        "visits_required",
        "materials",
    }
    assert set(first["materials"][0]) >= {"code", "name", "required", "e_license_type"}
    assert all(m in ("online", "proxy", "joint") for m in first["modes"])


def test_q_finds_household_registration_items(catalog, api_client):
    r = api_client.get(ITEMS, {"q": "户籍"})
    assert r.status_code == 200
    names = [i["name"] for i in r.json()["results"]]
    assert "户籍证明开具（户籍类证明）" in names
    assert "户籍迁移（省内户口迁移）" in names
    assert "户籍登记（出生登记入户）" in names


def test_q_matches_code_and_keywords(catalog, api_client):
    code = Item.objects.get(name="内地居民结婚登记").code
    assert [i["code"] for i in api_client.get(ITEMS, {"q": code}).json()["results"]] == [code]
    # 营业执照 is how citizens say 企业设立登记.
    names = [i["name"] for i in api_client.get(ITEMS, {"q": "营业执照"}).json()["results"]]
    assert "企业设立登记（有限责任公司）" in names


@pytest.mark.parametrize(
    ("params", "check"),
    [
        ({"mode": "joint"}, lambda i: "joint" in i["modes"]),
        ({"mode": "online"}, lambda i: "online" in i["modes"]),
        ({"department": "housing_fund"}, lambda i: i["department_kind"] == "housing_fund"),
        ({"zone": "real_estate"}, lambda i: "real_estate" in i["zones"]),
        ({"q": "登记", "department": "natural_resources", "mode": "online"}, lambda i: "登记" in i["name"]),
    ],
)
def test_filters(catalog, api_client, params, check):
    r = api_client.get(ITEMS, {**params, "page_size": 200})
    assert r.status_code == 200
    results = r.json()["results"]
    assert results
    assert all(check(i) for i in results)


def test_filters_combine_to_exact_counts(catalog, api_client):
    r = api_client.get(ITEMS, {"department": "public_security", "mode": "joint"})
    expected = Item.objects.filter(department_kind_id="public_security", joint=True, is_active=True).count()
    assert r.json()["count"] == expected > 0


@pytest.mark.parametrize(
    ("params", "field"),
    [
        ({"mode": "fax"}, "mode"),
        ({"department": "no_such_kind"}, "department"),
        ({"zone": "no_such_zone"}, "zone"),
        ({"q": "x" * 101}, "q"),
    ],
)
def test_bad_filters_are_400(catalog, api_client, params, field):
    r = api_client.get(ITEMS, params)
    assert r.status_code == 400
    body = r.json()
    assert field in body["errors"] and body["detail"]


def test_inactive_items_are_hidden(catalog, api_client):
    item = Item.objects.get(name="居民身份证换领")
    Item.objects.filter(pk=item.pk).update(is_active=False)
    assert api_client.get(f"{ITEMS}{item.code}/").status_code == 404
    assert api_client.get(ITEMS, {"q": item.code}).json()["count"] == 0


def test_item_detail(catalog, api_client):
    item = Item.objects.get(name="企业开办“一件事”（设立登记、公章刻制、发票申领、社保登记）")
    r = api_client.get(f"{ITEMS}{item.code}/")
    assert r.status_code == 200
    body = r.json()
    assert body["code"] == item.code and body["handling_level"] == "county"
    assert body["modes"] == ["online", "proxy", "joint"]
    assert body["co_department_kinds"] == ["hrss", "public_security", "taxation"]
    assert [m["code"] for m in body["materials"]] == ["M01", "M02", "M03", "M04"]
    assert api_client.get(f"{ITEMS}520000-XK-99999-000/").status_code == 404


def test_item_list_has_no_n_plus_one(catalog, api_client, django_assert_max_num_queries):
    # count + page + materials + zones + co-kinds (+ filter validation): constant for any page size.
    with django_assert_max_num_queries(8):
        r = api_client.get(ITEMS, {"page_size": 200, "zone": "business"})
    assert r.status_code == 200
    with django_assert_max_num_queries(8):
        assert api_client.get(ITEMS).status_code == 200


def test_department_list(catalog, api_client):
    r = api_client.get(DEPARTMENTS, {"region": "520102", "kind": "public_security"})
    assert r.status_code == 200
    body = r.json()
    assert body["count"] == 1
    assert body["results"] == [
        {
            "code": "520102-public_security",
            "name": "贵阳市公安局南明分局",
            "kind": "public_security",
            "region": "520102",
        }
    ]
    by_region = api_client.get(DEPARTMENTS, {"region": "520000"}).json()
    assert by_region["count"] >= 18
    assert all(d["region"] == "520000" for d in by_region["results"])


@pytest.mark.parametrize(
    ("params", "field"),
    [({"region": "52"}, "region"), ({"region": "999999"}, "region"), ({"kind": "nope"}, "kind")],
)
def test_department_bad_filters_are_400(catalog, api_client, params, field):
    r = api_client.get(DEPARTMENTS, params)
    assert r.status_code == 400
    assert field in r.json()["errors"]


def test_schema_describes_the_catalog(db, api_client):
    r = api_client.get("/api/schema/", {"format": "json"})
    assert r.status_code == 200
    paths = r.json()["paths"]
    assert {"/api/v1/items/", "/api/v1/items/{code}/", "/api/v1/departments/"} <= set(paths)
    params = {p["name"] for p in paths["/api/v1/items/"]["get"]["parameters"]}
    assert {"q", "mode", "department", "zone", "page"} <= params


@pytest.mark.django_db
def test_search_ranks_name_matches_first(api_client, catalog):
    names = [r["name"] for r in api_client.get("/api/v1/items/", {"q": "户籍", "page_size": 50}).json()["results"]]
    in_name = [n for n in names if "户籍" in n]
    assert in_name and names[: len(in_name)] == in_name

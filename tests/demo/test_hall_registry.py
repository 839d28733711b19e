"""The Guizhou demo hall registry (demo.hall_registry.load_halls): counts, geometry, codes, idempotence."""

from __future__ import annotations

import re
from typing import Any

import pytest

from demo.hall_registry import TOWNSHIP_STATIONS, load_halls, plan_halls
from halls.models import Hall, Window

CITY_NAMES = [
    "贵阳市",
    "六盘水市",
    "遵义市",
    "安顺市",
    "毕节市",
    "铜仁市",
    "黔西南州",
    "黔东南州",
    "黔南州",
    "贵安新区",
]


def snapshot() -> dict[str, Any]:
    """Everything observable about the registry, keyed by codes (ids differ between databases)."""
    halls = {
        h["code"]: h
        for h in Hall.objects.values(
            "code",
            "name",
            "type",
            "level",
            "region_id",
            "address",
            "lat",
            "lon",
            "opening_hours",
            "phone",
            "is_synthetic",
        )
    }
    windows = sorted(
        Window.objects.values_list(
            "hall__code", "number", "tongban_intake", "general_intake", "issuing", "consultation"
        )
    )
    links = sorted(Window.items.through.objects.values_list("window__hall__code", "window__number", "item__code"))
    return {"halls": halls, "windows": windows, "links": links}


# --------------------------------------------------------------------------------------------
# Counts and shapes
# --------------------------------------------------------------------------------------------


def test_counts_by_type_and_level(demo_halls: dict[str, Any]) -> None:
    comprehensive = Hall.objects.filter(type="comprehensive")
    assert comprehensive.filter(level="province").count() == 1
    assert comprehensive.get(level="province").name == "贵州省政务服务中心"
    city_halls = list(comprehensive.filter(level="city").values_list("name", flat=True))
    assert len(city_halls) == 10
    assert sorted(city_halls) == sorted(f"{n}政务服务中心" for n in CITY_NAMES)
    assert comprehensive.filter(level="county").count() == 88
    assert Hall.objects.filter(type="station", level="township").count() == TOWNSHIP_STATIONS == 1500
    assert Hall.objects.filter(type="kiosk").count() == 300
    branches = Hall.objects.filter(type="branch").count()
    assert 36 <= branches <= 200  # every template in the 9 city seats, some in counties
    assert not Hall.objects.filter(level="village").exists()  # only size="large" adds villages
    assert demo_halls["total"] == Hall.objects.count()
    assert demo_halls["halls"]["created"] == Hall.objects.count()
    assert demo_halls["by_type"] == {
        t: Hall.objects.filter(type=t).count() for t in ("comprehensive", "branch", "station", "kiosk")
    }


def test_one_county_hall_per_county_with_the_required_windows(demo_halls: dict[str, Any]) -> None:
    from govmap.models import Region

    counties = set(Region.objects.filter(level="county").values_list("adcode", flat=True))
    county_halls = Hall.objects.filter(type="comprehensive", level="county").prefetch_related("windows")
    assert {h.region_id for h in county_halls} == counties
    for hall in county_halls:
        assert hall.code == f"{hall.region_id}-C01"
        assert re.fullmatch(r".+(县|市|区|特区)政务服务(中心|大厅)", hall.name), hall.name
        windows = list(hall.windows.all())
        assert any(w.tongban_intake and w.general_intake for w in windows), hall.code
        assert any(w.issuing for w in windows), hall.code
        assert any(w.consultation for w in windows), hall.code
        assert sorted(int(w.number) for w in windows) == list(range(1, len(windows) + 1))


def test_every_hall_has_windows_numbered_from_one(demo_halls: dict[str, Any]) -> None:
    numbers: dict[int, list[int]] = {}
    for hall_id, number in Window.objects.values_list("hall_id", "number"):
        numbers.setdefault(hall_id, []).append(int(number))
    assert set(numbers) == set(Hall.objects.values_list("id", flat=True))
    for got in numbers.values():
        assert sorted(got) == list(range(1, len(got) + 1))


def test_real_and_synthetic_labels(demo_halls: dict[str, Any]) -> None:
    assert not Hall.objects.filter(type="comprehensive", is_synthetic=True).exists()
    assert not Hall.objects.filter(type__in=["branch", "station", "kiosk"], is_synthetic=False).exists()
    for hall in Hall.objects.filter(type="station"):
        assert re.fullmatch(r".+(镇|乡|街道)便民服务中心", hall.name), hall.name
    assert all(
        n.endswith(("24小时自助服务站",)) or "24小时自助服务站" in n
        for n in Hall.objects.filter(type="kiosk").values_list("name", flat=True)
    )
    assert not Hall.objects.filter(opening_hours="").exists()
    assert not Hall.objects.filter(phone="").exists()
    assert not Hall.objects.filter(address="").exists()


def test_hall_codes_follow_the_scheme(demo_halls: dict[str, Any]) -> None:
    patterns = {
        "comprehensive": r"52\d{4}-C0[12]",
        "branch": r"52\d{4}-B0[1-4]",
        "station": r"52\d{4}-S\d{4}",
        "kiosk": r"52\d{4}-K\d{3}",
    }
    for code, type_, region_id in Hall.objects.values_list("code", "type", "region_id"):
        assert re.fullmatch(patterns[type_], code), code
        if type_ in ("station", "kiosk"):
            assert code.startswith(region_id)
    # Township codes per county run 0001..n without gaps.
    by_county: dict[str, list[int]] = {}
    for code in Hall.objects.filter(type="station").values_list("code", flat=True):
        by_county.setdefault(code[:6], []).append(int(code[-4:]))
    assert all(sorted(v) == list(range(1, len(v) + 1)) for v in by_county.values())
    assert len(by_county) == 88


def test_every_point_lies_inside_its_stated_county(demo_halls: dict[str, Any]) -> None:
    from govmap.geo import counties_at

    rows = list(Hall.objects.values_list("code", "region_id", "lat", "lon"))
    found = counties_at([r[2] for r in rows], [r[3] for r in rows])
    outside = [(code, region, got) for (code, region, _la, _lo), got in zip(rows, found, strict=True) if got != region]
    assert outside == []


def test_real_centres_stand_where_stated(demo_halls: dict[str, Any]) -> None:
    from govmap.geo import county_at

    expected = {
        "520000-C01": "520115",  # 观山湖区
        "520100-C01": "520115",
        "520200-C01": "520201",  # 钟山区
        "520300-C01": "520303",  # 汇川区
        "520400-C01": "520402",  # 西秀区
        "520500-C01": "520502",  # 七星关区
        "520600-C01": "520602",  # 碧江区
        "522300-C01": "522301",  # 兴义市
        "522600-C01": "522601",  # 凯里市
        "522700-C01": "522701",  # 都匀市
    }
    for code, county in expected.items():
        hall = Hall.objects.get(code=code)
        assert hall.region_id == county
        assert county_at(hall.lat, hall.lon) == county
    # None of the known locations needed moving.
    assert not set(expected) & set(demo_halls["moved_inside_county"])


def test_township_stations_scale_with_county_size(demo_halls: dict[str, Any]) -> None:
    from django.db.models import Count

    from govmap.models import Region

    per_county = dict(
        Hall.objects.filter(type="station").values("region_id").annotate(n=Count("id")).values_list("region_id", "n")
    )
    assert min(per_county.values()) >= 6
    areas = dict(Region.objects.filter(level="county").values_list("adcode", "area_km2"))
    largest = max(areas, key=lambda a: areas[a])
    smallest = min(areas, key=lambda a: areas[a])
    assert per_county[largest] > per_county[smallest]


# --------------------------------------------------------------------------------------------
# Window items
# --------------------------------------------------------------------------------------------


def test_window_items_by_kind_of_hall(demo_halls: dict[str, Any]) -> None:
    from services.models import Item

    through = Window.items.through
    # Comprehensive halls list no items: their windows take everything their kinds allow.
    assert not through.objects.filter(window__hall__type="comprehensive").exists()
    # Township centres list a small set of high-frequency items on their intake window.
    station = Hall.objects.filter(type="station").first()
    intake = station.windows.get(number="1")
    assert intake.tongban_intake and intake.general_intake
    assert 1 <= intake.items.count() <= 10
    assert not station.windows.get(number="2").items.exists()
    # Kiosks list online items only.
    kiosk_items = Item.objects.filter(windows__hall__type="kiosk").distinct()
    assert kiosk_items.exists()
    assert not kiosk_items.filter(online=False).exists()
    # Branch halls list items of their department (出入境 → public security items).
    b01 = Hall.objects.filter(code__endswith="-B01").first()
    assert b01 is not None
    names = list(Item.objects.filter(windows__hall=b01).distinct().values_list("name", flat=True))
    assert names and all(any(k in n for k in ("出入境", "护照", "港澳", "台湾", "签证", "通行证")) for n in names)
    # The row count stays ~10 per point.
    assert through.objects.count() < 15 * Hall.objects.count()


def test_kiosks_cannot_receive_proxy_cases_or_print(demo_halls: dict[str, Any]) -> None:
    assert not Window.objects.filter(hall__type="kiosk", tongban_intake=True).exists()
    assert not Window.objects.filter(hall__type="kiosk", issuing=True).exists()


# --------------------------------------------------------------------------------------------
# Idempotence and reproducibility
# --------------------------------------------------------------------------------------------


def test_second_run_creates_and_changes_nothing(demo_halls: dict[str, Any], django_assert_max_num_queries) -> None:
    before = snapshot()
    with django_assert_max_num_queries(40):  # constant per batch: no per-row queries
        again = load_halls(size="default")
    assert again["halls"] == {"created": 0, "updated": 0, "unchanged": before["halls"].__len__()}
    assert again["windows"]["created"] == again["windows"]["updated"] == 0
    assert again["window_items"]["added"] == again["window_items"]["removed"] == 0
    assert snapshot() == before


def test_rerun_repairs_edited_rows_but_keeps_operator_choices(demo_halls: dict[str, Any]) -> None:
    before = snapshot()
    hall = Hall.objects.get(code="520102-C01")
    Hall.objects.filter(pk=hall.pk).update(name="改过的名字", lat=0.0, is_active=False)
    Window.objects.filter(hall=hall, number="1").update(tongban_intake=False)
    station_window = Window.objects.get(hall__code="520102-S0001", number="1")
    station_window.items.clear()
    extra = Window.objects.create(hall=hall, number="99", consultation=True)  # added by an operator

    result = load_halls(size="default")

    assert result["halls"]["updated"] == 1
    assert result["windows"]["updated"] == 1
    assert result["window_items"]["added"] > 0
    after = snapshot()
    after["windows"].remove(("520102-C01", "99", False, False, False, True))
    assert after == before
    hall.refresh_from_db()
    assert hall.is_active is False  # deactivation by an operator is kept
    assert Window.objects.filter(pk=extra.pk).exists()  # windows are never deleted


def test_reproducible_on_a_fresh_database(demo_halls: dict[str, Any]) -> None:
    from django.db import connection

    first = snapshot()
    # Empty the registry tables directly: nothing refers to the halls in this test, and the ORM's
    # cascade would visit every app that points at halls.
    with connection.cursor() as cursor:
        for model in (Window.items.through, Window, Hall):
            cursor.execute(f"DELETE FROM {connection.ops.quote_name(model._meta.db_table)}")
    assert not Window.objects.exists()
    load_halls(size="default")
    assert snapshot() == first


@pytest.mark.django_db
def test_other_seed_changes_synthetic_points_not_real_ones(catalog: Any) -> None:
    a = {h.code: h for h in plan_halls(seed=52).halls}
    b = {h.code: h for h in plan_halls(seed=7).halls}
    real = [c for c, h in a.items() if not h.is_synthetic and h.level in ("province", "city")]
    assert all((a[c].lat, a[c].lon) == (b[c].lat, b[c].lon) for c in real)
    stations = [c for c in a if "-S" in c and c in b]
    assert stations
    assert sum((a[c].lat, a[c].lon) != (b[c].lat, b[c].lon) for c in stations) > 0.99 * len(stations)
    # Same seed, same plan.
    again = {h.code: (h.name, h.lat, h.lon) for h in plan_halls(seed=52).halls}
    assert again == {c: (h.name, h.lat, h.lon) for c, h in a.items()}


# --------------------------------------------------------------------------------------------
# Refusals
# --------------------------------------------------------------------------------------------


@pytest.mark.django_db
def test_unknown_size_is_refused_and_writes_nothing() -> None:
    with pytest.raises(ValueError, match="未知的规模"):
        load_halls(size="huge")
    assert not Hall.objects.exists()


@pytest.mark.django_db
def test_without_regions_the_loader_says_what_to_load_first() -> None:
    with pytest.raises(ValueError, match="load_shipped_regions"):
        load_halls()
    assert not Hall.objects.exists()


# --------------------------------------------------------------------------------------------
# size="large"
# --------------------------------------------------------------------------------------------


@pytest.mark.slow
def test_large_adds_village_stations_to_about_20000_points(demo_halls: dict[str, Any]) -> None:
    from govmap.geo import counties_at

    township_before = snapshot()["halls"]
    result = load_halls(size="large")
    assert result["halls"]["created"] == 18_000
    assert Hall.objects.filter(level="village", type="station").count() == 18_000
    assert 19_500 <= Hall.objects.count() <= 20_500
    # Villages are added without moving any existing point.
    after = snapshot()["halls"]
    assert {c: after[c] for c in township_before} == township_before
    rows = list(Hall.objects.filter(level="village").values_list("region_id", "lat", "lon"))
    found = counties_at([r[1] for r in rows], [r[2] for r in rows])
    assert [r[0] for r in rows] == found
    village = Hall.objects.filter(level="village").first()
    assert re.fullmatch(r"52\d{4}-V\d{5}", village.code)
    assert village.name.endswith("便民服务站")
    assert 1 <= Window.items.through.objects.filter(window__hall=village).count() <= 5

"""Selectors of the hall registry: halls_for, issuing halls, 通办 intake windows."""

from __future__ import annotations

from typing import Any

import pytest
from django.core.exceptions import ValidationError

from halls import selectors
from halls.models import Hall, Window
from tests.fixtures.halls import make_hall


@pytest.fixture
def items(catalog: Any) -> dict[str, Any]:
    """Two proxy items from the shipped catalog and one local-only item made here."""
    from services.models import DepartmentKind, Item

    proxy = list(Item.objects.filter(proxy=True).order_by("code")[:2])
    local = Item.objects.create(
        code="520000-TEST-LOCAL",
        name="仅属地办理的测试事项",
        item_type="licensing",
        department_kind=DepartmentKind.objects.order_by("code").first(),
        handling_level="county",
        online=False,
        proxy=False,
        legal_days=20,
        committed_days=10,
        result_type="certificate",
    )
    return {"proxy": proxy[0], "proxy2": proxy[1], "local": local}


@pytest.fixture
def halls(guizhou_regions: Any, items: dict[str, Any]) -> dict[str, Hall]:
    return {
        # 南明区 (贵阳): a county hall, empty item lists → all its kinds allow.
        "nanming": make_hall("520102", code="520102-X01", windows="county"),
        # 红花岗区 (遵义): a 通办-only window (no general intake) with an empty list.
        "honghuagang": make_hall("520302", code="520302-X01", windows=["tongban_intake", "issuing"]),
        # 南明区: a station listing one proxy item.
        "station": make_hall("520102", code="520102-X02", type="station", windows="station", items=[items["proxy"]]),
        # 南明区: consultation lists the item, but consultation is not intake.
        "advice": make_hall("520102", code="520102-X03", type="branch", windows=[("consultation",)]),
        # 西秀区 (安顺): inactive.
        "closed": make_hall("520402", code="520402-X01", windows="county", is_active=False),
    }


def codes(qs) -> set[str]:
    return set(qs.values_list("code", flat=True))


def test_region_of_any_level(halls: dict[str, Hall]) -> None:
    assert codes(selectors.halls_for(region="520000")) == {"520102-X01", "520302-X01", "520102-X02", "520102-X03"}
    assert codes(selectors.halls_for(region="520100")) == {"520102-X01", "520102-X02", "520102-X03"}
    assert codes(selectors.halls_for(region="520300")) == {"520302-X01"}
    assert codes(selectors.halls_for(region="520102")) == {"520102-X01", "520102-X02", "520102-X03"}
    assert codes(selectors.halls_for(region="520103")) == set()  # 云岩区: none here
    assert "520402-X01" in codes(selectors.halls_for(region="520400", active_only=False))


def test_region_object_and_type(halls: dict[str, Hall], guizhou_regions: dict[str, Any]) -> None:
    assert codes(selectors.halls_for(region=guizhou_regions["520100"], type="station")) == {"520102-X02"}
    assert codes(selectors.halls_for(type="comprehensive")) == {"520102-X01", "520302-X01"}


def test_item_filter_semantics(halls: dict[str, Hall], items: dict[str, Any]) -> None:
    # A proxy item: the county hall (general intake, empty list), the 通办-only hall (empty list,
    # proxy allowed), the station that lists it. Not the consultation-only branch.
    assert codes(selectors.halls_for(item=items["proxy"])) == {"520102-X01", "520302-X01", "520102-X02"}
    # By code as well.
    assert codes(selectors.halls_for(item=items["proxy"].code)) == {"520102-X01", "520302-X01", "520102-X02"}
    # Another proxy item the station does not list.
    assert codes(selectors.halls_for(item=items["proxy2"])) == {"520102-X01", "520302-X01"}
    # A local-only item: a 通办-only window does not take it; general intake does.
    assert codes(selectors.halls_for(item=items["local"])) == {"520102-X01"}


def test_listed_item_on_a_non_intake_window_does_not_count(halls: dict[str, Hall], items: dict[str, Any]) -> None:
    window = halls["advice"].windows.get()
    window.items.set([items["proxy2"]])
    assert "520102-X03" not in codes(selectors.halls_for(item=items["proxy2"]))


def test_window_takes_item_matches_the_query(halls: dict[str, Hall], items: dict[str, Any]) -> None:
    for window in Window.objects.all():
        for item in items.values():
            in_query = Window.objects.filter(pk=window.pk).filter(selectors.window_takes_item_q(item)).exists()
            assert selectors.window_takes_item(window, item) == in_query, (window, item)


def test_issuing_halls(halls: dict[str, Hall], items: dict[str, Any]) -> None:
    assert codes(selectors.halls_with_issuing_window()) == {"520102-X01", "520302-X01", "520102-X02"}
    assert codes(selectors.halls_with_issuing_window(region="520300")) == {"520302-X01"}
    assert codes(selectors.halls_with_issuing_window(item=items["proxy2"])) == {"520102-X01", "520302-X01"}
    first = selectors.first_issuing_window(halls["nanming"])
    assert first is not None and first.issuing and first.number == "3"
    assert selectors.first_issuing_window(halls["advice"]) is None


def test_tongban_intake_windows_and_proxy_reception(halls: dict[str, Hall], items: dict[str, Any]) -> None:
    nanming = halls["nanming"]
    assert [w.number for w in selectors.tongban_intake_windows(nanming)] == ["1"]
    assert [w.number for w in selectors.tongban_intake_windows(nanming, items["proxy"])] == ["1"]
    # An item not open to proxy handling can never be received as a proxy case.
    assert not selectors.tongban_intake_windows(nanming, items["local"]).exists()
    assert selectors.can_receive_proxy(nanming, items["proxy"])
    assert not selectors.can_receive_proxy(nanming, items["local"])
    # The station lists one item on its 通办 window: only that one.
    assert selectors.can_receive_proxy(halls["station"], items["proxy"])
    assert not selectors.can_receive_proxy(halls["station"], items["proxy2"])
    # No 通办 window, or a closed hall: no.
    assert not selectors.can_receive_proxy(halls["advice"], items["proxy"])
    assert not selectors.can_receive_proxy(halls["closed"], items["proxy"])


def test_window_order_is_numeric(guizhou_regions: Any) -> None:
    hall = make_hall("520102", windows=[("issuing",)] * 11)
    assert [w.number for w in selectors.issuing_windows(hall)] == [str(n) for n in range(1, 12)]


@pytest.mark.parametrize(
    ("kwargs", "field", "message"),
    [
        ({"region": "5201"}, "region", "6位数字"),
        ({"region": "52010x"}, "region", "6位数字"),
        ({"region": "110000"}, "region", "未知的行政区划"),
        ({"type": "office"}, "type", "未知的场所类型"),
        ({"item": "NO-SUCH-ITEM"}, "item", "未知的事项编码"),
    ],
)
def test_bad_filters_are_refused_with_a_field_error(
    halls: dict[str, Hall], kwargs: dict[str, str], field: str, message: str
) -> None:
    with pytest.raises(ValidationError) as exc:
        list(selectors.halls_for(**kwargs))
    assert field in exc.value.message_dict
    assert message in exc.value.message_dict[field][0]


def test_tongban_windows_for_unknown_item_is_refused(halls: dict[str, Hall]) -> None:
    with pytest.raises(ValidationError):
        selectors.tongban_intake_windows(halls["nanming"], "NO-SUCH-ITEM")


def test_hall_by_code(halls: dict[str, Hall]) -> None:
    hall = selectors.hall_by_code("520102-X01")
    assert [w.number for w in hall.windows.all()] == ["1", "2", "3", "4"]
    assert selectors.hall_by_code("520402-X01").is_active is False
    with pytest.raises(Hall.DoesNotExist):
        selectors.hall_by_code("520402-X01", active_only=True)


# --------------------------------------------------------------------------------------------
# On the demo registry
# --------------------------------------------------------------------------------------------


def test_demo_every_county_hall_can_receive_every_proxy_item(demo_halls: dict[str, Any]) -> None:
    from services.models import Item

    item = Item.objects.filter(proxy=True).order_by("code").last()
    receiving = selectors.halls_for(item=item, type="comprehensive")
    assert receiving.count() == 1 + 10 + 88
    hall = Hall.objects.get(code="520302-C01")
    assert selectors.can_receive_proxy(hall, item)
    assert selectors.first_issuing_window(hall) is not None
    # Under 遵义市: its city hall, its 14 county halls.
    assert selectors.halls_for(region="520300", type="comprehensive").count() == 1 + 14


def test_demo_item_filter_covers_stations_listing_the_item(demo_halls: dict[str, Any]) -> None:
    listed = Window.items.through.objects.filter(window__hall__type="station").values_list("item_id", flat=True)
    item_id = listed.first()
    stations = selectors.halls_for(
        item=str(Window.items.through.objects.filter(item_id=item_id).first().item.code), type="station"
    )
    assert stations.count() == 1500

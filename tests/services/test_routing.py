"""Routing an item to its competent authority (有权机关) for the jurisdiction the applicant names."""

from __future__ import annotations

import pytest
from django.core.exceptions import ValidationError

from govmap.models import Region
from services.models import Department, Item
from services.selectors import _joint_departments_by_part, competent_department, joint_departments

pytestmark = pytest.mark.django_db


def _item(name: str) -> Item:
    return Item.objects.select_related("department_kind").get(name=name)


def test_county_item_goes_to_the_jurisdictions_county(catalog):
    dept = competent_department(item=_item("户籍迁移（省内户口迁移）"), jurisdiction=Region.objects.get(pk="520102"))
    assert dept.code == "520102-public_security"
    assert dept.name == "贵阳市公安局南明分局"


def test_city_item_from_a_county_goes_to_its_city(catalog):
    item = _item("机动车驾驶证补证")
    assert item.handling_level == "city"
    assert (
        competent_department(item=item, jurisdiction=Region.objects.get(pk="520382")).code == "520300-public_security"
    )
    # A city jurisdiction is fine for a city-level item.
    assert competent_department(item=item, jurisdiction=Region.objects.get(pk="520300")).name == "遵义市公安局"


def test_province_item_goes_to_the_province_from_anywhere(catalog):
    item = _item("律师执业许可")
    for adcode in ("520000", "522700", "522732"):
        assert competent_department(item=item, jurisdiction=Region.objects.get(pk=adcode)).name == "贵州省司法厅"


@pytest.mark.parametrize(
    ("name", "adcode", "fragment"),
    [
        ("户籍迁移（省内户口迁移）", "520100", "请选择具体的县（市、区）"),
        ("户籍迁移（省内户口迁移）", "520000", "请选择具体的县（市、区）"),
        ("机动车驾驶证补证", "520000", "请选择具体的市（州）"),
    ],
)
def test_jurisdiction_above_the_items_level_is_refused(catalog, name, adcode, fragment):
    item = _item(name)
    with pytest.raises(ValidationError) as exc:
        competent_department(item=item, jurisdiction=Region.objects.get(pk=adcode))
    message = exc.value.message_dict["jurisdiction"][0]
    assert fragment in message and item.name in message


def test_missing_department_is_a_clear_error(catalog):
    item = _item("户籍迁移（省内户口迁移）")
    Department.objects.filter(code="520102-public_security").delete()
    with pytest.raises(ValidationError) as exc:
        competent_department(item=item, jurisdiction=Region.objects.get(pk="520102"))
    assert "南明区尚未设置" in exc.value.message_dict["jurisdiction"][0]


def test_every_proxy_item_is_routable_from_every_county(catalog):
    counties = list(Region.objects.filter(level="county").select_related("parent__parent").defer("boundary"))
    assert len(counties) == 88
    items = list(Item.objects.filter(proxy=True).select_related("department_kind"))
    assert len(items) >= 80
    expected_level = {"county": "county", "city": "city", "province": "province"}
    for item in items:
        for county in counties:
            dept = competent_department(item=item, jurisdiction=county)
            assert dept.kind_id == item.department_kind_id
            assert dept.region.level == expected_level[item.handling_level]
            assert county.adcode.startswith(
                dept.region.adcode.rstrip("0")[:4] if dept.region.level != "province" else "52"
            )


def test_joint_item_lists_lead_then_co_deciding_departments(catalog):
    item = _item("新生儿出生“一件事”（出生医学证明、户口登记、医保参保、社保卡申领）")
    depts = joint_departments(item=item, jurisdiction=Region.objects.get(pk="522601"))
    assert [d.kind_id for d in depts] == ["health", "healthcare_security", "hrss", "public_security"]
    assert all(d.region_id == "522601" for d in depts)
    assert depts[0].name == "凯里市卫生健康局"


def test_joint_item_is_routed_in_one_query(catalog, django_assert_num_queries):
    """Every part of a joint case in one read (a joint case is routed at intake and again at
    transfer), with the same order as part-by-part routing."""
    item = _item("新生儿出生“一件事”（出生医学证明、户口登记、医保参保、社保卡申领）")
    kaili = Region.objects.get(pk="522601")
    with django_assert_num_queries(1):
        depts = joint_departments(item=item, jurisdiction=kaili)
    assert [d.code for d in depts] == [d.code for d in _joint_departments_by_part(item=item, jurisdiction=kaili)]
    with django_assert_num_queries(0):  # kind and region came with them
        assert all(d.kind.name for d in depts) and {d.region.name for d in depts} == {"凯里市"}


@pytest.mark.parametrize(
    ("missing_kind", "message"),
    [("hrss", "联办部门"), ("health", "尚未设置办理")],
    ids=["a co-deciding department", "the lead department"],
)
def test_joint_item_missing_a_department_names_it(catalog, missing_kind, message):
    item = _item("新生儿出生“一件事”（出生医学证明、户口登记、医保参保、社保卡申领）")
    Department.objects.filter(kind_id=missing_kind, region_id="522601").delete()
    with pytest.raises(ValidationError) as caught:
        joint_departments(item=item, jurisdiction=Region.objects.get(pk="522601"))
    assert message in str(caught.value.message_dict["jurisdiction"])

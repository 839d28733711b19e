"""The shipped catalog: enough real items, consistent codes and limits, idempotent loaders."""

from __future__ import annotations

import csv
from decimal import Decimal

import pytest
from django.db import IntegrityError, transaction

from services.catalog_data import DATA_DIR, load_catalog, load_departments
from services.catalog_format import CODE_RE, TYPE_CODES, Vocabulary, parse_row
from services.models import Department, DepartmentKind, IndustryZone, Item, MaterialRequirement

pytestmark = pytest.mark.django_db


def test_shipped_catalog_size(catalog):
    assert Item.objects.count() >= 85
    kinds_used = set(Item.objects.values_list("department_kind_id", flat=True))
    assert len(kinds_used) >= 15
    assert DepartmentKind.objects.count() >= 18
    assert IndustryZone.objects.count() == 20  # the twenty columns of the portal (issue 13)
    assert catalog["catalog"]["items"] == Item.objects.count()
    # Every item lists what the applicant must bring, and every zone has items.
    assert not Item.objects.filter(materials__isnull=True).exists()
    assert not IndustryZone.objects.filter(items__isnull=True).exists()


def test_committed_never_exceeds_legal(catalog):
    for item in Item.objects.all():
        assert 1 <= item.committed_days <= item.legal_days, item.code


def test_codes_follow_the_documented_scheme(catalog):
    for item in Item.objects.all():
        m = CODE_RE.match(item.code)
        assert m, item.code
        assert m["region"] == "520000"
        assert m["type"] == TYPE_CODES[item.item_type], item.code


def test_levels_and_modes_are_realistic(catalog):
    levels = dict.fromkeys(["province", "city", "county"], 0)
    for level in Item.objects.values_list("handling_level", flat=True):
        levels[level] += 1
    assert levels["county"] > levels["city"] + levels["province"]  # most items are handled locally
    assert Item.objects.filter(proxy=True).count() >= 80
    assert Item.objects.filter(joint=True).exists()
    for item in Item.objects.filter(online=True):
        assert item.visits_required == 0, item.code
    assert not Item.objects.filter(visits_required__gt=1).exists()
    # Joint "一件事" items name their co-deciding kinds.
    birth = Item.objects.get(name__startswith="新生儿出生“一件事”")
    assert set(birth.co_department_kinds.values_list("code", flat=True)) == {
        "public_security",
        "healthcare_security",
        "hrss",
    }


def test_well_known_items_and_materials_are_present(catalog):
    names = set(Item.objects.values_list("name", flat=True))
    for expected in [
        "居民身份证换领",
        "户籍证明开具（户籍类证明）",
        "内地居民结婚登记",
        "社会保障卡申领",
        "异地就医登记备案（异地长期居住人员）",
        "不动产抵押权首次登记",
        "个体工商户设立登记",
        "食品经营许可证核发",
        "机动车驾驶证换证（有效期满换证）",
        "普通护照签发",
        "残疾人证新办",
    ]:
        assert expected in names
    e_licences = set(MaterialRequirement.objects.exclude(e_license_type="").values_list("e_license_type", flat=True))
    assert {"居民身份证", "居民户口簿", "结婚证", "营业执照", "不动产权证书", "出生医学证明"} <= e_licences
    marriage = Item.objects.get(name="内地居民结婚登记")
    id_card = marriage.materials.get(name="居民身份证")
    assert id_card.required and id_card.original_needed and id_card.e_license_type == "居民身份证"
    assert Item.objects.get(name="居民身份证补领").fee == Decimal("40.00")


def test_database_refuses_committed_above_legal(catalog):
    item = Item.objects.first()
    with pytest.raises(IntegrityError), transaction.atomic():
        Item.objects.filter(pk=item.pk).update(committed_days=item.legal_days + 1)
    item.refresh_from_db()
    assert item.committed_days <= item.legal_days


def test_loaders_are_idempotent(catalog, django_assert_max_num_queries):
    before = (Item.objects.count(), MaterialRequirement.objects.count(), Department.objects.count())
    with django_assert_max_num_queries(40):
        again = load_catalog()
        departments = load_departments()
    assert again["items_created"] == 0 and again["items_updated"] == 0
    assert departments["created"] == 0 and departments["updated"] == 0
    assert (Item.objects.count(), MaterialRequirement.objects.count(), Department.objects.count()) == before


def test_load_catalog_restores_an_edited_item(catalog):
    item = Item.objects.get(name="居民身份证换领")
    Item.objects.filter(pk=item.pk).update(name="被改坏的名称")
    item.materials.filter(code="M01").delete()
    result = load_catalog()
    assert result["items_updated"] == 1
    item.refresh_from_db()
    assert item.name == "居民身份证换领"
    assert item.materials.filter(code="M01", name="居民身份证").exists()


def test_every_shipped_row_parses(db):
    # The data file is validated by the same parser as imports (also without a database).
    kinds = [(r["code"], r["name"]) for r in csv.DictReader((DATA_DIR / "department_kinds.csv").open(encoding="utf-8"))]
    zones = [(r["code"], r["name"]) for r in csv.DictReader((DATA_DIR / "industry_zones.csv").open(encoding="utf-8"))]
    vocab = Vocabulary.from_pairs(kinds, zones)
    with (DATA_DIR / "items.csv").open(encoding="utf-8", newline="") as f:
        specs = [parse_row(row, vocab) for row in csv.DictReader(f)]
    assert len({s.code for s in specs}) == len(specs)


def test_departments_per_region_with_real_style_names(catalog):
    regions = catalog["regions"]
    counties = [r for r in regions.values() if r.level == "county"]
    cities = [r for r in regions.values() if r.level == "city"]
    assert len(counties) == 88 and len(cities) == 9
    names = dict(Department.objects.values_list("code", "name"))
    assert names["520000-public_security"] == "贵州省公安厅"
    assert names["520100-public_security"] == "贵阳市公安局"
    assert names["520102-public_security"] == "贵阳市公安局南明分局"
    assert names["520121-public_security"] == "开阳县公安局"
    assert names["520102-market_regulation"] == "南明区市场监督管理局"
    assert names["520300-healthcare_security"] == "遵义市医疗保障局"
    assert names["520102-taxation"] == "国家税务总局贵阳市南明区税务局"
    assert names["520382-taxation"] == "国家税务总局仁怀市税务局"
    assert names["520325-ecology_environment"] == "遵义市生态环境局道真分局"
    assert names["520100-housing_fund"] == "贵阳市住房公积金管理中心"
    # Departments exist only where items of the kind are handled: provident funds are city-level.
    assert not Department.objects.filter(kind_id="housing_fund", region__level="county").exists()
    assert Department.objects.filter(kind_id="public_security", region__level="county").count() == 88
    assert Department.objects.filter(kind_id="housing_fund", region__level="city").count() == 9
    # Co-deciding kinds of joint items get departments at the item's level too.
    assert Department.objects.filter(kind_id="taxation", region__level="county").count() == 88
    for code, name in names.items():
        assert "{" not in name and name, code

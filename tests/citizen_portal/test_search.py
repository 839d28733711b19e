"""The citizens' item search: real queries as people type them — Chinese, pinyin, initials,
everyday names (synonyms), homophone slips and typos — each with the item that must come first."""

from __future__ import annotations

from typing import Any

import pytest
from django.core.cache import cache

from citizen_portal import search

pytestmark = pytest.mark.django_db

# (query, expected first result, what it exercises)
QUERIES = [
    ("hkb", "居民户口簿补领、换领", "initials"),
    ("hukou", "居民户口簿补领、换领", "pinyin"),
    ("户口本", "居民户口簿补领、换领", "synonym"),
    ("户口簿", "居民户口簿补领、换领", "name"),
    ("户口薄", "居民户口簿补领、换领", "typo: wrong character"),
    ("hukuo", "居民户口簿补领、换领", "typo in pinyin"),
    ("身份证", "居民身份证换领", "synonym 身份证/居民身份证"),
    ("身分证", "居民身份证换领", "homophone"),
    ("sfz", "居民身份证换领", "initials"),
    ("shenfenzheng", "居民身份证换领", "pinyin"),
    ("shenfengzheng", "居民身份证换领", "typo in pinyin"),
    ("ＳＦＺ", "居民身份证换领", "full-width capitals"),
    ("驾照", "机动车驾驶证补证", "synonym"),
    ("jiazhao", "机动车驾驶证补证", "pinyin of a synonym"),
    ("jiashizheng", "机动车驾驶证补证", "pinyin"),
    ("营业执照", "企业设立登记（有限责任公司）", "synonym"),
    ("yyzz", "企业设立登记（有限责任公司）", "initials of a synonym"),
    ("yingyezhizao", "企业设立登记（有限责任公司）", "typo in pinyin"),
    ("营业执找", "企业设立登记（有限责任公司）", "homophone"),
    ("sbk", "社会保障卡申领", "initials"),
    ("社保卡", "社会保障卡申领", "synonym"),
    ("gjj", "住房公积金个人住房贷款", "initials"),
    ("gongjijin", "住房公积金个人住房贷款", "pinyin"),
    ("低保", "最低生活保障对象认定", "synonym"),
    ("dibao", "最低生活保障对象认定", "pinyin of a synonym"),
    ("准生证", "生育登记", "synonym"),
    ("良民证", "无犯罪记录证明出具", "colloquial name"),
    ("无犯罪证明", "无犯罪记录证明出具", "synonym"),
    ("残疾证", "残疾人证新办", "synonym"),
    ("huzhao", "普通护照签发", "pinyin"),
    ("lihun", "内地居民离婚登记", "pinyin"),
    ("jiehun", "内地居民结婚登记", "pinyin"),
    ("港澳通行证", "往来港澳通行证及签注签发", "synonym"),
    ("网约车", "网络预约出租汽车驾驶员证核发", "synonym"),
    ("环评", "建设项目环境影响报告表审批", "keyword"),
    ("ktv", "娱乐场所经营活动审批", "Latin keyword"),
    ("失业金", "失业保险金申领", "synonym"),
    ("出生证", "出生医学证明首次签发", "synonym"),
    ("异地就医", "异地就医登记备案（异地长期居住人员）", "name"),
    ("hu kou ben", "居民户口簿补领、换领", "pinyin with spaces"),
]


@pytest.fixture
def shipped(catalog: Any) -> None:
    cache.delete(search.USAGE_KEY)


@pytest.mark.parametrize(("query", "expected", "kind"), QUERIES, ids=[q for q, *_ in QUERIES])
def test_real_queries_first_result(shipped: None, query: str, expected: str, kind: str) -> None:
    found = search.search(query)
    assert found, f"{query!r} ({kind}) found nothing"
    assert found[0].name == expected, (query, kind, [i.name for i in found[:3]])


def test_at_least_thirty_queries() -> None:
    assert len(QUERIES) >= 30
    kinds = " ".join(k for *_x, k in QUERIES)
    for needed in ("pinyin", "initials", "synonym", "typo"):
        assert needed in kinds


def test_nonsense_and_empty_find_nothing(shipped: None) -> None:
    assert search.search("") == []
    assert search.search("   ") == []
    assert search.search("qqqqxz") == []
    assert search.search("火星移民") == []


def test_the_page_uses_it_and_keeps_the_zone_filter(client: Any, shipped: None) -> None:
    html = client.get("/items/", {"q": "hkb"}).content.decode()
    assert "居民户口簿补领、换领" in html
    html = client.get("/items/", {"q": "gjj", "zone": "housing_fund"}).content.decode()
    assert "住房公积金个人住房贷款" in html
    # A zone without the item: nothing, not the item from elsewhere.
    html = client.get("/items/", {"q": "hkb", "zone": "tax"}).content.decode()
    assert "居民户口簿补领、换领" not in html
    resp = client.get("/items/", {"q": "x" * 101})
    assert resp.status_code == 400
    assert client.get("/items/", {"q": "hkb", "zone": "nope"}).status_code == 400


def test_more_used_items_rank_first(wf: Any) -> None:
    """Two items matching alike: the one with more cases comes first."""
    a, b = wf.items["proxy"], wf.items["online_only"]
    for item in (a, b):
        item.keywords = "开店"
        item.save()
    cache.delete(search.USAGE_KEY)
    assert [i.code for i in search.search("开店")][:2] == [a.code, b.code]  # code order when unused
    wf.online(item="online_only", mode="online")
    wf.online(item="online_only", mode="online")
    cache.delete(search.USAGE_KEY)
    assert [i.code for i in search.search("kaidian")][:2] == [b.code, a.code]
    assert [i.code for i in search.search("开店")][:2] == [b.code, a.code]


def test_index_follows_catalog_changes(shipped: None) -> None:
    from services.models import Item

    item = Item.objects.get(name="普通护照签发")
    item.keywords = "出国证件"
    item.save()
    assert search.search("chuguo")[0].pk == item.pk
    item.is_active = False
    item.save()
    assert all(i.pk != item.pk for i in search.search("huzhao"))

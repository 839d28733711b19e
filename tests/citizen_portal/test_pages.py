import pytest

from services.models import Item


@pytest.fixture
def portal(demo_halls):
    return demo_halls


@pytest.mark.django_db
def test_home_lists_ten_city_sites_and_zones(client, portal):
    html = client.get("/").content.decode()
    for name in ("贵阳市", "遵义市", "六盘水市", "安顺市", "毕节市", "铜仁市", "贵安新区"):
        assert name in html
    assert "黔东南" in html and "黔南" in html and "黔西南" in html
    assert "开办企业" in html


@pytest.mark.django_db
def test_item_search_and_guide(client, portal):
    resp = client.get("/items/", {"q": "户籍"})
    assert resp.status_code == 200 and "户籍迁移" in resp.content.decode()
    item = Item.objects.filter(proxy=True).first()
    html = client.get(f"/items/{item.code}/").content.decode()
    assert item.name in html and "申请材料" in html
    for m in item.materials.all():
        assert m.name in html


@pytest.mark.django_db
def test_bad_filters_and_unknown_pages(client, portal):
    resp = client.get("/items/", {"mode": "teleport"})
    assert resp.status_code == 400 and "未知的办理模式" in resp.content.decode()
    assert client.get("/sites/999999/").status_code == 404
    assert client.get("/zones/nope/").status_code == 404
    assert client.get("/items/NOPE/").status_code == 404


@pytest.mark.django_db
def test_city_site_lists_its_halls(client, portal):
    html = client.get("/sites/520300/").content.decode()
    assert "红花岗区" in html and "政务服务" in html
    assert client.get("/sites/guian/").status_code == 200

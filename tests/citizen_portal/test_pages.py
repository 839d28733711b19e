import pytest

from services.models import Item


@pytest.fixture
def portal(demo_halls):
    from demo.portal import load_portal

    load_portal()
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


def test_sla_colour_paints_the_badge_not_the_whole_row_of_my_cases(client):
    """我的办件 rows carry class sla-<colour> for a left border; only the .sla badge is filled."""
    import re

    css = client.get("/static/citizen_portal/portal.css")
    body = re.sub(r"/\*.*?\*/", "", b"".join(css.streaming_content).decode(), flags=re.S)
    for rule in re.findall(r"([^{}]*)\{([^}]*)\}", body):
        selector, decl = rule
        if re.search(r"sla-(green|yellow|red)", selector) and "background" in decl:
            assert all(s.strip().startswith(".sla.sla-") for s in selector.split(",")), selector

"""Region admin: Chinese labels, searchable, read-mostly (no add, no delete, codes fixed)."""

from __future__ import annotations

import pytest
from django.test import Client

from govmap.models import Region


@pytest.fixture
def admin_client_zh(guizhou_regions: dict[str, Region], django_user_model) -> Client:
    user = django_user_model.objects.create_superuser(username="geo-admin", password="pw-123456!")
    client = Client(HTTP_ACCEPT_LANGUAGE="zh-hans")
    client.force_login(user)
    return client


def test_changelist_search_and_labels(admin_client_zh: Client) -> None:
    response = admin_client_zh.get("/admin/govmap/region/", {"q": "南明"})
    assert response.status_code == 200
    text = response.content.decode()
    assert "南明区" in text and "云岩区" not in text
    assert "行政区划代码" in text and "下级数" in text
    response = admin_client_zh.get("/admin/govmap/region/", {"level__exact": "city"})
    assert "黔东南苗族侗族自治州" in response.content.decode()


def test_change_page_is_read_mostly(admin_client_zh: Client) -> None:
    url = "/admin/govmap/region/520102/change/"
    response = admin_client_zh.get(url)
    assert response.status_code == 200
    text = response.content.decode()
    assert "个顶点" in text  # boundary summarised, not dumped
    assert 'name="adcode"' not in text and 'name="name"' in text
    response = admin_client_zh.post(url, {"name": "南明区（更正）", "adcode": "999999", "level": "city"})
    assert response.status_code == 302
    region = Region.objects.get(adcode="520102")
    assert (region.name, region.level) == ("南明区（更正）", "county")
    assert not Region.objects.filter(adcode="999999").exists()


def test_no_add_no_delete(admin_client_zh: Client) -> None:
    assert admin_client_zh.get("/admin/govmap/region/add/").status_code == 403
    assert admin_client_zh.post("/admin/govmap/region/520102/delete/").status_code == 403
    assert Region.objects.filter(adcode="520102").exists()

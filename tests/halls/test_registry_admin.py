"""The Chinese admin of the hall registry: lists, filters, search and the hall page with windows."""

from __future__ import annotations

from typing import Any

import pytest

from halls.models import Hall, StaffPost, Window
from tests.fixtures.halls import make_hall


@pytest.fixture
def staff_admin(admin_client, guizhou_regions: Any):
    return admin_client


def test_hall_changelist_filters_and_search(staff_admin) -> None:
    make_hall("520102", code="520102-A01", name="南明区政务服务大厅")
    make_hall("520302", code="520302-A01", name="红花岗区政务服务大厅", type="station")
    page = staff_admin.get("/admin/halls/hall/")
    assert page.status_code == 200
    text = page.content.decode()
    assert "服务场所" in text and "所在市（州）" in text and "所在区县" in text
    by_city = staff_admin.get("/admin/halls/hall/", {"city": "520300"}).content.decode()
    assert "520302-A01" in by_city and "520102-A01" not in by_city
    by_county = staff_admin.get("/admin/halls/hall/", {"county": "520102"}).content.decode()
    assert "520102-A01" in by_county and "520302-A01" not in by_county
    by_type = staff_admin.get("/admin/halls/hall/", {"type__exact": "station"}).content.decode()
    assert "520302-A01" in by_type and "520102-A01" not in by_type
    found = staff_admin.get("/admin/halls/hall/", {"q": "南明"}).content.decode()
    assert "520102-A01" in found and "520302-A01" not in found


def test_hall_change_page_shows_windows(staff_admin) -> None:
    hall = make_hall("520102", code="520102-A02", windows="county")
    page = staff_admin.get(f"/admin/halls/hall/{hall.pk}/change/")
    assert page.status_code == 200
    text = page.content.decode()
    assert "窗口" in text and "通办收件" in text


def test_window_and_post_admin(staff_admin, django_user_model) -> None:
    hall = make_hall("520102", code="520102-A03", windows="county")
    window = Window.objects.get(hall=hall, number="1")
    user = django_user_model.objects.create_user(username="clerk-a", password="x", role="window_clerk")
    StaffPost.objects.create(user=user, hall=hall, window=window)
    assert staff_admin.get("/admin/halls/window/", {"tongban_intake__exact": "1"}).status_code == 200
    assert staff_admin.get(f"/admin/halls/window/{window.pk}/change/").status_code == 200
    posts = staff_admin.get("/admin/halls/staffpost/", {"q": "clerk-a"})
    assert posts.status_code == 200 and "clerk-a" in posts.content.decode()


def test_bad_filter_value_is_ignored(staff_admin) -> None:
    make_hall("520102", code="520102-A04")
    page = staff_admin.get("/admin/halls/hall/", {"city": "abc"})
    assert page.status_code == 200
    assert Hall.objects.filter(code="520102-A04").exists()

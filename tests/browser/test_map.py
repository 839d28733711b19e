"""/map/ with ~20,000 service points, offline: clusters, a popup with live numbers, nearest hall."""

from __future__ import annotations

import time

import pytest

pytestmark = pytest.mark.browser

XSS_NAME = '<script>alert("map")</script><img src=x onerror=alert(1)>南明区政务服务中心'


def test_map_with_20000_points(asgi_server, offline_context, catalog, settings, fresh_hall_index):
    from playwright.sync_api import expect

    from demo.hall_registry import load_halls
    from halls import actions, live_selectors
    from halls.models import Hall

    settings.MAP_REFRESH_SECONDS = 1
    summary = load_halls(size="large")
    assert summary["total"] >= 20_000
    hall = Hall.objects.filter(type="comprehensive", region_id="520102").order_by("code").first()
    Hall.objects.filter(pk=hall.pk).update(name=XSS_NAME)  # every text from the database is escaped
    live_selectors.bump_hall_index_version()
    for _ in range(3):
        actions.issue_ticket(hall=hall, category="A", actor=None)
    expected = live_selectors.nearest_halls(lat=hall.lat, lon=hall.lon, k=1)[0]["code"]
    assert expected == hall.code

    offline = offline_context(geolocation={"latitude": hall.lat, "longitude": hall.lon}, permissions=["geolocation"])
    page = offline.page
    started = time.perf_counter()
    page.goto(f"{asgi_server}/map/")
    try:
        page.wait_for_function("() => Number(document.body.dataset.hallsLoaded || 0) >= 20000", timeout=60_000)
    except Exception:
        print(offline.errors, offline.console, offline.blocked)
        raise
    expect(page.locator(".marker-cluster").first).to_be_visible(timeout=30_000)
    first_clusters_s = time.perf_counter() - started
    assert page.locator(".marker-cluster").count() > 5
    print(f"\nfirst clusters after {first_clusters_s:.2f} s")

    # Nearest to me: the browser's position is the hall's own point.
    page.click("#tb-locate")
    page.wait_for_function(f"() => document.body.dataset.nearest === {expected!r}", timeout=20_000)
    first = page.locator("#tb-nearest li").first
    expect(first).to_contain_text('<script>alert("map")</script>')  # shown as text

    # Its popup carries the live numbers, and follows them.
    first.click()
    popup = page.locator(".leaflet-popup .tb-popup")
    expect(popup.locator(".tb-waiting")).to_have_text("3 人", timeout=20_000)
    expect(popup.locator(".tb-popup-title")).to_have_text(XSS_NAME)
    actions.issue_ticket(hall=hall, category="B", actor=None)
    expect(popup.locator(".tb-waiting")).to_have_text("4 人", timeout=20_000)

    # Filter by item: only the halls with a window that takes it remain.
    from halls.selectors import halls_for
    from services.models import Item

    counts = {code: halls_for(item=code).count() for code in Item.objects.values_list("code", flat=True)[:40]}
    code, n = min(((c, k) for c, k in counts.items() if k > 0), key=lambda ck: ck[1])
    page.fill("#tb-item", code)
    page.dispatch_event("#tb-item", "change")
    page.wait_for_function(f"() => Number(document.body.dataset.hallsLoaded) === {n}", timeout=20_000)
    expect(page.locator("#tb-filter-state")).to_contain_text(code)

    assert offline.blocked == [], offline.blocked[:5]
    assert offline.dialogs == [], "a script from the database ran"
    assert offline.errors == [], offline.errors

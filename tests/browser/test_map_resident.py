"""A resident on /map/ in chromium, offline, after `manage.py load_demo`: the coverage layer is
filled and has a legend (so has satisfaction), place names are written on the map without tiles,
pick mode picks even on a cluster, and a hall's popup takes a number, books and draws the straight
line from the picked point. On a phone, the panel leaves the layer switch free."""

from __future__ import annotations

import math
from typing import Any

import pytest

pytestmark = pytest.mark.browser


def _login(offline: Any, base_url: str, user: Any) -> None:
    from django.conf import settings
    from django.test import Client

    client = Client()
    client.force_login(user)
    cookie = client.cookies[settings.SESSION_COOKIE_NAME]
    offline.context.add_cookies([{"name": settings.SESSION_COOKIE_NAME, "value": cookie.value, "url": base_url}])


def _overlay(page: Any, text: str) -> None:
    """Tick an overlay in Leaflet's (collapsed) layer switch, as a user would."""
    page.hover(".leaflet-control-layers")
    page.locator(".leaflet-control-layers-overlays label", has_text=text).locator("input").click()


FREE_CLUSTER_JS = """() => {
  // A cluster icon that nothing else covers at its centre (the four hall types cluster separately).
  for (const el of document.querySelectorAll('.marker-cluster')) {
    const r = el.getBoundingClientRect();
    const x = r.left + r.width / 2, y = r.top + r.height / 2;
    const top = document.elementFromPoint(x, y);
    if (top && top.closest('.marker-cluster') === el && x > 320 && y > 60) { return [x, y]; }
  }
  return null;
}"""


def _free_cluster(page: Any) -> tuple[float, float]:
    page.wait_for_function(FREE_CLUSTER_JS, timeout=20_000)
    x, y = page.evaluate(FREE_CLUSTER_JS)
    return float(x), float(y)


def _view(page: Any, lat: float, lon: float, zoom: int) -> None:
    # The braces matter: returning the Leaflet map object would make Playwright serialise it whole.
    page.evaluate(f"() => {{ TongbanMapApp.map.setView([{lat}, {lon}], {zoom}, {{animate: false}}); }}")


def _haversine(lat1: float, lon1: float, lat2: float, lon2: float) -> float:
    p1, p2 = math.radians(lat1), math.radians(lat2)
    a = math.sin((p2 - p1) / 2) ** 2 + math.cos(p1) * math.cos(p2) * math.sin(math.radians(lon2 - lon1) / 2) ** 2
    return 2 * 6_371_008.8 * math.asin(math.sqrt(a))


@pytest.fixture
def demo(transactional_db: None, fresh_hall_index: None) -> None:
    from django.core.management import call_command

    call_command("load_demo", verbosity=0)


def test_resident_on_the_map(asgi_server, offline_context, demo, screenshot):
    from playwright.sync_api import expect

    from halls.models import Appointment, CountyCoverage, Hall, QueueTicket

    # load_demo filled the coverage layer (no `manage.py coverage` was run).
    assert CountyCoverage.objects.count() == 88
    offline = offline_context()
    page = offline.page
    page.goto(f"{asgi_server}/map/")
    page.wait_for_function("() => Number(document.body.dataset.hallsLoaded || 0) > 1000", timeout=60_000)
    page.wait_for_function("() => document.body.dataset.coverageCounties === '88'", timeout=30_000)

    # Place names with no tiles at all: cities at the province view, then counties, townships, halls.
    page.wait_for_function("() => Number(document.body.dataset.labelsLoaded || 0) > 1000", timeout=30_000)
    expect(page.locator(".tb-label-city", has_text="贵阳市")).to_be_visible()
    expect(page.locator(".tb-label-city", has_text="遵义市")).to_be_visible()
    screenshot(page, "01-province-with-city-names")
    nanming = Hall.objects.get(code="520102-C01").region
    _view(page, nanming.lat, nanming.lon, 9)
    expect(page.locator(".tb-label-county", has_text="南明区")).to_be_visible()
    township = Hall.objects.filter(region_id="520102", type="station", level="township").order_by("code").first()
    town_name = township.name.removesuffix("便民服务中心")
    _view(page, township.lat, township.lon, 12)
    expect(page.locator(".tb-label-township", has_text=town_name).first).to_be_visible()
    screenshot(page, "02-township-names")
    _view(page, township.lat, township.lon, 17)
    expect(page.locator(".tb-label-hall", has_text=township.name).first).to_be_visible(timeout=10_000)
    screenshot(page, "03-hall-names")

    # Legends for the coverage and satisfaction layers.
    _view(page, 26.82, 106.7, 7)
    _overlay(page, "服务覆盖")
    legend = page.locator("#tb-map-legend")
    expect(legend.locator("#tb-legend-coverage")).to_be_visible()
    expect(legend).to_contain_text("≥ 90%")
    _overlay(page, "满意度")
    expect(legend.locator("#tb-legend-satisfaction")).to_be_visible()
    expect(legend.locator("#tb-legend-satisfaction")).to_contain_text("无数据")
    screenshot(page, "04-coverage-and-satisfaction-legends")
    _overlay(page, "服务覆盖")
    _overlay(page, "满意度")
    expect(legend).to_be_hidden()

    # Without pick mode a click on a cluster zooms in (Leaflet.markercluster's own behaviour)...
    page.mouse.move(5, 5)
    zoom = page.evaluate("() => TongbanMapApp.map.getZoom()")
    x, y = _free_cluster(page)
    page.mouse.click(x, y)
    page.wait_for_function(f"() => TongbanMapApp.map.getZoom() > {zoom}", timeout=10_000)
    _view(page, 26.82, 106.7, 7)

    # ...in pick mode the same click picks the point under the cursor instead.
    page.click("#tb-pick")
    x, y = _free_cluster(page)
    expected = page.evaluate(
        f"""() => {{ const r = TongbanMapApp.map.getContainer().getBoundingClientRect();
                     const ll = TongbanMapApp.map.containerPointToLatLng([{x} - r.left, {y} - r.top]);
                     return [ll.lat, ll.lng]; }}"""
    )
    # The browser reports the click at whole pixels; at zoom 7 a pixel is ~0.01°, so allow one and a
    # half pixels (a cluster's own centre would be up to half its ~40 px icon away).
    pixel = page.evaluate(
        f"""() => {{ const r = TongbanMapApp.map.getContainer().getBoundingClientRect();
                     const a = TongbanMapApp.map.containerPointToLatLng([{x} - r.left, {y} - r.top]);
                     const b = TongbanMapApp.map.containerPointToLatLng([{x} - r.left + 1, {y} - r.top + 1]);
                     return Math.max(Math.abs(a.lat - b.lat), Math.abs(a.lng - b.lng)); }}"""
    )
    tolerance = 1.5 * pixel
    page.mouse.click(x, y)
    page.wait_for_function("() => !!document.body.dataset.here && !!document.body.dataset.nearest", timeout=20_000)
    here = [float(v) for v in page.evaluate("() => document.body.dataset.here").split(",")]
    assert abs(here[0] - expected[0]) < tolerance and abs(here[1] - expected[1]) < tolerance
    assert page.evaluate("() => document.body.dataset.picking") is None
    expect(page.locator("#tb-nearest li").first).to_be_visible()
    screenshot(page, "05-picked-on-a-cluster")

    # A hall's popup: take a number, then the straight line from the picked point.
    hall = Hall.objects.get(code="520102-C01")
    # Let the nearest results finish framing the map, as a person reading them would.
    page.wait_for_function(
        "() => { const m = TongbanMapApp.map; return !m._animatingZoom && !(m._panAnim && m._panAnim._inProgress); }"
    )
    page.wait_for_timeout(500)
    page.evaluate("() => { TongbanMapApp.openHall('520102-C01'); }")
    popup = page.locator(".leaflet-popup .tb-popup")
    expect(popup.locator(".tb-popup-title")).to_have_text(hall.name, timeout=20_000)
    popup.locator("[data-act=ticket]").click()
    expect(popup.locator(".tb-act-result")).to_contain_text("已取号", timeout=10_000)
    ticket = QueueTicket.objects.filter(hall=hall).order_by("-pk").first()  # the demo history has old ones
    assert ticket is not None and ticket.status == "waiting"
    expect(popup.locator(".tb-act-result")).to_contain_text(ticket.number)
    popup.locator("[data-act=route]").click()
    expect(popup.locator(".tb-act-result")).to_contain_text("直线距离")
    expect(page.locator("path.tb-route")).to_have_count(1)
    metres = float(page.evaluate("() => document.body.dataset.routeMetres"))
    assert metres == pytest.approx(_haversine(here[0], here[1], hall.lat, hall.lon), rel=0.01)
    screenshot(page, "06-ticket-and-route")
    # Booking needs an account: the popup says so and links to the SMS login, coming back here.
    popup.locator("[data-act=book]").click()
    signin = popup.locator("a.tb-signin")
    expect(signin).to_be_visible()
    assert "next=%2Fmap%2F%3Fhall%3D520102-C01" in (signin.get_attribute("href") or "")

    assert offline.blocked == [], offline.blocked[:5]
    assert offline.errors == [], offline.errors
    assert offline.dialogs == []

    # Signed in, the same popup (opened from /map/?hall=) books a slot.
    from accounts.models import Role, User

    citizen = User.objects.create_user(username="map-citizen", role=Role.CITIZEN, phone="13800138123")
    signed = offline_context()
    _login(signed, asgi_server, citizen)
    spage = signed.page
    spage.goto(f"{asgi_server}/map/?hall=520102-C01")
    spopup = spage.locator(".leaflet-popup .tb-popup")
    expect(spopup.locator(".tb-popup-title")).to_have_text(hall.name, timeout=60_000)
    spopup.locator("[data-act=book]").click()
    slot = spopup.locator("button.tb-slot").first
    expect(slot).to_be_visible(timeout=20_000)
    slot.click()
    expect(spopup.locator(".tb-act-result")).to_contain_text("已预约", timeout=10_000)
    booked = Appointment.objects.get(applicant=citizen)
    assert booked.hall_id == hall.pk
    screenshot(spage, "07-booked")
    assert signed.blocked == [] and signed.errors == [], (signed.blocked[:5], signed.errors)


def test_on_a_phone_the_panel_leaves_the_layer_switch_free(
    asgi_server, chromium, guizhou_regions, fresh_hall_index, screenshot
):
    from playwright.sync_api import expect

    from tests.fixtures.browser import OfflinePage

    ctx = chromium.new_context(
        locale="zh-CN", viewport={"width": 390, "height": 844}, is_mobile=True, has_touch=True, device_scale_factor=2
    )
    try:
        offline = OfflinePage(ctx)
        page = offline.page
        page.goto(f"{asgi_server}/map/")
        page.wait_for_function("() => Number(document.body.dataset.labelsLoaded || 0) > 0", timeout=30_000)
        toggle = page.locator(".leaflet-control-layers")
        panel = page.locator("#tb-panel")
        expect(toggle).to_be_visible()
        expect(panel).to_be_visible()
        a, b = toggle.bounding_box(), panel.bounding_box()
        overlap_x = min(a["x"] + a["width"], b["x"] + b["width"]) - max(a["x"], b["x"])
        overlap_y = min(a["y"] + a["height"], b["y"] + b["height"]) - max(a["y"], b["y"])
        assert overlap_x <= 0 or overlap_y <= 0, (a, b)
        # What a finger touches at the switch's centre is the switch, not the panel.
        on_top = page.evaluate(
            f"() => !!document.elementFromPoint({a['x'] + a['width'] / 2}, {a['y'] + a['height'] / 2})"
            ".closest('.leaflet-control-layers')"
        )
        assert on_top
        zoom_in = page.locator(".leaflet-control-zoom-in").bounding_box()
        assert zoom_in["y"] + zoom_in["height"] <= b["y"]
        screenshot(page, "phone-map")
        toggle.tap()
        expect(page.locator(".leaflet-control-layers-expanded")).to_be_visible()
        screenshot(page, "phone-layer-switch-open")
        # The sheet folds down to its title.
        page.click("#tb-panel-toggle")
        expect(page.locator("#tb-panel-body")).to_be_hidden()
        assert offline.blocked == [] and offline.errors == [], (offline.blocked[:5], offline.errors)
    finally:
        ctx.close()

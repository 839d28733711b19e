"""The citizens' portal in Debian's chromium (Playwright), offline (every non-loopback request is
aborted and must not happen):

* each of the ten city sites with each of its three skins — a screenshot per pair under
  test-results/portal-skins/ — and axe-core (vendored, injected from the local file) finds no
  serious or critical WCAG 2.1 AA violation;
* every citizen page passes axe-core in the standard look and in 长辈版 (elderly mode), and fits a
  375 px wide phone;
* a citizen books an appointment, gets the reminder SMS the evening before, and cancels;
* a zone's query service finds a case by number + ID and shows its state live.

The clock is pinned with time_machine (a Tuesday in June 2026) wherever days matter.
"""

from __future__ import annotations

import datetime as dt
import os
from pathlib import Path
from typing import Any

import pytest
import time_machine
from django.conf import settings as dj_settings
from django.utils import timezone

pytestmark = [pytest.mark.browser]

AXE = Path(dj_settings.BASE_DIR) / "static" / "vendor" / "axe-core" / "axe.min.js"
OUT = Path(os.environ.get("TONGBAN_TEST_OUTPUT", "test-results")) / "portal-skins"
SKINS = ("standard", "festive", "contrast")
TUESDAY = dt.datetime(2026, 6, 9, 9, 0)
WEDNESDAY = dt.date(2026, 6, 10)

AXE_RUN = """async () => {
  const r = await axe.run(document, {runOnly: {type: 'tag', values: ['wcag2a', 'wcag2aa', 'wcag21a', 'wcag21aa']}});
  return r.violations.map(v => ({id: v.id, impact: v.impact, help: v.help,
    nodes: v.nodes.slice(0, 4).map(n => n.target.join(' ') + ' :: ' + (n.failureSummary || '').slice(0, 200))}));
}"""


def serious_violations(page: Any) -> list[dict[str, Any]]:
    if not page.evaluate("() => typeof window.axe !== 'undefined'"):
        # From the server's own static files, as a <script src>: the pages' CSP (script-src 'self')
        # rightly refuses an injected inline copy, and the test should not weaken the policy it checks.
        assert AXE.exists(), AXE
        origin = page.evaluate("() => location.origin")
        page.add_script_tag(url=f"{origin}/static/vendor/axe-core/axe.min.js")
    found = page.evaluate(AXE_RUN)
    return [v for v in found if v["impact"] in ("serious", "critical")]


def check_page(page: Any, url: str, *, label: str = "") -> None:
    page.goto(url)
    page.wait_for_load_state("load")
    bad = serious_violations(page)
    assert not bad, f"{label or url}: {bad}"


def fits_phone(page: Any) -> bool:
    return bool(page.evaluate("() => document.documentElement.scrollWidth <= window.innerWidth + 1"))


def login_cookie(user: Any, base: str) -> dict[str, str]:
    from django.test import Client

    c = Client()
    c.force_login(user)
    return {
        "name": dj_settings.SESSION_COOKIE_NAME,
        "value": c.cookies[dj_settings.SESSION_COOKIE_NAME].value,
        "url": base,
    }


@pytest.fixture
def guizhou(asgi_server: str, demo_halls: Any, fresh_hall_index: None) -> str:
    from demo.portal import load_portal

    load_portal()
    return asgi_server


def test_ten_sites_three_skins_offline_accessible(guizhou: str, offline_context: Any) -> None:
    from citizen_portal.models import CitySite

    OUT.mkdir(parents=True, exist_ok=True)
    sites = list(CitySite.objects.order_by("position"))
    assert len(sites) == 10
    offline = offline_context()
    page = offline.page
    shots = []
    for site in sites:
        for skin in SKINS:
            offline.context.add_cookies([{"name": "tb_skin", "value": skin, "url": guizhou}])
            page.goto(f"{guizhou}/sites/{site.key}/")
            assert page.locator("html").get_attribute("data-skin") == skin
            assert site.name in page.locator("h1").inner_text() or site.name in page.content()
            # The skins are visibly different: the header colour comes from the skin's variables.
            colour = page.evaluate("() => getComputedStyle(document.querySelector('.site-header')).backgroundColor")
            shot = OUT / f"{site.key}-{skin}.png"
            page.screenshot(path=str(shot), full_page=True)
            shots.append((site.key, skin, colour, shot))
            bad = serious_violations(page)
            assert not bad, f"{site.key}/{skin}: {bad}"
    # Three distinct looks per site; the standard look differs from city to city.
    for site in sites:
        assert len({c for k, _s, c, _p in shots if k == site.key}) == 3, site.key
    assert len({c for _k, s, c, _p in shots if s == "standard"}) >= 9
    assert all(p.stat().st_size > 5_000 for *_x, p in shots)
    print(f"\n{len(shots)} screenshots in {OUT.resolve()}")
    # The checker itself works: a pale text and an image without alt text are reported.
    # (Styled through the CSSOM: the pages' CSP rightly drops an inline style attribute.)
    page.evaluate(
        """() => { const main = document.querySelector('main');
          main.insertAdjacentHTML('beforeend', '<p id="pale">浅色文字</p><img src="/favicon.ico">');
          const pale = document.getElementById('pale'); pale.style.color = '#ddd'; pale.style.background = '#fff'; }"""
    )
    assert {"color-contrast", "image-alt"} <= {v["id"] for v in serious_violations(page)}
    assert offline.blocked == [], offline.blocked
    assert offline.errors == [], offline.errors


def test_citizen_pages_accessible_elderly_and_phone_book_remind_cancel(
    guizhou: str, offline_context: Any, make_user: Any
) -> None:
    from playwright.sync_api import expect

    from citizen_portal.models import PolicyDocument
    from halls import actions
    from halls.models import Appointment, AppointmentStatus, Hall, HallType, QueueTicket
    from notifications.models import OutboxMessage
    from services.models import Item

    citizen = make_user(phone="13900004321", real_name="王芳")
    hall = Hall.objects.filter(type=HallType.COMPREHENSIVE, level="city", region__adcode__startswith="5203").first()
    item = Item.objects.filter(is_active=True, proxy=True).order_by("code").first()
    policy = PolicyDocument.objects.order_by("pk").first()
    base = guizhou

    with time_machine.travel(TUESDAY.replace(tzinfo=timezone.get_current_timezone()), tick=True):
        offline = offline_context()
        page = offline.page
        # Anonymous pages
        public = [
            "/",
            "/items/?q=hkb",
            f"/items/{item.code}/",
            "/zones/business/",
            f"/policies/{policy.pk}/",
            "/query/case/",
            "/query/verify/",
            "/query/queue/?region=520300",
            "/help/",
            "/help/privacy/",
            "/sites/522600/",
        ]
        for url in public:
            check_page(page, base + url)

        # Signed in: book an appointment through the pages.
        offline.context.add_cookies([login_cookie(citizen, base)])
        page.goto(f"{base}/book/?site=520300")
        first = page.locator("ol.halls li").first
        expect(first).to_contain_text(hall.name)  # nearest first: the site's own centre
        bad = serious_violations(page)
        assert not bad, bad
        first.locator("a").click()
        page.select_option("#day", WEDNESDAY.isoformat())
        page.click("#day + button")
        check_page(page, page.url, label="book hall")
        page.locator("input[name=slot]:not([disabled])").first.check()
        page.select_option("#item", item.code)
        page.click("#book-submit")
        page.wait_for_url("**/my/appointments/")
        expect(page.locator(".messages")).to_contain_text("预约成功")
        appointment = Appointment.objects.get(applicant=citizen)
        assert appointment.date == WEDNESDAY and appointment.item_id == item.pk
        bad = serious_violations(page)
        assert not bad, bad

        # The evening before, the beat sends the reminder (through the outbox).
        with time_machine.travel(dt.datetime(2026, 6, 9, 18, 0, tzinfo=timezone.get_current_timezone())):
            assert actions.queue_appointment_reminders() == 1
        sms = OutboxMessage.objects.get(template="appointment_reminder")
        assert sms.to.endswith("13900004321") and hall.name in sms.body and item.name in sms.body

        # Cancel from 我的预约.
        page.click(f"#appointment-{appointment.pk} button")
        expect(page.locator(f"#appointment-{appointment.pk} .status")).to_have_text("已取消")
        appointment.refresh_from_db()
        assert appointment.status == AppointmentStatus.CANCELLED

        # A remote ticket and its live position.
        page.goto(f"{base}/book/{hall.code}/")
        page.click("#take-ticket")
        page.wait_for_url("**/my/tickets/*/")
        expect(page.locator("#ticket-position")).to_have_text("1")
        bad = serious_violations(page)
        assert not bad, bad
        ticket = QueueTicket.objects.get(applicant=citizen)
        # Somebody with priority (帮办代办 is staff-issued) would move ahead; a plain ticket behind
        # does not. The page follows the API without a reload.
        actions.issue_ticket(hall=hall, category=ticket.category, actor=None)
        expect(page.locator("#ticket-position")).to_have_text("1", timeout=15_000)

        signed_in = ["/my/appointments/", f"/my/tickets/{ticket.pk}/", "/my/cases/", "/my/licences/", "/book/"]
        for url in signed_in:
            check_page(page, base + url)

        # 长辈版: switched on from the page itself; every page again, larger type, the hotline.
        page.goto(f"{base}/")
        page.click("#elderly-toggle")
        page.wait_for_load_state("load")
        assert page.locator("html").get_attribute("data-elderly") == "on"
        size = page.evaluate("() => parseFloat(getComputedStyle(document.body).fontSize)")
        assert size >= 19  # 125 % of 16 px
        expect(page.locator(".hotline")).to_be_visible()
        for url in public + signed_in:
            check_page(page, base + url, label=f"elderly {url}")

        # A 375 px wide phone: no sideways scrolling, in both modes.
        phone = offline_context()
        phone.page.set_viewport_size({"width": 375, "height": 740})
        phone.context.add_cookies([login_cookie(citizen, base)])
        for url in public + signed_in:
            phone.page.goto(base + url)
            assert fits_phone(phone.page), url
        phone.context.add_cookies([{"name": "tb_elderly", "value": "1", "url": base}])
        for url in public + signed_in:
            phone.page.goto(base + url)
            assert fits_phone(phone.page), f"elderly {url}"
            bad = serious_violations(phone.page)
            assert not bad, f"phone elderly {url}: {bad}"

    assert offline.blocked == [] and phone.blocked == [], offline.blocked + phone.blocked
    assert offline.errors == [] and phone.errors == [], offline.errors + phone.errors


def test_zone_query_finds_case_by_number_and_id_live(
    asgi_server: str, offline_context: Any, settings: Any, tmp_path: Path
) -> None:
    from playwright.sync_api import expect

    from tests.fixtures.workflows import build_world
    from workflows import actions

    settings.CITIZEN_TRACK_POLL_SECONDS = 1
    settings.MEDIA_ROOT = str(tmp_path / "media")
    wf = build_world()
    case = wf.receive()
    offline = offline_context()
    page = offline.page
    page.goto(f"{asgi_server}/query/case/")
    page.fill("#number", case.number)
    page.fill("#id_number", wf.applicant_id)
    page.click("form.card button[type=submit]")
    expect(page.locator("#case-state")).to_have_text("已收件")
    bad = serious_violations(page)
    assert not bad, bad
    assert wf.applicant_id not in page.content()
    # The case moves at the authority: the open page follows without a reload.
    page.evaluate("window.__notReloaded = true")
    for req in case.item.materials.filter(required=True):
        wf.upload(case, req.code)
    case.refresh_from_db()
    actions.TRANSITION_ACTIONS["verify"](
        case=case, actor=wf.users["zy_clerk"], id_checked=True, originals_sighted=["id_card"]
    )
    expect(page.locator("#case-state")).not_to_have_text("已收件", timeout=15_000)
    assert page.evaluate("window.__notReloaded") is True

    # A wrong ID finds nothing.
    page.goto(f"{asgi_server}/query/case/")
    page.fill("#number", case.number)
    page.fill("#id_number", "110101199003076578")
    page.click("form.card button[type=submit]")
    expect(page.locator(".alert")).to_contain_text("未找到")

    # The citizen's own pages (applied online) pass axe too, also in elderly mode.
    draft = wf.online(item="proxy")
    offline.context.add_cookies([login_cookie(wf.users["citizen"], asgi_server)])
    own = ["/my/cases/", f"/my/cases/{draft.number}/", f"/my/cases/{case.number}/", "/my/licences/", "/apply/GZ-0001/"]
    for elderly in ("0", "1"):
        offline.context.add_cookies([{"name": "tb_elderly", "value": elderly, "url": asgi_server}])
        for url in own:
            resp = page.goto(asgi_server + url)
            if resp is not None and resp.status == 404:
                continue  # a case received at a window before the account existed is not "mine"
            bad = serious_violations(page)
            assert not bad, f"elderly={elderly} {url}: {bad}"
    assert offline.blocked == [], offline.blocked

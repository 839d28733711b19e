"""In a real browser, offline: a citizen rates a delivered case 1 star; the hall supervisor replies,
records the callback and closes the rectification; the supervision and public pages follow."""

from __future__ import annotations

from typing import Any

import pytest

pytestmark = pytest.mark.browser


def login(offline: Any, base_url: str, user: Any) -> None:
    """Log ``user`` in by handing the browser a real session cookie (the login pages are tested
    by accounts; here the point is what the pages do)."""
    from django.conf import settings
    from django.test import Client

    client = Client()
    client.force_login(user)
    cookie = client.cookies[settings.SESSION_COOKIE_NAME]
    offline.context.add_cookies([{"name": settings.SESSION_COOKIE_NAME, "value": cookie.value, "url": base_url}])


def test_bad_rating_to_closed_rectification(asgi_server, offline_context, wf, deliver):
    from playwright.sync_api import expect

    from ratings.models import Rectification

    case = deliver()
    base = asgi_server

    # Before: nothing published.
    public = offline_context()
    public.page.goto(f"{base}/ratings/public/")
    expect(public.page.locator("#public-count")).to_have_text("0")

    # The citizen rates the delivered case 1 star (非常不满意).
    citizen = offline_context()
    login(citizen, base, wf.users["citizen"])
    page = citizen.page
    page.goto(f"{base}/ratings/cases/{case.number}/")
    page.locator('input[name="level"][value="1"]').check()
    page.locator('input[name="ind_efficiency"][value="1"]').check()
    page.fill("#comment", "等了两个小时，窗口只开了一个")
    page.click("#rate-form button[type=submit]")
    expect(page.locator("#my-rating")).to_contain_text("非常不满意")
    expect(page.locator("#my-rating")).to_contain_text("待整改")

    # The supervision page shows one bad rating waiting for an answer.
    sup = offline_context()
    login(sup, base, wf.users["hall_sup_zy"])
    spage = sup.page
    spage.goto(f"{base}/supervision/ratings/")
    expect(spage.locator("#kpi-count")).to_have_text("1")
    expect(spage.locator("#kpi-bad")).to_have_text("1")
    expect(spage.locator("#kpi-unanswered")).to_have_text("1")
    expect(spage.locator("#kpi-ontime")).to_have_text("—")
    assert spage.locator("svg.chart").count() == 1

    # The hall supervisor replies, records the callback (回访) and closes it.
    spage.click("#bad-ratings a.state")
    expect(spage.locator("#rect-state")).to_have_text("待整改")
    spage.fill("#reply", "已增开高峰时段窗口并对窗口人员进行培训")
    spage.click("#form-reply button")
    expect(spage.locator("#rect-state")).to_have_text("已答复")
    spage.select_option("#result", "satisfied")
    spage.fill("#note", "电话回访，群众表示满意")
    spage.click("#form-record_callback button")
    expect(spage.locator("#rect-state")).to_have_text("已回访")
    spage.click("#form-close button")
    expect(spage.locator("#rect-state")).to_have_text("已办结")
    rect = Rectification.objects.get(rating__case=case)
    assert rect.state == "closed" and rect.replied_on_time is True and rect.callback_result == "satisfied"

    # The supervision page changed: answered on time, nothing waiting.
    spage.goto(f"{base}/supervision/ratings/")
    expect(spage.locator("#kpi-ontime")).to_have_text("100.0%")
    expect(spage.locator("#kpi-unanswered")).to_have_text("0")
    expect(spage.locator("#bad-ratings")).to_contain_text("已办结")

    # The citizen sees the answer; the public page shows the (anonymous) figures.
    page.reload()
    expect(page.locator("#my-rating")).to_contain_text("已增开高峰时段窗口")
    public.page.reload()
    expect(public.page.locator("#public-count")).to_have_text("1")
    expect(public.page.locator("#public-bad")).to_have_text("1")
    expect(public.page.locator("#public-rate")).to_have_text("0.0%")
    expect(public.page.locator("#public-cities")).to_contain_text("遵义市")
    assert "张三" not in public.page.content()

    for offline in (public, citizen, sup):
        assert offline.blocked == [], offline.blocked
        assert offline.errors == [], offline.errors

"""A supervisor's day in chromium, offline: sign in, land on supervision, reach it again from the
header of any page, open a bad rating of an online case (owned by the competent department, its
post named) and read the rectification's record in words; the public page is linked from home."""

from __future__ import annotations

import pytest

from tests.fixtures.workflows import STRONG_PASSWORD

pytestmark = pytest.mark.browser


def test_supervisor_reaches_supervision_from_the_header(asgi_server, offline_context, wf, online_delivered, screenshot):
    from playwright.sync_api import expect

    from ratings import actions
    from ratings.actions import RatingInput

    rating = actions.rate_case(
        case=online_delivered(), actor=wf.users["citizen"], data=RatingInput(level=1, comment="网上审批太慢")
    )
    rect = rating.rectification
    actions.transition_rectification(
        rectification=rect, actor=wf.users["yy_approver"], name="start", body={"measures": "核查审批环节"}
    )

    offline = offline_context()
    page = offline.page
    base = asgi_server

    # Home → the public disclosure page, before signing in.
    page.goto(f"{base}/")
    page.click("#home-public-ratings")
    expect(page).to_have_url(f"{base}/ratings/public/")
    screenshot(page, "01-public-ratings")

    # Sign in as the city supervisor with the real login form: supervision is where they land.
    page.goto(f"{base}/accounts/login/")
    page.fill("#id_username", "sup_guiyang")
    page.fill("#id_password", STRONG_PASSWORD)
    page.click("form button[type=submit]")
    expect(page).to_have_url(f"{base}/supervision/ratings/")
    screenshot(page, "02-landing-supervision")

    # From any other page, the header leads back to supervision.
    page.goto(f"{base}/workbench/cases/")
    header_link = page.locator("header #nav-supervision")
    expect(header_link).to_be_visible()
    screenshot(page, "03-case-search-with-header-link")
    header_link.click()
    expect(page).to_have_url(f"{base}/supervision/ratings/")
    expect(page.locator("#bad-ratings")).to_contain_text("云岩区市场监管局")

    # The bad rating of the online case: owned by the department, post and person named.
    page.goto(f"{base}/supervision/rectifications/{rect.pk}/")
    expect(page.locator("#rect-owner")).to_have_text("云岩区市场监管局")
    expect(page.locator("#rect-post")).to_have_text("云岩区市场监管局 审批岗")
    expect(page.locator("#rect-assignee")).to_have_text("云岩审批员")
    log = page.locator("table").last
    expect(log).to_contain_text("待整改 → 整改中")
    assert "rectifying" not in log.inner_text()
    screenshot(page, "04-rectification-owned-by-department", full_page=True)

    assert offline.blocked == [], offline.blocked[:5]
    assert offline.errors == [], offline.errors


def test_department_approver_finds_its_rectifications_in_the_header(
    asgi_server, offline_context, wf, online_delivered, screenshot
):
    from playwright.sync_api import expect

    from ratings import actions
    from ratings.actions import RatingInput

    rect = actions.rate_case(
        case=online_delivered(), actor=wf.users["citizen"], data=RatingInput(level=2)
    ).rectification
    offline = offline_context()
    page = offline.page
    page.goto(f"{asgi_server}/accounts/login/")
    page.fill("#id_username", "yy_approver")
    page.fill("#id_password", STRONG_PASSWORD)
    page.click("form button[type=submit]")
    expect(page).to_have_url(f"{asgi_server}/workbench/approver/")
    page.click("header #nav-rectifications")
    expect(page.locator(f'#rectifications a[href="/supervision/rectifications/{rect.pk}/"]')).to_be_visible()
    screenshot(page, "approver-rectifications")
    assert offline.errors == [], offline.errors

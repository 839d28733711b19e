"""A proxy case from the Zunyi clerk's page to the Guiyang approver's page and back to delivery,
driven in Debian's chromium (Playwright) against a live server."""

from __future__ import annotations

from pathlib import Path

import pytest

from tests.fixtures.workflows import PDF, PNG
from tests.workflows.test_browser_workbench import pick

CHROMIUM = Path("/usr/bin/chromium")

pytestmark = [
    pytest.mark.browser,
]


def page_as(browser, live_server, user):
    """A browser page logged in as ``user`` (session cookie from Django's test client)."""
    from django.conf import settings
    from django.test import Client

    client = Client()
    client.force_login(user)
    context = browser.new_context(locale="zh-CN")
    context.add_cookies(
        [
            {
                "name": settings.SESSION_COOKIE_NAME,
                "value": client.cookies[settings.SESSION_COOKIE_NAME].value,
                "url": live_server.url,
            }
        ]
    )
    blocked: list[str] = []

    def guard(route):
        url = route.request.url
        if url.startswith(live_server.url):
            route.continue_()
        else:
            blocked.append(url)
            route.abort()

    context.route("**/*", guard)
    page = context.new_page()
    # Irreversible steps (transfer, approve, hand-over) ask for confirmation: the user says yes.
    page.on("dialog", lambda dialog: dialog.accept())
    page.blocked = blocked  # type: ignore[attr-defined]
    return page


def test_proxy_case_from_zunyi_to_guiyang_and_back(browser, live_server, transactional_db, tmp_path, settings):
    from tests.fixtures.workflows import build_world
    from workflows.models import Case

    settings.ALLOWED_HOSTS = ["*"]
    wf = build_world()
    id_card = tmp_path / "id.png"
    id_card.write_bytes(PNG)
    form = tmp_path / "form.pdf"
    form.write_bytes(PDF)

    # 遵义 window: receive for 云岩区, scan materials, verify, transfer
    clerk = page_as(browser, live_server, wf.users["zy_clerk"])
    clerk.goto(f"{live_server.url}/workbench/clerk/")
    # The receive form's typeahead pickers (items by words, jurisdiction by name) and the facts the
    # item's result certifies.
    pick(clerk, "item-search", "食品", "食品经营许可")
    pick(clerk, "jurisdiction-search", "云岩", "云岩区")
    clerk.fill("input[name=fact_premises]", "贵阳市云岩区中华北路1号")
    clerk.fill("textarea[name=fact_scope]", "预包装食品销售")
    clerk.fill("input[name=name]", "张三")
    clerk.fill("input[name=id_number]", wf.applicant_id)
    clerk.fill("input[name=phone]", "13800138000")
    clerk.click("#receive-form button[type=submit]")
    clerk.wait_for_url("**/workbench/cases/*/")
    number = Case.objects.get().number
    assert clerk.inner_text("#case-state") == "已收件"
    for code, path in (("id_card", id_card), ("form", form)):
        clerk.select_option("form.upload select[name=requirement]", code)
        clerk.set_input_files("form.upload input[type=file]", str(path))
        clerk.click("form.upload button")
    assert Case.objects.get().materials.count() == 2
    clerk.check("form.action-verify input[name=id_checked]")
    clerk.check("form.action-verify input[value=id_card]")
    clerk.click("form.action-verify button")
    assert clerk.inner_text("#case-state") == "已核验"
    clerk.click("form.action-transfer button")
    assert clerk.inner_text("#case-state") == "已流转"
    assert clerk.locator("form.action-accept").count() == 0  # not the clerk's step

    # 贵阳 (云岩区市场监管局): the case is in the queue with its clock colour; accept, review, approve
    approver = page_as(browser, live_server, wf.users["yy_approver"])
    approver.goto(f"{live_server.url}/workbench/approver/")
    row = approver.locator("tr.sla-green", has_text=number)
    assert row.count() == 1
    approver.click(f"text={number}")
    for name, state in (("accept", "已受理"), ("start_review", "审查中"), ("approve", "待打证")):
        approver.click(f"form.action-{name} button")
        assert approver.inner_text("#case-state") == state

    # back in 遵义: print at the issuing window, hand over after checking the collector's ID
    printer = page_as(browser, live_server, wf.users["zy_printer"])
    printer.goto(f"{live_server.url}/workbench/clerk/")
    printer.click(f"#to_print >> text={number}")
    printer.click("form.action-print button")
    assert printer.inner_text("#case-state") == "待领取"
    clerk.goto(f"{live_server.url}/workbench/cases/{number}/")
    clerk.check("form.action-hand_over input[name=id_checked]")
    clerk.click("form.action-hand_over button")
    assert clerk.inner_text("#case-state") == "已送达"
    assert Case.objects.get().state == "delivered"
    for page in (clerk, approver, printer):
        assert page.blocked == []  # nothing requested outside the server (no CDN)

"""A citizen in Debian's chromium (Playwright) against a live server: logs in by SMS code, applies
online, uploads a PDF, submits, finds the case in 我的办件, and watches it move at the authority
without reloading the page. Every non-loopback request is blocked and must not happen."""

from __future__ import annotations

from pathlib import Path
from typing import Any
from urllib.parse import urlparse

import pytest

from tests.fixtures.accounts import last_code
from tests.fixtures.workflows import PDF, PNG, id_number

CHROMIUM = Path("/usr/bin/chromium")
LOOPBACK = {"127.0.0.1", "localhost", "::1"}

pytestmark = [
    pytest.mark.browser,
]


def offline_page(browser: Any) -> tuple[Any, list[str]]:
    context = browser.new_context(locale="zh-CN")
    blocked: list[str] = []

    def guard(route: Any) -> None:
        if (urlparse(route.request.url).hostname or "") in LOOPBACK:
            route.continue_()
        else:
            blocked.append(route.request.url)
            route.abort()

    context.route("**/*", guard)
    return context.new_page(), blocked


def test_citizen_applies_submits_and_tracks_live(
    browser: Any, live_server: Any, transactional_db: None, tmp_path: Path, settings: Any
) -> None:
    from playwright.sync_api import expect

    from tests.fixtures.workflows import build_world
    from workflows import actions
    from workflows.models import Case

    settings.ALLOWED_HOSTS = ["*"]
    settings.CITIZEN_TRACK_POLL_SECONDS = 1  # the page polls every second instead of every 10
    settings.MEDIA_ROOT = str(tmp_path / "media")
    wf = build_world()
    pdf = tmp_path / "申请书.pdf"
    pdf.write_bytes(PDF)
    png = tmp_path / "身份证.png"
    png.write_bytes(PNG)
    base = live_server.url
    page, blocked = offline_page(browser)

    # The guide of a proxy-capable online item → 在线申请 → SMS login first
    page.goto(f"{base}/items/GZ-0001/")
    page.click("#apply-online")
    page.wait_for_url("**/accounts/sms-login/?next=/apply/GZ-0001/")
    phone = "13700001111"
    page.fill("#phone", phone)
    page.click("button[value=send]")
    expect(page.get_by_role("status")).to_contain_text("验证码已发送")
    page.fill("#phone", phone)
    page.fill("#code", last_code(phone))
    page.fill("#name", "王五")
    page.fill("#id_number", id_number("52010319920202123"))  # registered in 云岩区
    page.click("button[value=verify]")
    page.wait_for_url("**/apply/GZ-0001/")

    # The form: 云岩区 is preselected from the ID; choose pickup in 遵义 (halls load without reload)
    assert page.locator("#jurisdiction").input_value() == "520103"
    assert page.locator("#delivery_hall").input_value() == "H-GY"
    assert page.locator("#find-halls").count() == 0  # JavaScript took over the hall search
    page.select_option("#hall_region", "520302")
    expect(page.locator("#delivery_hall option")).to_have_count(1)
    expect(page.locator("#delivery_hall")).to_have_value("H-ZY")
    page.check("input[name=delivery_method][value=mail]")
    expect(page.locator("#mail-fields")).to_be_visible()
    expect(page.locator("#pickup-fields")).to_be_hidden()
    page.check("input[name=delivery_method][value=pickup]")
    page.click("#create-draft")
    page.wait_for_url("**/my/cases/*/")
    case = Case.objects.get(applicant__phone=phone)
    assert case.delivery_hall_id == wf.halls["zunyi"].pk
    expect(page.locator("#case-state")).to_have_text("草稿")

    # Upload the materials (one PDF, one PNG) and submit
    for code, path in (("form", pdf), ("id_card", png)):
        page.set_input_files(f"form.upload-{code} input[type=file]", str(path))
        page.click(f"form.upload-{code} button")
        page.wait_for_load_state()
    expect(page.locator("#req-form")).to_contain_text("申请书.pdf")
    page.click("form.action-submit button")
    expect(page.locator("#case-state")).to_have_text("已提交")

    # 我的办件 lists it
    page.goto(f"{base}/my/cases/")
    row = page.locator(f"tr[data-number='{case.number}']")
    expect(row).to_contain_text("已提交")
    expect(row).to_contain_text("食品经营许可")
    row.locator("a").click()
    page.wait_for_url(f"**/my/cases/{case.number}/")

    # The authority moves the case: the open page follows without a reload
    page.evaluate("window.__notReloaded = true")
    case.refresh_from_db()
    actions.accept(case=case, actor=wf.users["yy_approver"])
    expect(page.locator("#case-state")).to_have_text("已受理", timeout=15_000)
    expect(page.locator("#timeline")).to_contain_text("受理")
    expect(page.locator("#live-note")).to_contain_text("已受理")
    assert page.evaluate("window.__notReloaded") is True

    # Between polls the status endpoint answers 304 (nothing changed) — seen by the page too
    statuses: list[int] = []
    page.on("response", lambda r: statuses.append(r.status) if r.url.endswith("status.json") else None)
    page.wait_for_timeout(2_500)
    assert statuses and set(statuses) == {304}

    blocked_before = list(blocked)
    assert blocked_before == [], blocked_before
    page.context.close()


def test_correction_notice_appears_live(
    browser: Any, live_server: Any, transactional_db: None, tmp_path: Path, settings: Any
) -> None:
    """The one-time correction notice shows up on an open page, with every problem listed."""
    from django.test import Client
    from playwright.sync_api import expect

    from tests.fixtures.workflows import build_world
    from workflows import actions
    from workflows.actions import CorrectionItem

    settings.ALLOWED_HOSTS = ["*"]
    settings.CITIZEN_TRACK_POLL_SECONDS = 1
    settings.MEDIA_ROOT = str(tmp_path / "media")
    wf = build_world()
    case = wf.online()
    wf.upload_required(case)
    case = actions.submit(case=case, actor=wf.users["citizen"])

    client = Client()
    client.force_login(wf.users["citizen"])
    page, blocked = offline_page(browser)
    session = client.cookies[settings.SESSION_COOKIE_NAME].value
    page.context.add_cookies([{"name": settings.SESSION_COOKIE_NAME, "value": session, "url": live_server.url}])
    page.goto(f"{live_server.url}/my/cases/{case.number}/")
    expect(page.locator("#case-state")).to_have_text("已提交")
    expect(page.locator("#notice")).to_be_hidden()
    actions.request_correction(
        case=case,
        actor=wf.users["yy_approver"],
        items=[CorrectionItem("id_card", "照片不清晰"), CorrectionItem(None, "申请书缺少签名")],
    )
    expect(page.locator("#notice")).to_be_visible(timeout=15_000)
    expect(page.locator("#notice")).to_contain_text("照片不清晰")
    expect(page.locator("#notice")).to_contain_text("申请书缺少签名")
    expect(page.locator("#case-state")).to_have_text("待补正")
    # the materials section came back editable: replace the photo and resubmit
    page.set_input_files("form.upload-id_card input[type=file]", str(_write(tmp_path / "new.png", PNG)))
    page.click("form.upload-id_card button")
    page.fill("form.action-resubmit input[name=note_2]", "已签名并重新上传申请书")
    page.click("form.action-resubmit button")
    expect(page.locator("#case-state")).to_have_text("已提交")
    assert blocked == []
    page.context.close()


def _write(path: Path, data: bytes) -> Path:
    path.write_bytes(data)
    return path

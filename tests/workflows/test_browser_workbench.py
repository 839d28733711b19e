"""A clerk's and an approver's day in chromium, offline: search, receive with the typeahead
pickers, the next-step panel, confirmations, print with the blank-stock serial and the QR that
opens the verify page, 代领 hand-over; the approver's queue, search and decision."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest

from tests.fixtures.workflows import PDF, PNG, id_number

pytestmark = pytest.mark.browser


def login(offline: Any, base_url: str, user: Any) -> None:
    from django.conf import settings
    from django.test import Client

    client = Client()
    client.force_login(user)
    cookie = client.cookies[settings.SESSION_COOKIE_NAME]
    offline.context.add_cookies([{"name": settings.SESSION_COOKIE_NAME, "value": cookie.value, "url": base_url}])


def accept_dialogs(offline: Any) -> None:
    """From now on answer 确定 to confirmations (the fixture's default is 取消)."""
    offline.page.remove_listener("dialog", offline._dialog)

    def _accept(dialog: Any) -> None:
        offline.dialogs.append(dialog.message)
        dialog.accept()

    offline.page.on("dialog", _accept)


def pick(page: Any, input_id: str, text: str, expected_first: str) -> None:
    from playwright.sync_api import expect

    page.fill(f"#{input_id}", "")
    page.type(f"#{input_id}", text, delay=20)
    options = page.locator(f"#{input_id} ~ .picker-list li")
    expect(options.first).to_contain_text(expected_first)
    options.first.click()


def test_clerk_day_search_receive_with_pickers_print_and_proxy_hand_over(
    asgi_server, offline_context, wf, drive, tmp_path: Path, screenshot, settings
):
    from playwright.sync_api import expect

    from licences.actions import load_blank_stock
    from tests.licences.test_delivery import scan_printed_qr
    from workflows.models import Case

    base = asgi_server
    settings.PUBLIC_BASE_URL = base  # the QR points at this server (https in production)
    earlier = wf.receive()  # yesterday's case, to search for
    clerk = offline_context()
    login(clerk, base, wf.users["zy_clerk"])
    page = clerk.page

    # The workbench: queues, the console of my hall, search.
    page.goto(f"{base}/workbench/clerk/")
    expect(page.locator("a.console-link")).to_have_attribute("href", "/halls/H-ZY/console/")
    page.fill("#case-search input[name=q]", "张三")
    page.click("#case-search button[type=submit]")
    expect(page.locator(f'a[href="/workbench/cases/{earlier.number}/"]').first).to_be_visible()
    screenshot(page, "01-clerk-search", full_page=True)

    # Receive with the pickers: items by words, jurisdiction by name, delivery hall nearest first.
    page.goto(f"{base}/workbench/clerk/")
    pick(page, "item-search", "食品", "食品经营许可")
    expect(page.locator("#facts-fields")).to_be_visible()
    pick(page, "jurisdiction-search", "云岩", "云岩区")
    page.click("#delivery-hall-search")
    halls = page.locator("#delivery-hall-search ~ .picker-list li")
    expect(halls.first).to_contain_text("遵义市红花岗区政务服务中心")  # nearest: this hall
    expect(halls.first).to_contain_text("0.0 km")
    expect(halls.nth(1)).to_contain_text("贵阳市云岩区政务服务中心")
    halls.first.click()
    page.fill("input[name=name]", "王五")
    page.fill("input[name=id_number]", wf.applicant_id)
    page.fill("input[name=phone]", "13800138000")
    page.fill("input[name=fact_premises]", "遵义市红花岗区丁字口1号")
    page.fill("textarea[name=fact_scope]", "预包装食品销售")
    screenshot(page, "02-receive-form", full_page=True)
    page.click("#receive-form button[type=submit]")
    expect(page.locator("#case-state")).to_have_text("已收件")
    case = Case.objects.exclude(pk=earlier.pk).get()
    assert case.item.code == "GZ-0001" and case.jurisdiction.adcode == "520103"
    assert case.form_data == {"premises": "遵义市红花岗区丁字口1号", "scope": "预包装食品销售"}

    # The next step says what is missing; upload the scans, then the checklist is green.
    expect(page.locator("#next-step")).to_contain_text("☐ 材料：身份证明")
    for code, content, name in (("id_card", PNG, "id.png"), ("form", PDF, "form.pdf")):
        path = tmp_path / name
        path.write_bytes(content)
        page.select_option("form.upload select[name=requirement]", code)
        page.set_input_files("form.upload input[type=file]", str(path))
        page.click("form.upload button[type=submit]")
        expect(page.locator(".messages")).to_contain_text("材料已上传")
    expect(page.locator("#next-step")).to_contain_text("✔ 材料：申请书")
    screenshot(page, "03-next-step", full_page=True)

    # 撤回 asks first; answering 取消 leaves the case as it was.
    page.fill("#action-withdraw input[name=reason]", "申请人改日再来")
    page.click("#action-withdraw button[type=submit]")
    assert clerk.dialogs and "撤回" in clerk.dialogs[-1]
    expect(page.locator("#case-state")).to_have_text("已收件")
    assert Case.objects.get(pk=case.pk).state == "received"

    accept_dialogs(clerk)
    page.check("#action-verify input[name=id_checked]")
    page.check('#action-verify input[name=originals_sighted][value="id_card"]')
    page.click("#action-verify button[type=submit]")
    expect(page.locator("#case-state")).to_have_text("已核验")
    page.click("#action-transfer button[type=submit]")
    expect(page.locator("#case-state")).to_have_text("已流转")

    # Transferred: gone from the window queues, still in my in-progress list.
    page.goto(f"{base}/workbench/clerk/")
    expect(page.locator(f'#mine_open a[href="/workbench/cases/{case.number}/"]')).to_be_visible()

    # The authority decides (its own journey is below); the result comes back to print here.
    load_blank_stock(
        hall=wf.halls["zunyi"], result_type="licence", serials=["GZ-A-0001", "GZ-A-0002"], actor=wf.users["hall_sup_zy"]
    )
    case = drive(Case.objects.get(pk=case.pk), "approved")
    assert case.state == "print_queued"
    result = case.results.get()

    printer = offline_context()
    login(printer, base, wf.users["zy_printer"])
    accept_dialogs(printer)
    ppage = printer.page
    ppage.goto(f"{base}/workbench/cases/{case.number}/")
    expect(ppage.locator("#next-step")).to_contain_text("打证")
    pdf_link = ppage.locator("#action-print a.open-pdf")
    expect(pdf_link).to_have_attribute("target", "_blank")
    pdf = ppage.request.get(base + pdf_link.get_attribute("href"))
    assert pdf.ok and pdf.headers["content-type"] == "application/pdf"
    # What a phone camera reads off the printed sheet opens the verify page.
    scanned = scan_printed_qr(pdf.body())
    assert scanned.startswith(f"{base}/verify/{result.pk}/?p=TB1.")
    verify = offline_context()
    verify.page.goto(scanned)
    expect(verify.page.locator(".verdict")).to_contain_text("真实有效")
    screenshot(verify.page, "04-verify-page-from-qr", full_page=True)

    ppage.fill(f"input[name=serial_{result.number}]", "GZ-A-0002")
    screenshot(ppage, "05-print-panel", full_page=True)
    ppage.click("#action-print button[type=submit]")
    expect(ppage.locator("#case-state")).to_have_text("待领取")

    # 代领: the collector's fields appear only when someone else collects.
    expect(ppage.locator("#proxy-fields")).to_be_hidden()
    ppage.check("#action-hand_over input[name=id_checked]")
    ppage.check("#action-hand_over input[name=by_proxy]")
    expect(ppage.locator("#proxy-fields")).to_be_visible()
    proxy_id = id_number("52030219850505123")
    ppage.fill("#action-hand_over input[name=collector_id_number]", proxy_id)
    ppage.fill("#action-hand_over input[name=collector_name]", "李四")
    ppage.fill("#action-hand_over input[name=authorisation]", "申请人王五签字的授权委托书")
    ppage.check("#action-hand_over input[name=authorisation_checked]")
    screenshot(ppage, "06-proxy-hand-over", full_page=True)
    ppage.click("#action-hand_over button[type=submit]")
    expect(ppage.locator("#case-state")).to_have_text("已送达")
    expect(ppage.locator("#collection")).to_contain_text("代领：李四")
    assert proxy_id not in ppage.content()
    screenshot(ppage, "07-delivered", full_page=True)
    event = Case.objects.get(pk=case.pk).events.get(transition="print")
    assert event.payload["blank_stock"] == {str(result.pk): "GZ-A-0002"}
    for offline in (clerk, printer, verify):
        assert offline.blocked == [] and offline.errors == [], (offline.blocked, offline.errors)


def test_approver_day_queue_search_next_step_and_decision(asgi_server, offline_context, wf, drive, screenshot):
    from playwright.sync_api import expect

    from workflows.models import Case

    base = asgi_server
    urgent = drive(wf.receive(), "transferred")
    other = drive(wf.receive(), "transferred")
    Case.objects.filter(pk=urgent.pk).update(sla_status="red")

    approver = offline_context()
    login(approver, base, wf.users["yy_approver"])
    page = approver.page
    page.goto(f"{base}/workbench/approver/")
    expect(page.locator(f'#queue tr.sla-red a[href="/workbench/cases/{urgent.number}/"]')).to_be_visible()
    screenshot(page, "01-approver-queue", full_page=True)
    page.click('.filters a[href="?sla=red"]')
    expect(page.locator(f'#queue a[href="/workbench/cases/{other.number}/"]')).to_have_count(0)
    page.fill("#case-search input[name=q]", urgent.number)
    page.click("#case-search button[type=submit]")
    expect(page.locator(f'#queue a[href="/workbench/cases/{urgent.number}/"]')).to_be_visible()

    page.click(f'#queue a[href="/workbench/cases/{urgent.number}/"]')
    expect(page.locator("#next-step")).to_contain_text("受理")
    expect(page.locator("#next-step")).to_contain_text("✔ 材料：身份证明")
    screenshot(page, "02-approver-next-step", full_page=True)
    page.click("#action-accept button[type=submit]")
    expect(page.locator("#case-state")).to_have_text("已受理")
    page.click("#action-start_review button[type=submit]")
    expect(page.locator("#case-state")).to_have_text("审查中")
    expect(page.locator("#next-step")).to_contain_text("作出决定")

    # 准予 cannot be taken back: 取消 leaves the case under review.
    page.click("#action-approve button[type=submit]")
    assert approver.dialogs and "准予" in approver.dialogs[-1]
    expect(page.locator("#case-state")).to_have_text("审查中")
    accept_dialogs(approver)
    page.click("#action-approve button[type=submit]")
    expect(page.locator("#case-state")).to_have_text("待打证")
    screenshot(page, "03-approved", full_page=True)

    page.goto(f"{base}/workbench/approver/")
    expect(page.locator(f'#mine_open a[href="/workbench/cases/{urgent.number}/"]')).to_be_visible()
    assert approver.blocked == [] and approver.errors == [], (approver.blocked, approver.errors)

"""A working day at the window and at the authority: search, personal lists, pickers, the next
step panel, answering a correction notice, print with the blank-stock serial, 代领."""

from __future__ import annotations

from django.test import Client

from halls.models import Hall, Window
from tests.fixtures.workflows import id_number
from workflows import actions
from workflows.actions import CorrectionItem
from workflows.models import Case


def login(user) -> Client:
    c = Client()
    c.force_login(user)
    return c


def listed(response, number: str) -> bool:
    return f'href="/workbench/cases/{number}/"' in response.content.decode()


def test_search_by_number_name_and_full_id_number_within_scope(wf, drive):
    mine = wf.receive()
    c = login(wf.users["zy_clerk"])
    by_number = c.get("/workbench/clerk/", {"q": mine.number})
    assert listed(by_number, mine.number) and "收件（全省通办）" not in by_number.content.decode()
    assert listed(c.get("/workbench/clerk/", {"q": "张三"}), mine.number)
    assert listed(c.get("/workbench/cases/", {"q": wf.applicant_id}), mine.number)
    assert listed(c.get("/workbench/cases/", {"q": mine.number[:12]}), mine.number)  # the start of a number
    # a partial ID number finds nothing: no fishing over identities
    assert not listed(c.get("/workbench/cases/", {"q": wf.applicant_id[:10]}), mine.number)
    assert not listed(c.get("/workbench/cases/", {"q": "李四"}), mine.number)
    # state and SLA filters
    assert listed(c.get("/workbench/cases/", {"state": "received"}), mine.number)
    assert not listed(c.get("/workbench/cases/", {"state": "transferred"}), mine.number)
    assert not listed(c.get("/workbench/cases/", {"sla": "red"}), mine.number)
    # another hall's clerk finds nothing of Zunyi's
    assert not listed(login(wf.users["gy_clerk"]).get("/workbench/cases/", {"q": mine.number}), mine.number)


def test_my_in_progress_list_keeps_a_transferred_case_and_done_list_the_delivered(wf, drive):
    case = drive(wf.receive(), "transferred")
    c = login(wf.users["zy_clerk"])
    html = c.get("/workbench/clerk/").content.decode()
    section = html[html.index('id="mine_open"') : html.index('id="mine_done"')]
    assert case.number in section  # no longer in any window queue, still "mine"
    approver = login(wf.users["yy_approver"])
    approver.post(f"/workbench/cases/{case.number}/transitions/accept/")
    html = approver.get("/workbench/approver/").content.decode()
    section = html[html.index('id="mine_open"') : html.index('id="mine_done"')]
    assert case.number in section


def test_pickers_offer_items_regions_and_nearest_issuing_halls(wf):
    far = Hall.objects.create(
        code="H-FAR", name="黔东南州某政务服务中心", type="comprehensive", level="county",
        region=wf.regions["520103"], lat=26.0, lon=108.5,
    )  # fmt: skip
    Window.objects.create(hall=far, number="9", issuing=True)
    c = login(wf.users["zy_clerk"])
    items = c.get("/workbench/pick/items/", {"q": "食品"}).json()["results"]
    assert [i["value"] for i in items] == ["GZ-0001"]
    assert c.get("/workbench/pick/items/", {"q": "个体工商户"}).json()["results"] == []  # online only: not at a window
    regions = c.get("/workbench/pick/regions/", {"q": "云岩"}).json()["results"]
    assert regions[0]["value"] == "520103"
    halls = c.get("/workbench/pick/halls/", {"near": "H-ZY"}).json()["results"]
    assert [h["value"] for h in halls] == ["H-ZY", "H-GY", "H-FAR"] and halls[0]["detail"] == "0.0 km"
    assert Client().get("/workbench/pick/halls/").status_code == 302  # login required
    assert c.get("/workbench/pick/other/").status_code == 404
    facts = c.get("/workbench/items/GZ-0001/facts/").json()
    assert [f["key"] for f in facts["facts"]] == ["premises", "scope"]


def test_receive_without_javascript_takes_exact_typed_names(wf):
    c = login(wf.users["zy_clerk"])
    r = c.post(
        "/workbench/clerk/",
        {
            "receiving_hall": "H-ZY",
            "mode": "proxy",
            "item_label": "食品经营许可",
            "jurisdiction_label": "云岩区",
            "delivery_hall_label": "贵阳市云岩区政务服务中心",
            "name": "张三",
            "id_number": wf.applicant_id,
            "phone": "13800138000",
            "delivery_method": "pickup",
            "fact_premises": "贵阳市云岩区中华北路1号",
            "fact_scope": "预包装食品销售",
        },
    )
    case = Case.objects.get()
    assert r.status_code == 302 and case.item.code == "GZ-0001" and case.delivery_hall.code == "H-GY"
    assert case.form_data == {"premises": "贵阳市云岩区中华北路1号", "scope": "预包装食品销售"}
    r = c.post("/workbench/clerk/", {"receiving_hall": "H-ZY", "item_label": "食品", "jurisdiction_label": "云岩区"})
    assert "请选择事项" in r.content.decode() and Case.objects.count() == 1


def test_next_step_panel_lists_what_is_missing(wf):
    case = wf.receive()
    c = login(wf.users["zy_clerk"])
    html = c.get(f"/workbench/cases/{case.number}/").content.decode()
    panel = html[html.index('id="next-step"') : html.index("</section>", html.index('id="next-step"'))]
    assert "核验" in panel and "☐ 材料：身份证明" in panel and "☐ 材料：申请书" in panel
    wf.upload_required(case)
    html = c.get(f"/workbench/cases/{case.number}/").content.decode()
    panel = html[html.index('id="next-step"') : html.index("</section>", html.index('id="next-step"'))]
    assert "✔ 材料：身份证明" in panel and "核验原件：身份证明" in panel
    assert 'data-confirm="' in html and "action-withdraw" in html  # 撤回 asks first
    assert "<script>" not in html and "onclick" not in html  # behaviour from static files only


def test_correction_answered_at_the_window_with_notes(wf, drive):
    case = drive(wf.receive(), "transferred")
    actions.request_correction(
        case=case,
        actor=wf.users["yy_approver"],
        items=[CorrectionItem("form", "申请书未签字"), CorrectionItem(None, "缺少委托书")],
    )
    c = login(wf.users["zy_clerk"])
    html = c.get(f"/workbench/cases/{case.number}/").content.decode()
    assert 'name="note_1"' in html and 'name="note_2"' in html and "☐ 2. 缺少委托书" in html
    r = c.post(f"/workbench/cases/{case.number}/transitions/resubmit/", {"note_1": "已当面签字"}, follow=True)
    assert "尚未处理" in r.content.decode() and "缺少委托书" in r.content.decode()
    assert Case.objects.get(pk=case.pk).state == "needs_correction"
    c.post(f"/workbench/cases/{case.number}/transitions/resubmit/", {"note_1": "已当面签字", "note_2": "已收委托书"})
    assert Case.objects.get(pk=case.pk).state == "transferred"


def test_print_panel_and_proxy_collection_through_the_workbench(wf, drive, django_capture_on_commit_callbacks):
    from licences.actions import load_blank_stock

    load_blank_stock(hall=wf.halls["zunyi"], result_type="licence", serials=["ZY-0007"], actor=wf.users["hall_sup_zy"])
    with django_capture_on_commit_callbacks(execute=True):
        case = drive(wf.receive(), "approved")
    printer = login(wf.users["zy_printer"])
    html = printer.get(f"/workbench/cases/{case.number}/").content.decode()
    result = case.results.get()
    assert f"/api/v1/cases/{case.number}/result.pdf?result={result.pk}" in html and 'target="_blank"' in html
    assert f'name="serial_{result.number}"' in html and "必填" in html
    printer.post(f"/workbench/cases/{case.number}/transitions/print/", {f"serial_{result.number}": "ZY-0007"})
    case = Case.objects.get(pk=case.pk)
    assert case.state == "ready_for_pickup"
    assert case.events.get(transition="print").payload["blank_stock"] == {str(result.pk): "ZY-0007"}

    proxy_id = id_number("52030219850505123")
    r = printer.post(
        f"/workbench/cases/{case.number}/transitions/hand_over/",
        {"id_checked": "on", "by_proxy": "on", "collector_id_number": proxy_id},
        follow=True,
    )
    assert "代领人姓名" in r.content.decode() and Case.objects.get(pk=case.pk).state == "ready_for_pickup"
    printer.post(
        f"/workbench/cases/{case.number}/transitions/hand_over/",
        {
            "id_checked": "on",
            "by_proxy": "on",
            "collector_name": "李四",
            "collector_id_number": proxy_id,
            "authorisation": "申请人签字的授权委托书",
            "authorisation_checked": "on",
        },
    )
    assert Case.objects.get(pk=case.pk).state == "delivered"
    html = printer.get(f"/workbench/cases/{case.number}/").content.decode()
    assert "代领：李四" in html and proxy_id not in html and proxy_id[:6] + "********" in html


def test_workbench_in_english(wf):
    from django.conf import settings

    case = wf.receive()
    c = login(wf.users["zy_clerk"])
    c.cookies[settings.LANGUAGE_COOKIE_NAME] = "en"
    html = c.get(f"/workbench/cases/{case.number}/").content.decode()
    assert "Next step" in html and "Material: " in html and "Withdrawing ends the case" in html
    assert "name or full ID number" in c.get("/workbench/clerk/").content.decode()

"""Issue 11 finding 4 (and 9's "no record of who viewed whose personal data"): staff see an
applicant's phone and ID number unmasked only when their duty needs it, and every unmasking is
logged (who, whose, which field, why, when), reviewed by supervisors on a page and as an export."""

from __future__ import annotations

import csv
import io

import pytest
from django.test import Client
from rest_framework.test import APIClient

from workflows.models import PersonalDataAccess


def _client(user) -> APIClient:
    c = APIClient()
    c.force_authenticate(user)
    return c


def _unmask(user, case, field="phone", reason="电话通知申请人补正材料"):
    return _client(user).post(f"/api/v1/cases/{case.number}/unmask/", {"field": field, "reason": reason}, format="json")


def test_masked_by_default_and_unmasked_only_for_duty_with_a_logged_reason(wf):
    case = wf.receive()  # received in 遵义 for 云岩区 (authority: 云岩区市场监管局)
    body = _client(wf.users["yy_approver"]).get(f"/api/v1/cases/{case.number}/").json()
    assert body["applicant"]["phone_masked"] == "138****8000" and "13800138000" not in str(body)
    assert wf.applicant_id not in str(body)

    # No duty → 403 (seeing the case is not enough); outside scope → 404; nothing logged.
    assert _unmask(wf.users["sup_province"], case).status_code == 403
    assert _unmask(wf.users["hall_sup_zy"], case).status_code == 403
    assert _unmask(wf.users["gy_clerk"], case).status_code == 404
    assert _unmask(wf.users["citizen"], case).status_code == 403  # the applicant has her own data
    # Bad input → 400, nothing logged.
    assert _unmask(wf.users["zy_clerk"], case, reason=" ").status_code == 400
    assert _unmask(wf.users["zy_clerk"], case, field="address").status_code == 400
    assert not PersonalDataAccess.objects.exists()

    r = _unmask(wf.users["zy_clerk"], case, reason="电话通知申请人补正材料")
    assert r.status_code == 200 and r.json()["value"] == "13800138000"
    r = _unmask(wf.users["yy_approver"], case, field="id_number", reason="核对申请人身份")
    assert r.status_code == 200 and r.json()["value"] == wf.applicant_id

    log = list(PersonalDataAccess.objects.order_by("at", "pk"))
    assert [(e.actor.username, e.field, e.reason) for e in log] == [
        ("zy_clerk", "phone", "电话通知申请人补正材料"),
        ("yy_approver", "id_number", "核对申请人身份"),
    ]
    assert all(e.case == case and e.subject_name == "张三" and e.at is not None for e in log)


def test_supervisors_review_the_log_in_their_scope_page_and_export(wf):
    zunyi_case = wf.receive()
    guiyang_only = wf.receive(clerk="gy_clerk", receiving_hall=wf.halls["guiyang"])
    _unmask(wf.users["zy_clerk"], zunyi_case, reason="=cmd|' /C calc'!A0")
    _unmask(wf.users["gy_clerk"], guiyang_only, field="id_number", reason="核对领取人身份")

    def numbers(user):
        return [r["case"] for r in _client(user).get("/api/v1/audit/personal-data/").json()["results"]]

    assert sorted(numbers(wf.users["sup_province"])) == sorted([zunyi_case.number, guiyang_only.number])
    assert numbers(wf.users["sup_zunyi"]) == [zunyi_case.number]  # received in 遵义
    assert sorted(numbers(wf.users["sup_guiyang"])) == sorted([zunyi_case.number, guiyang_only.number])
    for who in ("zy_clerk", "yy_approver", "citizen"):
        assert _client(wf.users[who]).get("/api/v1/audit/personal-data/").status_code == 403, who
    assert _client(wf.users["sup_province"]).get("/api/v1/audit/personal-data/?from=yesterday").status_code == 400

    page = Client()
    page.force_login(wf.users["sup_zunyi"])
    html = page.get("/supervision/personal-data/").content.decode()
    assert zunyi_case.number in html and guiyang_only.number not in html and "遵义收件员" in html
    export = page.get("/supervision/personal-data/export.csv")
    assert export.status_code == 200 and export["Content-Type"].startswith("text/csv")
    rows = list(csv.reader(io.StringIO(export.content.decode("utf-8-sig"))))
    assert rows[0][:4] == ["时间", "查看人", "角色", "办件编号"]
    assert len(rows) == 2 and rows[1][3] == zunyi_case.number and rows[1][5] == "手机号"
    assert not rows[1][6].startswith("=")  # a reason is free text: never a live formula
    clerk_page = Client()
    clerk_page.force_login(wf.users["zy_clerk"])
    assert clerk_page.get("/supervision/personal-data/").status_code == 403
    assert clerk_page.get("/supervision/personal-data/export.csv").status_code == 403


@pytest.mark.parametrize("who", ["zy_printer", "zy_clerk"])
def test_the_delivery_and_receiving_windows_have_the_duty(wf, drive, who):
    case = drive(wf.receive(), "transferred")
    assert _unmask(wf.users[who], case, reason="电话通知领证").status_code == 200
    assert PersonalDataAccess.objects.filter(actor=wf.users[who], case=case).count() == 1


def test_the_workbench_page_asks_for_a_reason_and_logs(wf):
    case = wf.receive()
    page = Client()
    page.force_login(wf.users["zy_clerk"])
    assert "查看完整信息（留痕）" in page.get(f"/workbench/cases/{case.number}/").content.decode()
    url = f"/workbench/cases/{case.number}/unmask/"
    html = page.get(url).content.decode()
    assert "13800138000" not in html
    r = page.post(url, {"field": "phone", "reason": ""})
    assert r.status_code == 400 and not PersonalDataAccess.objects.exists()
    r = page.post(url, {"field": "phone", "reason": "电话通知领证"})
    assert r.status_code == 200 and "13800138000" in r.content.decode() and r["Cache-Control"] == "no-store"
    assert PersonalDataAccess.objects.get().reason == "电话通知领证"
    sup = Client()
    sup.force_login(wf.users["sup_province"])
    assert sup.get(url).status_code == 403

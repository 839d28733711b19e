"""Applying online, tracking and answering one's own cases from the citizens' pages."""

from __future__ import annotations

import io
import re
from typing import Any

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile

from tests.fixtures.workflows import PDF, PNG

pytestmark = pytest.mark.django_db


def _apply(client: Any, **data: str) -> Any:
    body = {"jurisdiction": "520103", "delivery_method": "pickup", "delivery_hall": "H-GY"}
    body.update(data)
    return client.post("/apply/GZ-0001/", body)


def _draft(client: Any) -> Any:
    from workflows.models import Case

    resp = _apply(client)
    assert resp.status_code == 302, resp.content.decode()
    return Case.objects.get(number=resp.url.rstrip("/").rsplit("/", 1)[-1])


def _upload(client: Any, case: Any, code: str, content: bytes = PDF, name: str = "f.pdf") -> Any:
    return client.post(
        f"/my/cases/{case.number}/materials/",
        {"requirement": code, "source": "file", "file": SimpleUploadedFile(name, content)},
    )


def _snapshot(case: Any) -> tuple[Any, ...]:
    from workflows.models import Case

    fresh = Case.objects.get(pk=case.pk)
    return (
        fresh.state,
        fresh.events.count(),
        fresh.materials.count(),
        fresh.corrections.count(),
        fresh.updated_at,
    )


# --- apply ---------------------------------------------------------------------------------------


def test_apply_form_defaults_and_choices(citizen_client: Any, wf: Any) -> None:
    html = citizen_client.get("/apply/GZ-0001/").content.decode()
    assert "在线申请：食品经营许可" in html
    # a county-level item: counties grouped by city, no city of its own
    assert '<optgroup label="贵阳市">' in html and '<optgroup label="遵义市">' in html
    assert 'value="520103"' in html and 'value="520100" data-level' not in html
    # the citizen's ID (5201021990...) names 南明区 as the default 属地
    assert re.search(r'value="520102" data-level="county" selected', html)
    for m in ("身份证明", "申请书", "经营场所证明"):
        assert m in html
    assert "20 MB" in html


def test_apply_pickup_hall_follows_the_county(citizen_client: Any, wf: Any) -> None:
    html = citizen_client.post("/apply/GZ-0001/", {"find_halls": "1", "hall_region": "520302"}).content.decode()
    # the Zunyi centre has an issuing window; the station does not and is not offered
    assert "遵义市红花岗区政务服务中心" in html and "便民服务站" not in html
    data = citizen_client.get("/apply/halls.json", {"region": "520103"}).json()
    assert [h["code"] for h in data["halls"]] == ["H-GY"]
    assert citizen_client.get("/apply/halls.json", {"region": "999999"}).status_code == 400


@pytest.mark.parametrize(
    ("data", "message"),
    [
        ({"jurisdiction": ""}, "请选择属地"),
        ({"jurisdiction": "520100"}, "县"),  # a city cannot name a county-level authority
        ({"delivery_hall": "H-ST"}, "没有出件（打证）窗口"),
        ({"delivery_hall": ""}, "窗口领取须选择领证场所"),
        ({"delivery_method": "mail"}, "邮寄送达须填写收件地址"),
        ({"delivery_method": "pigeon"}, "送达方式"),
    ],
)
def test_apply_refusals_change_nothing(citizen_client: Any, wf: Any, data: dict[str, str], message: str) -> None:
    from workflows.models import Case, CaseEvent

    resp = _apply(citizen_client, **data)
    assert resp.status_code == 400
    html = resp.content.decode()
    assert 'role="alert"' in html and message in html
    assert Case.objects.count() == 0 and CaseEvent.objects.count() == 0


def test_apply_requires_a_real_name_account(client: Any, wf: Any) -> None:
    from workflows.models import Case

    client.force_login(wf.users["other_citizen"])  # no ID number bound
    resp = _apply(client)
    assert resp.status_code == 400 and "实名认证" in resp.content.decode()
    assert Case.objects.count() == 0


def test_apply_is_for_citizens_only(client: Any, wf: Any) -> None:
    from workflows.models import Case

    resp = client.get("/apply/GZ-0001/")
    assert resp.status_code == 302 and resp.url.startswith("/accounts/sms-login/?next=/apply/GZ-0001/")
    for staff in ("yy_approver", "zy_clerk", "sup_province"):
        client.force_login(wf.users[staff])
        for resp in (client.get("/apply/GZ-0001/"), _apply(client), client.get("/my/cases/")):
            assert resp.status_code == 403
            assert "仅限申请人使用" in resp.content.decode()
    assert Case.objects.count() == 0


def test_items_that_cannot_be_applied_for_online(citizen_client: Any, wf: Any) -> None:
    from services.models import Item

    Item.objects.filter(code="GZ-0004").update(online=False)
    resp = citizen_client.get("/apply/GZ-0004/")
    assert resp.status_code == 400 and "暂不支持网上申请" in resp.content.decode()
    assert "apply-online" not in citizen_client.get("/items/GZ-0004/").content.decode()
    assert 'href="/apply/GZ-0001/"' in citizen_client.get("/items/GZ-0001/").content.decode()
    assert citizen_client.get("/apply/NOPE/").status_code == 404


# --- draft: materials and submission ------------------------------------------------------------------


def test_apply_upload_submit_end_to_end(citizen_client: Any, wf: Any) -> None:
    case = _draft(citizen_client)
    assert case.state == "draft" and case.mode == "online"
    assert case.authority == wf.departments["yy_market"] and case.delivery_hall == wf.halls["guiyang"]
    page = citizen_client.get(f"/my/cases/{case.number}/").content.decode()
    assert "草稿" in page and "upload-id_card" in page and "upload-form" in page
    assert "action-submit" in page

    assert _upload(citizen_client, case, "id_card", PNG, "身份证.png").status_code == 302
    assert _upload(citizen_client, case, "form", PDF, "申请书.pdf").status_code == 302
    page = citizen_client.get(f"/my/cases/{case.number}/").content.decode()
    assert "身份证.png" in page and "申请书.pdf" in page and "网上上传" in page

    resp = citizen_client.post(f"/my/cases/{case.number}/submit/")
    assert resp.status_code == 302
    case.refresh_from_db()
    assert case.state == "submitted" and case.accept_by is not None and case.sla_status == "green"
    page = citizen_client.get(resp.url).content.decode()
    assert "申请已提交" in page and "已提交" in page and "受理期限" in page
    assert "upload-id_card" not in page  # materials are fixed once submitted

    listing = citizen_client.get("/my/cases/").content.decode()
    assert case.number in listing and "已提交" in listing and "sla-green" in listing
    assert case.number in citizen_client.get("/my/cases/?group=open").content.decode()
    assert case.number not in citizen_client.get("/my/cases/?group=done").content.decode()


def test_submit_without_required_materials_is_refused(citizen_client: Any, wf: Any) -> None:
    case = _draft(citizen_client)
    _upload(citizen_client, case, "form")
    before = _snapshot(case)
    resp = citizen_client.post(f"/my/cases/{case.number}/submit/")
    assert resp.status_code == 400
    assert "缺少必要材料：身份证明" in resp.content.decode()
    assert _snapshot(case) == before


def test_bad_uploads_are_refused_and_change_nothing(citizen_client: Any, wf: Any, settings: Any) -> None:
    case = _draft(citizen_client)
    before = _snapshot(case)
    resp = _upload(citizen_client, case, "id_card", b"MZ\x90\x00 not a document", "virus.pdf")
    assert resp.status_code == 400 and "仅支持 PDF、JPG、PNG 格式的文件" in resp.content.decode()
    resp = _upload(citizen_client, case, "id_card", b"", "empty.pdf")
    assert resp.status_code == 400
    resp = _upload(citizen_client, case, "nope")
    assert resp.status_code == 400 and "没有编码为“nope”的材料" in resp.content.decode()
    resp = citizen_client.post(f"/my/cases/{case.number}/materials/", {"requirement": "id_card", "source": "file"})
    assert resp.status_code == 400 and "请选择要上传的文件" in resp.content.decode()
    settings.MAX_UPLOAD_BYTES = 1024 * 1024
    resp = _upload(citizen_client, case, "id_card", PDF + b"0" * (1024 * 1024), "big.pdf")
    assert resp.status_code == 413 and "文件过大" in resp.content.decode()
    # far larger than the limit: refused from the request's length, before the body is read
    resp = _upload(citizen_client, case, "id_card", PDF + b"0" * (3 * 1024 * 1024), "huge.pdf")
    assert resp.status_code == 413
    assert _snapshot(case) == before


def test_materials_cannot_change_after_submission(citizen_client: Any, wf: Any) -> None:
    case = _draft(citizen_client)
    wf.upload_required(case)
    citizen_client.post(f"/my/cases/{case.number}/submit/")
    before = _snapshot(case)
    resp = _upload(citizen_client, case, "form")
    assert resp.status_code == 409 and "不能再提交材料" in resp.content.decode()
    assert _snapshot(case) == before


# --- privacy ------------------------------------------------------------------------------------


def test_another_citizen_gets_404_everywhere(citizen_client: Any, wf: Any) -> None:
    from django.test import Client

    case = _draft(citizen_client)
    client = Client()
    client.force_login(wf.users["other_citizen"])
    before = _snapshot(case)
    for url in ("", "status.json", "live/"):
        assert client.get(f"/my/cases/{case.number}/{url}").status_code == 404
    assert _upload(client, case, "form").status_code == 404
    for action in ("submit", "withdraw"):
        assert client.post(f"/my/cases/{case.number}/{action}/").status_code == 404
    assert case.number not in client.get("/my/cases/").content.decode()
    assert _snapshot(case) == before


def test_unknown_action_is_404(citizen_client: Any, wf: Any) -> None:
    case = _draft(citizen_client)
    assert citizen_client.post(f"/my/cases/{case.number}/approve/").status_code == 404
    assert citizen_client.get(f"/my/cases/{case.number}/submit/").status_code == 405


# --- live status --------------------------------------------------------------------------------


def test_status_json_etag_and_304(citizen_client: Any, wf: Any, drive: Any) -> None:
    from workflows import actions

    case = _draft(citizen_client)
    url = f"/my/cases/{case.number}/status.json"
    first = citizen_client.get(url)
    assert first.status_code == 200
    body = first.json()
    assert body["state"] == "draft" and body["label"] == "草稿" and body["events"] == 1
    assert body["terminal"] is False and body["updated_at"]
    etag = first["ETag"]
    assert etag and "no-cache" in first["Cache-Control"]

    again = citizen_client.get(url, HTTP_IF_NONE_MATCH=etag)
    assert again.status_code == 304 and again.content == b"" and again["ETag"] == etag
    assert citizen_client.get(url, HTTP_IF_NONE_MATCH=f"W/{etag}").status_code == 304
    assert citizen_client.get(url, HTTP_IF_NONE_MATCH='"stale"').status_code == 200

    case = drive(case, "submitted")
    actions.accept(case=case, actor=wf.users["yy_approver"])
    changed = citizen_client.get(url, HTTP_IF_NONE_MATCH=etag)
    assert changed.status_code == 200 and changed["ETag"] != etag
    assert changed.json()["state"] == "accepted" and changed.json()["label"] == "已受理"
    assert changed.json()["events"] == 3

    # the SLA sweep recolours without touching updated_at: the ETag still changes
    from workflows.models import Case

    Case.objects.filter(pk=case.pk).update(sla_status="yellow")
    assert citizen_client.get(url, HTTP_IF_NONE_MATCH=changed["ETag"]).status_code == 200

    live = citizen_client.get(f"/my/cases/{case.number}/live/").content.decode()
    assert 'data-live="timeline"' in live and "受理" in live and "<html" not in live


def test_case_page_carries_the_tracker(citizen_client: Any, wf: Any, settings: Any) -> None:
    settings.CITIZEN_TRACK_POLL_SECONDS = 3
    case = _draft(citizen_client)
    html = citizen_client.get(f"/my/cases/{case.number}/").content.decode()
    assert "citizen_portal/track.js" in html and 'data-poll="3"' in html
    assert f'data-status-url="/my/cases/{case.number}/status.json"' in html
    assert "http://" not in html.replace("http://testserver", "") and "https://" not in html


# --- correction, withdrawal, delivery -----------------------------------------------------------------


def test_correction_notice_then_resubmit(citizen_client: Any, wf: Any, drive: Any) -> None:
    from workflows import actions
    from workflows.actions import CorrectionItem

    case = _draft(citizen_client)
    case = drive(case, "submitted")
    actions.request_correction(
        case=case,
        actor=wf.users["yy_approver"],
        items=[
            CorrectionItem("id_card", "身份证复印件模糊，请重新上传清晰彩色扫描件"),
            CorrectionItem(None, "请补充法定代表人签字"),
        ],
    )
    page = citizen_client.get(f"/my/cases/{case.number}/").content.decode()
    assert "一次性告知" in page and "待补正" in page
    assert "身份证复印件模糊，请重新上传清晰彩色扫描件" in page and "请补充法定代表人签字" in page
    assert "需补正：" in page and "upload-id_card" in page and "action-resubmit" in page

    assert _upload(citizen_client, case, "id_card", PNG, "清晰身份证.png").status_code == 302
    resp = citizen_client.post(f"/my/cases/{case.number}/resubmit/", {"note_2": "已签字并重新上传申请书"})
    assert resp.status_code == 302
    case.refresh_from_db()
    assert case.state == "submitted" and case.corrections.get().resolved_at is not None
    current = {m.requirement.code: m for m in actions.current_materials(case)}
    assert current["id_card"].original_name == "清晰身份证.png"
    page = citizen_client.get(f"/my/cases/{case.number}/").content.decode()
    assert "补正后重新提交" in page  # in the timeline
    assert "action-resubmit" not in page


def test_withdraw_before_a_decision_only(citizen_client: Any, wf: Any, drive: Any) -> None:
    case = _draft(citizen_client)
    case = drive(case, "submitted")
    page = citizen_client.get(f"/my/cases/{case.number}/").content.decode()
    assert "action-withdraw" in page
    resp = citizen_client.post(f"/my/cases/{case.number}/withdraw/", {"reason": "不再需要"})
    assert resp.status_code == 302
    case.refresh_from_db()
    assert case.state == "withdrawn" and case.events.last().payload["reason"] == "不再需要"
    before = _snapshot(case)
    resp = citizen_client.post(f"/my/cases/{case.number}/withdraw/")
    assert resp.status_code == 409 and "不能执行" in resp.content.decode()
    assert _snapshot(case) == before
    assert case.number in citizen_client.get("/my/cases/?group=done").content.decode()

    other = drive(_draft(citizen_client), "approved")
    before = _snapshot(other)
    assert citizen_client.post(f"/my/cases/{other.number}/withdraw/").status_code == 409
    assert _snapshot(other) == before


def test_pickup_details_when_ready(citizen_client: Any, wf: Any, drive: Any) -> None:
    from workflows import actions

    resp = _apply(citizen_client, delivery_hall="H-ZY")
    case = drive(_draft_from(resp), "approved")
    assert case.state == "print_queued"
    page = citizen_client.get(f"/my/cases/{case.number}/").content.decode()
    assert "结果正在送往领证大厅打印" in page and "遵义市红花岗区政务服务中心" in page
    actions.print_result(case=case, actor=wf.users["zy_printer"])
    page = citizen_client.get(f"/my/cases/{case.number}/").content.decode()
    assert "待领取" in page and "结果已打印，请凭本人身份证件领取" in page and "2 号窗口" in page
    assert f"/api/v1/cases/{case.number}/result.pdf?result=" in page and "/verify/" in page


def _draft_from(resp: Any) -> Any:
    from workflows.models import Case

    assert resp.status_code == 302, resp.content.decode()
    return Case.objects.get(number=resp.url.rstrip("/").rsplit("/", 1)[-1])


def test_mailed_case_confirm_receipt_and_rate(citizen_client: Any, wf: Any, drive: Any, on_commit: Any) -> None:
    from workflows import actions

    resp = _apply(citizen_client, delivery_method="mail", delivery_address="贵阳市云岩区中华北路1号")
    case = drive(_draft_from(resp), "approved")
    assert case.state == "issued"
    page = citizen_client.get(f"/my/cases/{case.number}/").content.decode()
    assert "action-confirm_receipt" not in page and "action-withdraw" not in page
    actions.mail(case=case, actor=wf.users["yy_approver"], tracking_number="EMS1234567890")
    page = citizen_client.get(f"/my/cases/{case.number}/").content.decode()
    assert "EMS1234567890" in page and "action-confirm_receipt" in page and "已寄出" in page
    on_commit(citizen_client.post, f"/my/cases/{case.number}/confirm-receipt/")
    case.refresh_from_db()
    assert case.state == "delivered"
    page = citizen_client.get(f"/my/cases/{case.number}/").content.decode()
    assert "已送达" in page and f"/ratings/cases/{case.number}/" in page and "评价本次服务" in page
    before = _snapshot(case)
    assert citizen_client.post(f"/my/cases/{case.number}/confirm-receipt/").status_code == 409
    assert _snapshot(case) == before

    # the delivered result is in the citizen's e-licence library
    html = citizen_client.get("/my/licences/").content.decode()
    assert "食品经营许可证" in html and "有效" in html and "/verify/" in html


def test_denied_case_shows_reason_and_rating(citizen_client: Any, wf: Any, drive: Any) -> None:
    from workflows import actions

    case = drive(_draft(citizen_client), "under_review")
    actions.deny(
        case=case, actor=wf.users["yy_approver"], reason="经营场所不符合要求", legal_basis="《食品经营许可管理办法》"
    )
    page = citizen_client.get(f"/my/cases/{case.number}/").content.decode()
    assert "不予批准" in page and "经营场所不符合要求" in page and "《食品经营许可管理办法》" in page
    assert f"/ratings/cases/{case.number}/" in page


# --- reuse: e-licences (免提交) and shared materials ------------------------------------------------------


@pytest.fixture
def earlier_licence(citizen_client: Any, wf: Any, drive: Any, on_commit: Any) -> Any:
    """An earlier online case of the citizen, delivered electronically: its result (type GZ-0001)
    is in the library and its materials can be shared."""
    case = _draft(citizen_client)
    from workflows.models import Case

    Case.objects.filter(pk=case.pk).update(delivery_method="electronic", delivery_hall=None)
    case.refresh_from_db()
    on_commit(drive, case, "approved")
    case.refresh_from_db()
    assert case.state == "delivered"
    from licences.models import ELicence

    return ELicence.objects.get(result__case=case)


def test_e_licence_waives_a_material_with_consent(citizen_client: Any, wf: Any, earlier_licence: Any) -> None:
    case = _draft(citizen_client)
    page = citizen_client.get(f"/my/cases/{case.number}/").content.decode()
    assert "elicence-lease" in page and earlier_licence.number in page and "免提交" in page

    url = f"/my/cases/{case.number}/materials/"
    before = _snapshot(case)
    body = {"requirement": "lease", "source": "e_licence", "e_licence": str(earlier_licence.pk)}
    resp = citizen_client.post(url, body)  # no consent ticked
    assert resp.status_code == 400 and "须经申请人同意" in resp.content.decode()
    resp = citizen_client.post(url, {**body, "e_licence": "999999", "consent": "on"})
    assert resp.status_code == 400 and "请选择您名下的电子证照" in resp.content.decode()
    resp = citizen_client.post(url, {**body, "requirement": "form", "consent": "on"})
    assert resp.status_code == 400 and "不能以电子证照代替" in resp.content.decode()
    assert _snapshot(case) == before

    resp = citizen_client.post(url, {**body, "consent": "on"})
    assert resp.status_code == 302
    m = case.materials.get()
    assert m.source == "e_license" and m.consent_at is not None and m.e_license_id == earlier_licence.result_id
    from licences.models import ReuseConsent

    assert ReuseConsent.objects.filter(case=case, material=m).exists()
    assert "电子证照库" in citizen_client.get(f"/my/cases/{case.number}/").content.decode()


def test_shared_material_is_reused_with_consent(citizen_client: Any, wf: Any, earlier_licence: Any) -> None:
    case = _draft(citizen_client)
    page = citizen_client.get(f"/my/cases/{case.number}/").content.decode()
    assert "shared-id_card" in page and "您以前提交过此材料" in page
    from licences.selectors import shared_materials_for_case

    source = next(m for m in shared_materials_for_case(case) if m.requirement.code == "id_card")
    url = f"/my/cases/{case.number}/materials/"
    before = _snapshot(case)
    body = {"requirement": "id_card", "source": "shared", "shared_material": str(source.pk)}
    assert citizen_client.post(url, body).status_code == 400  # no consent
    assert citizen_client.post(url, {**body, "shared_material": "0", "consent": "on"}).status_code == 400
    assert _snapshot(case) == before
    assert citizen_client.post(url, {**body, "consent": "on"}).status_code == 302
    m = case.materials.get()
    assert m.source == "shared" and m.sha256 == source.sha256 and m.shared_from_id == source.pk


def test_another_citizens_licence_cannot_be_used(client: Any, wf: Any, earlier_licence: Any) -> None:
    from accounts.protect import lookup_hash, protect
    from tests.fixtures.workflows import id_number

    other = wf.users["other_citizen"]
    number = id_number("52030219851212123")
    other.id_number_protected, other.id_number_hash = protect(number), lookup_hash(number)
    other.save()
    client.force_login(other)
    case = _draft(client)
    resp = client.post(
        f"/my/cases/{case.number}/materials/",
        {"requirement": "lease", "source": "e_licence", "e_licence": str(earlier_licence.pk), "consent": "on"},
    )
    assert resp.status_code == 400 and case.materials.count() == 0
    assert earlier_licence.number not in client.get("/my/licences/").content.decode()


def test_upload_helper_bytes_roundtrip(wf: Any) -> None:
    # the in-memory upload used by the workflow fixtures is a real PDF/PNG for the sniffer
    from workflows.actions import sniff_type

    assert sniff_type(io.BytesIO(PDF).read(16)) == ("pdf", "application/pdf")


def test_timeline_names_departments_and_halls_never_staff(citizen_client: Any, wf: Any, drive: Any) -> None:
    from workflows import actions

    case = drive(_draft(citizen_client), "under_review")
    actions.suspend(case=case, actor=wf.users["yy_approver"], reason="现场核查")
    page = citizen_client.get(f"/my/cases/{case.number}/").content.decode()
    timeline = page.split('id="timeline"')[1]
    for step in ("创建", "提交申请", "受理", "开始审查", "进入特别程序"):
        assert step in timeline
    assert "（本人）" in timeline and "（云岩区市场监管局）" in timeline and "理由：现场核查" in timeline
    assert "云岩审批员" not in page
    assert "特别程序" in page.split('id="summary"')[1].split("</section>")[0]


def test_proxy_case_received_for_the_citizen_is_tracked_read_only(citizen_client: Any, wf: Any) -> None:
    from workflows import actions
    from workflows.actions import CorrectionItem

    case = wf.receive()  # at the Zunyi window, for 云岩区, matched to the citizen's account by ID
    assert case.applicant_id == wf.users["citizen"].pk
    listing = citizen_client.get("/my/cases/").content.decode()
    assert case.number in listing and "已收件" in listing
    actions.request_correction(case=case, actor=wf.users["zy_clerk"], items=[CorrectionItem("form", "缺少签名")])
    page = citizen_client.get(f"/my/cases/{case.number}/").content.decode()
    assert "缺少签名" in page and "通办窗口办理" in page
    assert "upload-form" not in page and "action-resubmit" not in page
    assert "（遵义市红花岗区政务服务中心）" in page
    before = _snapshot(case)
    assert _upload(citizen_client, case, "form").status_code == 403
    assert citizen_client.post(f"/my/cases/{case.number}/resubmit/").status_code == 403
    assert _snapshot(case) == before


def test_deadlines_and_sla_colours_follow_the_running_clock(citizen_client: Any, wf: Any, drive: Any) -> None:
    from workflows import actions
    from workflows.actions import CorrectionItem
    from workflows.models import Case

    case = drive(_draft(citizen_client), "submitted")
    Case.objects.filter(pk=case.pk).update(sla_status="red")  # as the sweep leaves an overdue case
    row = citizen_client.get("/my/cases/").content.decode().split(f'data-number="{case.number}"')[1].split("</tr>")[0]
    assert "前受理" in row and "超期" in row
    assert f'class="sla-red" data-number="{case.number}"' in citizen_client.get("/my/cases/").content.decode()

    case.refresh_from_db()
    actions.request_correction(case=case, actor=wf.users["yy_approver"], items=[CorrectionItem(None, "补充说明")])
    listing = citizen_client.get("/my/cases/?group=todo").content.decode()
    row = listing.split(f'data-number="{case.number}"')[1].split("</tr>")[0]
    assert "前受理" not in row and "—" in row  # no clock runs while the applicant corrects

    other = drive(_draft(citizen_client), "under_review")
    actions.suspend(case=other, actor=wf.users["yy_approver"], reason="专家评审")
    page = citizen_client.get(f"/my/cases/{other.number}/").content.decode()
    assert "办结期限" in page and "前办结" in page and "暂停计时" in page


def test_joint_item_online_shows_each_authoritys_progress(citizen_client: Any, wf: Any) -> None:
    from workflows import actions
    from workflows.models import Case

    resp = citizen_client.post(
        "/apply/GZ-0003/", {"jurisdiction": "520103", "delivery_method": "electronic"}
    )  # 开办餐饮店（一件事）: 市场监管 + 卫生健康
    case = _draft_from(resp)
    assert case.mode == "joint" and case.authority is None
    for code in ("id_card", "form"):
        assert _upload(citizen_client, case, code).status_code == 302
    assert citizen_client.post(f"/my/cases/{case.number}/submit/").status_code == 302
    children = list(Case.objects.filter(parent=case).order_by("number"))
    assert len(children) == 2
    page = citizen_client.get(f"/my/cases/{case.number}/").content.decode()
    assert "联办部门办理进度" in page and "云岩区市场监管局" in page and "云岩区卫生健康局" in page
    assert children[0].number not in citizen_client.get("/my/cases/").content.decode()

    url = f"/my/cases/{case.number}/status.json"
    etag = citizen_client.get(url)["ETag"]
    actions.accept(case=children[1], actor=wf.users["yy_health"])  # one authority moves
    assert citizen_client.get(url, HTTP_IF_NONE_MATCH=etag).status_code == 200

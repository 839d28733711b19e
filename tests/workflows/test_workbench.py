"""The clerk's and the approver's workbenches: pages, buttons = allowed transitions, CSRF."""

from __future__ import annotations

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.test import Client

from tests.fixtures.workflows import PDF, PNG
from workflows.models import Case


def login(user, **kw) -> Client:
    c = Client(**kw)
    c.force_login(user)
    return c


def test_login_required(wf):
    r = Client().get("/workbench/clerk/")
    assert r.status_code == 302 and "/accounts/login/" in r["Location"]


def test_roles(wf):
    assert login(wf.users["yy_approver"]).get("/workbench/clerk/").status_code == 403
    assert login(wf.users["zy_clerk"]).get("/workbench/approver/").status_code == 403
    assert login(wf.users["zy_clerk"]).get("/workbench/").url == "/workbench/clerk/"
    assert login(wf.users["yy_approver"]).get("/workbench/").url == "/workbench/approver/"


def test_clerk_receives_verifies_and_transfers(wf):
    c = login(wf.users["zy_clerk"])
    page = c.get("/workbench/clerk/")
    assert page.status_code == 200 and "收件（全省通办）" in page.content.decode()
    r = c.post(
        "/workbench/clerk/",
        {
            "receiving_hall": "H-ZY",
            "mode": "proxy",
            "item": "GZ-0001",
            "jurisdiction": "520103",
            "name": "张三",
            "id_number": wf.applicant_id,
            "phone": "13800138000",
            "delivery_method": "pickup",
            "fact_premises": "遵义市红花岗区丁字口1号",
            "fact_scope": "预包装食品销售",
        },
    )
    case = Case.objects.get()
    assert r.status_code == 302 and r.url == f"/workbench/cases/{case.number}/"
    html = c.get(r.url).content.decode()
    assert "action-verify" in html and "action-transfer" not in html and "action-accept" not in html
    for code, content in (("id_card", PNG), ("form", PDF)):
        c.post(
            f"/workbench/cases/{case.number}/materials/",
            {"requirement": code, "file": SimpleUploadedFile("a.png", content)},
        )
    assert case.materials.count() == 2
    c.post(
        f"/workbench/cases/{case.number}/transitions/verify/", {"id_checked": "on", "originals_sighted": ["id_card"]}
    )
    c.post(f"/workbench/cases/{case.number}/transitions/transfer/")
    assert Case.objects.get().state == "transferred"


def test_clerk_form_errors_are_shown_and_nothing_is_created(wf):
    c = login(wf.users["zy_clerk"])
    r = c.post(
        "/workbench/clerk/",
        {
            "receiving_hall": "H-ZY",
            "mode": "proxy",
            "item": "GZ-0001",
            "jurisdiction": "520103",
            "name": "张三",
            "id_number": "123",
            "phone": "13800138000",
            "delivery_method": "pickup",
        },
    )
    assert r.status_code == 200 and "收件失败" in r.content.decode()
    assert not Case.objects.exists()


def test_approver_queue_with_colours_and_buttons(wf, drive):
    case = drive(wf.receive(), "transferred")
    Case.objects.filter(pk=case.pk).update(sla_status="red")
    c = login(wf.users["yy_approver"])
    html = c.get("/workbench/approver/").content.decode()
    assert case.number in html and "sla-red" in html
    detail = c.get(f"/workbench/cases/{case.number}/").content.decode()
    assert "action-accept" in detail and "action-reject" in detail and "action-request_correction" in detail
    assert "action-approve" not in detail
    c.post(f"/workbench/cases/{case.number}/transitions/accept/")
    c.post(f"/workbench/cases/{case.number}/transitions/start_review/")
    r = c.post(f"/workbench/cases/{case.number}/transitions/deny/", {"reason": ""}, follow=True)
    assert "请填写理由" in r.content.decode()
    c.post(f"/workbench/cases/{case.number}/transitions/approve/")
    assert Case.objects.get(pk=case.pk).state == "print_queued"


def test_wrong_person_sees_404_or_refusal(wf, drive):
    case = drive(wf.receive(), "transferred")
    assert login(wf.users["gy_clerk"]).get(f"/workbench/cases/{case.number}/").status_code == 404
    r = login(wf.users["zy_clerk"]).post(f"/workbench/cases/{case.number}/transitions/accept/", follow=True)
    assert "无权" in r.content.decode()
    assert Case.objects.get(pk=case.pk).state == "transferred"


def test_csrf_enforced(wf, drive):
    case = drive(wf.receive(), "transferred")
    c = login(wf.users["yy_approver"], enforce_csrf_checks=True)
    assert c.post(f"/workbench/cases/{case.number}/transitions/accept/").status_code == 403
    assert Case.objects.get(pk=case.pk).state == "transferred"


def test_print_queue_and_hand_over(wf, drive):
    case = drive(wf.receive(), "approved")
    printer = login(wf.users["zy_printer"])
    assert case.number in printer.get("/workbench/clerk/").content.decode()
    printer.post(f"/workbench/cases/{case.number}/transitions/print/")
    clerk = login(wf.users["zy_clerk"])
    r = clerk.post(f"/workbench/cases/{case.number}/transitions/hand_over/", {}, follow=True)
    assert "核验领取人" in r.content.decode() and Case.objects.get(pk=case.pk).state == "ready_for_pickup"
    clerk.post(f"/workbench/cases/{case.number}/transitions/hand_over/", {"id_checked": "on"})
    assert Case.objects.get(pk=case.pk).state == "delivered"


def test_static_css_is_local(wf):
    html = login(wf.users["zy_clerk"]).get("/workbench/clerk/").content.decode()
    assert (
        "workflows/workbench.css" in html
        and "http://" not in html.replace("http://testserver", "")
        and "https://" not in html
    )


def test_supervisor_sees_cases_with_repeated_corrections(wf, drive):
    from workflows import actions

    case = drive(wf.receive(), "transferred")
    for reason in ("缺页", "又缺页"):
        case = actions.request_correction(
            case=case, actor=wf.users["yy_approver"], items=[actions.CorrectionItem("form", reason)]
        )
        case = actions.resubmit(case=case, actor=wf.users["zy_clerk"], notes={1: "已补页"})
    html = login(wf.users["sup_province"]).get("/workbench/cases/?repeated=1").content.decode()
    assert case.number in html and "多次补正的办件" in html
    html = login(wf.users["sup_province"]).get("/workbench/cases/?sla=red").content.decode()
    assert case.number not in html


def test_case_page_names_transitions_and_states_and_links_the_result_for_printing(wf, drive):
    """The 办理记录 reads 收件 · — → 已收件, never the API codes; the printing clerk gets the PDF."""
    case = drive(wf.receive(), "approved")
    assert case.state == "print_queued"
    printer = login(wf.users["zy_printer"])
    html = printer.get(f"/workbench/cases/{case.number}/").content.decode()
    events = html.split('class="events"', 1)[1]
    assert "收件 · — → 已收件" in events and "准予 · 审查中 → 准予" in events
    assert "receive ·" not in events and "under_review" not in events
    result = case.results.get()
    assert f"/api/v1/cases/{case.number}/result.pdf?result={result.pk}" in html
    assert result.verify_path in html
    pdf = printer.get(f"/api/v1/cases/{case.number}/result.pdf?result={result.pk}")
    assert pdf.status_code == 200 and pdf["Content-Type"] == "application/pdf"
    # the facts panel is not squeezed into the site-wide two-column .facts grid
    css = printer.get("/static/workflows/workbench.css")
    body = b"".join(css.streaming_content) if css.streaming else css.content  # type: ignore[attr-defined]
    assert b".wb .panel.facts { display: block; }" in body


def test_window_case_becomes_the_citizens_once_they_register_with_the_same_id_and_phone(
    wf, drive, django_capture_on_commit_callbacks
):
    """A case received at a window before the applicant had an account appears in 我的办件 after
    their first SMS login; declaring the same ID number from another phone claims nothing."""
    from accounts import actions as accounts_actions
    from tests.fixtures.accounts import last_code
    from tests.fixtures.workflows import id_number
    from workflows.actions import ApplicantInput

    newcomer_id = id_number("52010219850505123")
    case = drive(
        wf.receive(applicant=ApplicantInput(name="赵六", id_number=newcomer_id, phone="139-8501-2399")), "transferred"
    )
    assert case.applicant_id is None

    # Someone else declares 赵六's ID number from another phone: the window checked her card with
    # another phone, so the claim is refused (issue 11: flagged for a clerk) and nothing is claimed.
    from django.core.exceptions import ValidationError

    from accounts.models import IdentityClaim

    with django_capture_on_commit_callbacks(execute=True):
        accounts_actions.request_otp(phone="13985012300", ip="10.0.0.1")
    with pytest.raises(ValidationError):
        accounts_actions.verify_otp(
            phone="13985012300", code=last_code("13985012300"), name="赵六", id_number=newcomer_id
        )
    assert Case.objects.get(pk=case.pk).applicant_id is None
    assert IdentityClaim.objects.filter(phone="13985012300", resolved_at__isnull=True).exists()

    with django_capture_on_commit_callbacks(execute=True):
        accounts_actions.request_otp(phone="13985012399", ip="10.0.0.2")
    user, _t = accounts_actions.verify_otp(
        phone="13985012399", code=last_code("13985012399"), name="赵六", id_number=newcomer_id
    )
    assert Case.objects.get(pk=case.pk).applicant_id == user.pk
    c = login(user)
    assert case.number in c.get("/my/cases/").content.decode()
    assert c.get(f"/my/cases/{case.number}/").status_code == 200
    # the other citizen still sees nothing of it
    assert login(wf.users["citizen"]).get(f"/my/cases/{case.number}/").status_code == 404


def test_admin_shows_results_and_correction_notices_read_only(wf, drive):
    """Results and correction notices come only from workflow actions: the admin can open them
    (no 500) but cannot add, edit or delete them."""
    from django.contrib.auth import get_user_model

    case = drive(wf.receive(), "approved")
    result = case.results.get()
    admin_user = get_user_model().objects.create_superuser(username="root", password="x-Strong-pass-1")
    c = login(admin_user)
    assert c.get("/admin/workflows/result/").status_code == 200
    page = c.get(f"/admin/workflows/result/{result.pk}/change/")
    assert page.status_code == 200 and result.number in page.content.decode()
    assert 'name="title"' not in page.content.decode()
    assert c.get("/admin/workflows/result/add/").status_code == 403
    assert c.get("/admin/workflows/correctionnotice/add/").status_code == 403
    r = c.post(f"/admin/workflows/result/{result.pk}/change/", {"title": "伪造", "revoked_reason": "x"})
    assert r.status_code == 403
    result.refresh_from_db()
    assert result.title != "伪造" and result.revoked_at is None
    assert c.post(f"/admin/workflows/result/{result.pk}/delete/", {"post": "yes"}).status_code == 403
    assert case.results.count() == 1

"""E-licence library (免提交) and shared materials (材料共享) with consent records; blank stock."""

from __future__ import annotations

import pytest
from django.core.exceptions import PermissionDenied, ValidationError

from ledger.models import Entry
from licences import actions, selectors
from licences.models import BlankStock, ELicence, ReuseConsent
from tests.fixtures.workflows import id_number
from tests.licences.helpers import client_for, grant_reuse
from workflows import actions as wf_actions
from workflows.actions import ApplicantInput
from workflows.models import Material
from workflows.results import Result


def second_case_in_guiyang(wf):
    return wf.receive(clerk="gy_clerk", receiving_hall=wf.halls["guiyang"])


def test_a_later_case_reuses_an_e_licence_and_a_shared_material_without_upload(
    wf, delivered, django_capture_on_commit_callbacks
):
    first, licence = delivered
    case = second_case_in_guiyang(wf)
    clerk = wf.users["gy_clerk"]
    # Issue 11: only after the applicant, present at the window, consents (SMS code to her verified phone).
    assert client_for(clerk).get(f"/api/v1/cases/{case.number}/reusable/").status_code == 403
    grant = grant_reuse(case, clerk, django_capture_on_commit_callbacks)

    # The Guiyang clerk sees what the applicant can reuse: the e-licence, and the Zunyi scan of the
    # ID card with its digest and who sighted the original where.
    reusable = {r["requirement"]: r for r in client_for(clerk).get(f"/api/v1/cases/{case.number}/reusable/").json()}
    assert [e["number"] for e in reusable["lease"]["e_licences"]] == [licence.number]
    (shared,) = reusable["id_card"]["shared_materials"]
    source = Material.objects.get(pk=shared["id"])
    assert source.case == first and shared["sha256"] == source.sha256
    assert shared["original_sighted"]["by"] == "遵义收件员"
    assert shared["original_sighted"]["hall"] == "遵义市红花岗区政务服务中心"

    m1 = actions.use_e_licence(case=case, requirement="lease", e_licence=licence, actor=clerk, consent=True)
    m2 = actions.use_shared_material(case=case, requirement="id_card", material=source, actor=clerk)
    wf.upload(case, "form", user="gy_clerk")  # only the form is new
    assert m1.source == "e_license" and m1.e_license_id == licence.result_id and not m1.file
    assert m2.source == "shared" and m2.shared_from == source
    assert m2.file.name == source.file.name and m2.sha256 == source.sha256  # by reference, never copied
    consents = ReuseConsent.objects.filter(case=case).order_by("consented_at")
    assert [c.kind for c in consents] == ["e_licence", "shared_material"]
    assert all(c.channel == "sms_code" and c.grant == grant and c.recorded_by == clerk for c in consents)
    assert "免提交" in consents[0].consent_text
    assert Entry.objects.filter(kind="consent", subject=f"case:{case.number}").count() == 2

    shown = client_for(clerk).get(f"/api/v1/cases/{case.number}/consents/").json()
    assert [(c["requirement"], c["kind"]) for c in shown] == [("lease", "e_licence"), ("id_card", "shared_material")]
    assert shown[0]["e_licence"]["number"] == licence.number and shown[0]["recorded_by"] == "贵阳收件员"
    assert shown[1]["shared_material"] == {"id": source.pk, "case": first.number, "sha256": source.sha256}
    assert all(c["ledger_entry"] for c in shown)
    assert client_for(wf.users["other_citizen"]).get(f"/api/v1/cases/{case.number}/consents/").status_code == 404

    case = wf_actions.verify(case=case, actor=clerk, id_checked=True, originals_sighted=["id_card"])
    assert case.state == "verified"


def test_online_applicant_consents_themselves(wf, delivered):
    _first, licence = delivered
    case = wf.online()
    m = actions.use_e_licence(
        case=case, requirement="lease", e_licence=licence, actor=wf.users["citizen"], consent=True
    )
    assert ReuseConsent.objects.get(material=m).channel == "applicant"


@pytest.mark.parametrize(
    ("scenario", "field"),
    [
        ("no_consent", "consent"),
        ("not_an_e_licence_requirement", "e_license"),
        ("unknown_requirement", "requirement"),
        ("someone_elses", "e_license"),
        ("revoked", "e_license"),
        ("expired", "e_license"),
        ("wrong_type", "e_license"),
    ],
)
def test_e_licence_reuse_refused(wf, delivered, scenario, field, django_capture_on_commit_callbacks):
    _first, licence = delivered
    case = second_case_in_guiyang(wf)
    kwargs = {
        "case": case,
        "requirement": "lease",
        "e_licence": licence,
        "actor": wf.users["gy_clerk"],
        "consent": True,
    }
    if scenario == "no_consent":
        kwargs["consent"] = False
    elif scenario == "not_an_e_licence_requirement":
        kwargs["requirement"] = "form"
    elif scenario == "unknown_requirement":
        kwargs["requirement"] = "nope"
    elif scenario == "someone_elses":
        from datetime import UTC, datetime

        from accounts.protect import lookup_hash, protect

        number = id_number("52010219850505567")  # 李四, verified, consents to reuse HER materials
        li = wf.users["other_citizen"]
        li.id_number_protected, li.id_number_hash = protect(number), lookup_hash(number)
        li.id_verified_at = datetime(2026, 1, 5, tzinfo=UTC)
        li.save()
        kwargs["case"] = wf.receive(
            clerk="gy_clerk",
            receiving_hall=wf.halls["guiyang"],
            applicant=ApplicantInput("李四", number, li.phone),
        )
    elif scenario == "revoked":
        actions.revoke_result(result=licence.result, actor=wf.users["yy_approver"], reason="撤销")
        licence.refresh_from_db()
    elif scenario == "expired":
        import datetime as dt

        ELicence.objects.filter(pk=licence.pk).update(valid_until=dt.date(2020, 1, 1))
        licence.refresh_from_db()
    elif scenario == "wrong_type":
        case.item.materials.filter(code="lease").update(e_license_type="营业执照")
    grant_reuse(kwargs["case"], wf.users["gy_clerk"], django_capture_on_commit_callbacks)
    before = Material.objects.count()
    with pytest.raises(ValidationError) as exc:
        actions.use_e_licence(**kwargs)
    assert field in exc.value.message_dict
    assert Material.objects.count() == before and not ReuseConsent.objects.exists()


def test_shared_material_refused_when_superseded_or_foreign(wf, delivered, django_capture_on_commit_callbacks):
    first, _licence = delivered
    clerk = wf.users["gy_clerk"]
    source = Material.objects.get(case=first, requirement__code="id_card")
    case = second_case_in_guiyang(wf)
    grant_reuse(case, clerk, django_capture_on_commit_callbacks)
    with pytest.raises(ValidationError) as exc:
        actions.use_shared_material(case=case, requirement="form", material=source, actor=clerk)
    assert "shared_material" in exc.value.message_dict  # another requirement
    with pytest.raises(ValidationError):
        actions.use_shared_material(case=case, requirement="id_card", material=source, actor=clerk, consent=False)
    Material.objects.filter(pk=source.pk).update(superseded_at=source.uploaded_at)
    with pytest.raises(ValidationError):
        actions.use_shared_material(case=case, requirement="id_card", material=source, actor=clerk)
    assert not ReuseConsent.objects.exists()


def test_reuse_is_still_the_workflows_rule_who_and_when(wf, delivered):
    _first, licence = delivered
    case = second_case_in_guiyang(wf)
    with pytest.raises(PermissionDenied):  # a clerk of another hall may not add materials
        actions.use_e_licence(
            case=case, requirement="lease", e_licence=licence, actor=wf.users["zy_clerk"], consent=True
        )
    assert not ReuseConsent.objects.exists()


def test_library_lists_only_own_licences(wf, delivered):
    _first, licence = delivered
    mine = client_for(wf.users["citizen"]).get("/api/v1/e-licences/").json()
    assert [e["number"] for e in mine["results"]] == [licence.number]
    assert client_for(wf.users["other_citizen"]).get("/api/v1/e-licences/").json()["count"] == 0
    assert client_for(wf.users["gy_clerk"]).get(f"/api/v1/cases/{_first.number}/reusable/").status_code == 404


def test_register_delivered_result_is_idempotent_and_refuses_undelivered(wf, drive, on_commit, delivered):
    _first, licence = delivered
    assert actions.register_delivered_result(result=licence.result) == licence
    case = wf.receive(delivery_method="mail", delivery_address="某地")
    wf.upload_required(case)
    case = on_commit(drive, case, "approved")
    with pytest.raises(ValidationError):
        actions.register_delivered_result(result=Result.objects.get(case=case))


def test_a_lost_delivered_hand_off_is_filed_by_the_sweep(wf, drive, on_commit, django_assert_num_queries):
    """The case_delivered event runs on commit; when it is lost (broker down, worker died) the
    file_missing beat sweep files the result, once."""
    from licences import tasks

    case = wf.receive()
    wf.upload_required(case)
    case = on_commit(drive, case, "approved")
    case = on_commit(wf_actions.print_result, case=case, actor=wf.users["zy_printer"])
    case = wf_actions.hand_over(case=case, actor=wf.users["zy_printer"])  # its on-commit never runs
    assert case.state == "delivered"
    assert not ELicence.objects.filter(result__case=case).exists()
    # What is missing, with case, item and applicant; its INSERT in a savepoint of its own (a
    # concurrent filing is caught there): 4; it was 6 (each result read again, and its e-licence).
    with django_assert_num_queries(4):
        assert tasks.file_missing() == 1
    assert ELicence.objects.filter(result__case=case).count() == 1
    assert tasks.file_missing() == 0


# --- blank stock -----------------------------------------------------------------------------


def test_blank_stock_load_allocate_void(wf, drive, on_commit):
    hall = wf.halls["zunyi"]
    sup, clerk = wf.users["hall_sup_zy"], wf.users["zy_printer"]
    with pytest.raises(PermissionDenied):
        actions.load_blank_stock(hall=hall, result_type="licence", serials=["A1"], actor=clerk)
    with pytest.raises(ValidationError):
        actions.load_blank_stock(hall=hall, result_type="licence", serials=["A1", "A1"], actor=sup)
    with pytest.raises(ValidationError):
        actions.load_blank_stock(hall=hall, result_type="approval_notice", serials=["A1"], actor=sup)
    assert actions.load_blank_stock(hall=hall, result_type="licence", serials=["GZ0002", "GZ0001"], actor=sup) == 2
    from accounts.models import User

    admin = User.objects.create_user(username="stock_admin", password="x-Strong-2026!", role="admin")
    with pytest.raises(ValidationError):  # serials are unique province-wide
        actions.load_blank_stock(hall=wf.halls["guiyang"], result_type="licence", serials=["GZ0001"], actor=admin)
    assert selectors.stock_available(hall.pk, "licence") == 2

    def queued():
        case = wf.receive()
        wf.upload_required(case)
        return Result.objects.get(case=on_commit(drive, case, "approved"))

    r1, r2, r3 = queued(), queued(), queued()
    window = wf.windows["zy_issuing"]
    s1 = actions.allocate_blank_stock(result=r1, actor=clerk, window=window)
    assert s1.serial == "GZ0001" and s1.status == "used" and s1.used_by == clerk and s1.window == window
    assert actions.allocate_blank_stock(result=r1, actor=clerk, window=window) == s1  # same sheet on reprint
    actions.void_blank_stock(stock=s1, actor=clerk, reason="卡纸")
    s1b = actions.allocate_blank_stock(result=r1, actor=clerk, window=window)
    assert s1b.serial == "GZ0002"
    with pytest.raises(ValidationError) as exc:
        actions.allocate_blank_stock(result=r2, actor=clerk, window=window)
    assert "blank_stock" in exc.value.message_dict
    with pytest.raises(PermissionDenied):
        actions.void_blank_stock(stock=s1b, actor=wf.users["gy_clerk"], reason="x")
    assert BlankStock.objects.get(serial="GZ0001").status == "voided"
    assert selectors.stock_for_result(r1).serial == "GZ0002"
    assert selectors.pdf_url(r3).startswith(f"/api/v1/cases/{r3.case.number}/result.pdf?result=")


def test_approval_notices_use_plain_paper(wf, drive, on_commit):
    item = wf.items["proxy"]
    item.result_type = "approval_notice"
    item.save(update_fields=["result_type"])
    case = wf.receive()
    wf.upload_required(case)
    result = Result.objects.get(case=on_commit(drive, case, "approved"))
    assert actions.allocate_blank_stock(result=result, actor=wf.users["zy_printer"]) is None
    assert result.document.template == "approval_notice"


def test_materials_api_id_resolvers(wf, delivered):
    first, licence = delivered
    case = second_case_in_guiyang(wf)
    assert selectors.e_licence_for_case(case, licence.pk) == licence
    assert selectors.e_licence_for_case(case, str(licence.result_id)) == licence
    assert selectors.e_licence_for_case(case, "junk") is None
    stranger = wf.receive(
        clerk="gy_clerk",
        receiving_hall=wf.halls["guiyang"],
        applicant=ApplicantInput("李四", id_number("52010219850505567"), "13800138009"),
    )
    assert selectors.e_licence_for_case(stranger, licence.pk) is None
    source = Material.objects.filter(case=first).first()
    assert selectors.shared_material_for_case(case, source.pk) == source
    assert selectors.shared_material_for_case(stranger, source.pk) is None
    assert selectors.shared_material_for_case(case, "x") is None


def test_register_delivered_case_files_each_live_result_once_in_few_queries(wf, drive, on_commit, delivered):
    """The delivered hook reads the case's results (with case, item and applicant) and those already
    filed once each, then INSERTs only what is missing; revoked results and undelivered cases file
    nothing."""
    from django.db import connection
    from django.test.utils import CaptureQueriesContext

    case, licence = delivered
    with CaptureQueriesContext(connection) as ctx:
        assert actions.register_delivered_case(case_id=case.pk) == [licence]  # filed already
    assert len(ctx.captured_queries) == 2
    licence.delete()
    with CaptureQueriesContext(connection) as ctx:
        refiled = actions.register_delivered_case(case_id=case.pk)
    assert [e.number for e in refiled] == [licence.number]
    assert ELicence.objects.get(result__case=case).holder == wf.users["citizen"]
    assert len(ctx.captured_queries) <= 5  # two reads, and the INSERT in its savepoint
    Result.objects.filter(case=case).update(revoked_at=case.delivered_at)
    ELicence.objects.filter(result__case=case).delete()
    assert actions.register_delivered_case(case_id=case.pk) == []
    undelivered = wf.receive()
    assert actions.register_delivered_case(case_id=undelivered.pk) == []
    assert not ELicence.objects.filter(result__case=undelivered).exists()

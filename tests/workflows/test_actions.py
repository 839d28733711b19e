"""Every allowed transition per mode and role, and a table of refused ones."""

from __future__ import annotations

from itertools import pairwise

import pytest
from django.core.exceptions import ValidationError

from tests.fixtures.workflows import PDF
from workflows import actions
from workflows.actions import CorrectionItem, TransitionConflict, TransitionForbidden
from workflows.models import Case, CaseEvent
from workflows.results import Result


def chain(case: Case) -> list[tuple[str, str, str]]:
    return list(case.events.order_by("seq").values_list("transition", "from_state", "to_state"))


def assert_consistent_chain(case: Case) -> None:
    events = list(case.events.order_by("seq"))
    assert [e.seq for e in events] == list(range(1, len(events) + 1))
    assert events[0].from_state == ""
    for prev, nxt in pairwise(events):
        assert nxt.from_state == prev.to_state
    assert events[-1].to_state == Case.objects.get(pk=case.pk).state


def sms_templates(case: Case) -> list[str]:
    from notifications.models import OutboxMessage

    return list(
        OutboxMessage.objects.filter(context__case_number=case.number)
        .order_by("created_at")
        .values_list("template", flat=True)
    )


# --- happy paths per mode --------------------------------------------------------------------


def test_proxy_pickup_lifecycle_across_cities(wf, drive):
    case = wf.receive()
    assert case.number.startswith("520302-") and len(case.number) == len("520302-20261124-000001")
    assert case.cross_region and case.authority == wf.departments["yy_market"]
    assert case.delivery_hall == wf.halls["zunyi"]  # 就近打证 defaults to the receiving hall
    assert case.applicant == wf.users["citizen"]  # linked by the ID number's lookup hash
    assert case.applicant_id_masked.startswith("520102") and "*" in case.applicant_id_masked
    case = drive(case, "approved")
    assert case.state == "print_queued"
    result = Result.objects.get(case=case)
    assert result.issuing_department == wf.departments["yy_market"] and result.holder_name == "张三"
    case = actions.print_result(case=case, actor=wf.users["zy_printer"])
    case = actions.hand_over(case=case, actor=wf.users["zy_clerk"], collector_id_number=wf.applicant_id)
    assert case.state == "delivered"
    assert [t for t, _f, _t in chain(case)] == [
        "receive",
        "verify",
        "transfer",
        "accept",
        "start_review",
        "approve",
        "issue",
        "queue_print",
        "print",
        "hand_over",
    ]
    assert_consistent_chain(case)
    assert sms_templates(case) == ["case_received", "case_accepted", "case_decided", "case_ready_for_pickup"]
    # the materials carry the window's originals-sighted record and the scans are sealed
    id_card = case.materials.get(requirement__code="id_card")
    assert id_card.original_sighted_by == wf.users["zy_clerk"] and id_card.original_sighted_hall == wf.halls["zunyi"]
    assert len(case.materials_seal) == 64


def test_proxy_mail_lifecycle(wf, drive):
    case = wf.receive(delivery_method="mail", delivery_address="遵义市红花岗区某路1号")
    case = drive(case, "approved")
    assert case.state == "issued"
    with pytest.raises(ValidationError):
        actions.mail(case=case, actor=wf.users["yy_approver"], tracking_number="")
    case = actions.mail(case=case, actor=wf.users["yy_approver"], tracking_number="SF1234567890")
    assert case.state == "mailed" and case.tracking_number == "SF1234567890"
    case = actions.confirm_receipt(case=case, actor=wf.users["citizen"])
    assert case.state == "delivered"
    assert "case_mailed" in sms_templates(case)
    assert_consistent_chain(case)


def test_online_electronic_lifecycle(wf, drive):
    case = wf.online()
    assert case.state == "draft" and case.number.startswith("520103-")
    with pytest.raises(ValidationError):  # required materials missing
        actions.submit(case=case, actor=wf.users["citizen"])
    case = drive(case, "approved")
    assert case.state == "delivered"
    assert [t for t, _f, _t in chain(case)][-3:] == ["approve", "issue", "deliver_online"]
    assert chain(case)[0] == ("create", "", "draft")
    assert_consistent_chain(case)


def test_online_pickup_needs_an_issuing_hall(wf):
    with pytest.raises(ValidationError) as exc:
        wf.online(delivery_method="pickup")
    assert "delivery.hall" in exc.value.message_dict
    with pytest.raises(ValidationError):
        wf.online(delivery_method="pickup", delivery_hall=wf.halls["station"])
    case = wf.online(delivery_method="pickup", delivery_hall=wf.halls["guiyang"])
    assert case.delivery_hall == wf.halls["guiyang"]


def test_correction_at_window_returns_to_received(wf):
    case = wf.receive()
    case = actions.request_correction(
        case=case,
        actor=wf.users["zy_clerk"],
        items=[
            CorrectionItem("id_card", "复印件不清晰"),
            CorrectionItem("form", "申请书未签字"),
            CorrectionItem(None, "缺少委托书"),
        ],
    )
    assert case.state == "needs_correction" and case.correction_count == 1
    notice = case.corrections.get()
    assert [i["reason"] for i in notice.items] == ["复印件不清晰", "申请书未签字", "缺少委托书"]
    case = actions.resubmit(
        case=case, actor=wf.users["zy_clerk"], notes={1: "已重新复印", 2: "已当面签字", 3: "已收委托书原件"}
    )
    assert case.state == "received"
    assert case.corrections.get().resolved_at is not None
    from notifications.models import OutboxMessage

    body = OutboxMessage.objects.get(template="case_needs_correction").body
    assert "复印件不清晰" in body and "申请书未签字" in body and "缺少委托书" in body  # one notice lists everything


def test_correction_by_authority_after_transfer_and_online(wf, drive):
    case = drive(wf.receive(), "transferred")
    case = actions.request_correction(
        case=case, actor=wf.users["yy_approver"], items=[CorrectionItem("form", "缺少签章")]
    )
    assert case.state == "needs_correction" and case.sla_status == "" and case.clock_due_at is None
    case = actions.resubmit(case=case, actor=wf.users["zy_clerk"], notes={1: "已补盖章"})
    assert case.state == "transferred" and case.sla_status == "green" and case.accept_by is not None

    online = drive(wf.online(), "submitted")
    online = actions.request_correction(
        case=online, actor=wf.users["yy_approver"], items=[CorrectionItem("form", "缺页")]
    )
    wf.upload(online, "form", user="citizen", content=PDF)
    online = actions.resubmit(case=online, actor=wf.users["citizen"])
    assert online.state == "submitted"


def test_reject_and_deny_record_reasons(wf, drive):
    case = drive(wf.receive(), "transferred")
    with pytest.raises(ValidationError):
        actions.reject(case=case, actor=wf.users["yy_approver"], reason="  ")
    case = actions.reject(case=case, actor=wf.users["yy_approver"], reason="不属于本部门职权范围")
    assert case.state == "rejected" and case.decision_reason == "不属于本部门职权范围"

    case = drive(wf.receive(), "under_review")
    case = actions.deny(case=case, actor=wf.users["yy_approver2"], reason="场所不符合要求")
    assert case.state == "denied" and case.legal_basis == "《行政许可法》"
    assert CaseEvent.objects.filter(case=case, transition="deny").get().payload["reason"] == "场所不符合要求"


def test_suspend_and_resume(wf, drive):
    case = drive(wf.receive(), "under_review")
    case = actions.suspend(case=case, actor=wf.users["yy_approver"], reason="组织听证")
    assert case.state == "suspended" and case.clock_due_at is None
    case = actions.resume(case=case, actor=wf.users["yy_approver"])
    assert case.state == "under_review" and case.clock_due_at == case.decide_by


def test_withdraw_by_applicant_and_by_receiving_window(wf, drive):
    online = drive(wf.online(), "under_review")
    online = actions.withdraw(case=online, actor=wf.users["citizen"], reason="不再需要")
    assert online.state == "withdrawn"
    proxy = wf.receive()
    proxy = actions.withdraw(case=proxy, actor=wf.users["zy_clerk"])
    assert proxy.state == "withdrawn"


def test_case_numbers_are_sequential_per_region_and_day(wf):
    numbers = [wf.receive().number for _ in range(3)]
    assert [n[-6:] for n in numbers] == ["000001", "000002", "000003"]
    assert wf.online().number.endswith("-000001")  # another region, its own sequence


# --- routing and intake refusals -------------------------------------------------------------


@pytest.mark.parametrize(
    ("kwargs", "field"),
    [
        ({"item": "online_only"}, "mode"),
        ({"mode": "online"}, "mode"),
        ({"delivery_hall": "station"}, "delivery.hall"),
        ({"receiving_hall": "guiyang"}, "receiving_hall"),  # the clerk has no post there
        ({"jurisdiction": "520102"}, "jurisdiction"),  # no market department in 南明区
        ({"applicant_id": "520102199001011234"}, "applicant.id_number"),  # wrong check digit
        ({"applicant_phone": "12345"}, "applicant.phone"),
        ({"delivery_method": "mail"}, "delivery.address"),
        ({"delivery_method": "fax"}, "delivery.method"),
    ],
)
def test_intake_refusals_are_clear_400s_and_write_nothing(wf, kwargs, field):
    from workflows.actions import ApplicantInput

    kw = dict(kwargs)
    if "delivery_hall" in kw:
        kw["delivery_hall"] = wf.halls[kw["delivery_hall"]]
    if "receiving_hall" in kw:
        kw["receiving_hall"] = wf.halls[kw["receiving_hall"]]
    if "jurisdiction" in kw:
        kw["jurisdiction"] = wf.regions[kw["jurisdiction"]]
    if "applicant_id" in kw or "applicant_phone" in kw:
        kw["applicant"] = ApplicantInput(
            "张三", kw.pop("applicant_id", wf.applicant_id), kw.pop("applicant_phone", "13800138000")
        )
    with pytest.raises(ValidationError) as exc:
        wf.receive(**kw)
    assert field in exc.value.message_dict, exc.value.message_dict
    assert Case.objects.count() == 0 and CaseEvent.objects.count() == 0


def test_station_general_window_takes_local_cases_only(wf):
    with pytest.raises(ValidationError):  # cross-region needs a 通办 window
        wf.receive(clerk="st_clerk", receiving_hall=wf.halls["station"], delivery_hall=wf.halls["zunyi"])
    item = wf.items["proxy"]
    from services.models import Department

    Department.objects.create(code="x", name="红花岗区卫健", kind_id="health", region=wf.regions["520302"])
    case = wf.receive(
        clerk="st_clerk",
        receiving_hall=wf.halls["station"],
        delivery_hall=wf.halls["zunyi"],
        jurisdiction=wf.regions["520302"],
    )
    assert not case.cross_region and case.authority == wf.departments["hhg_market"] and case.item == item


def test_only_clerks_receive_and_only_citizens_apply_online(wf):
    with pytest.raises(TransitionForbidden):
        wf.receive(clerk="yy_approver")
    from workflows import actions as a

    with pytest.raises(TransitionForbidden):
        a.create_online(
            actor=wf.users["zy_clerk"],
            item=wf.items["proxy"],
            jurisdiction=wf.regions["520103"],
            delivery_method="electronic",
        )
    with pytest.raises(ValidationError):  # no real-name binding yet
        a.create_online(
            actor=wf.users["other_citizen"],
            item=wf.items["proxy"],
            jurisdiction=wf.regions["520103"],
            delivery_method="electronic",
        )


def test_id_number_with_region_unknown_to_stdnum_is_accepted_and_flagged(wf, drive):
    from tests.fixtures.workflows import id_number
    from workflows.actions import ApplicantInput

    number = id_number("52058119900101123")  # 黔西市 (created 2021): unknown to stdnum for a 1990 birth
    case = wf.receive(applicant=ApplicantInput("王五", number, "13800138002"))
    assert case.applicant_id_needs_review
    wf.upload_required(case)
    case = actions.verify(case=case, actor=wf.users["zy_clerk"], id_checked=True, originals_sighted=["id_card"])
    assert not case.applicant_id_needs_review


def test_enterprise_applicant_by_uscc(wf):
    from workflows.actions import ApplicantInput

    case = (
        wf.receive(applicant=ApplicantInput("某某餐饮有限公司", "91520103MA6DXXXX0X", "13800138003")) if False else None
    )
    from stdnum.cn import uscc

    body = "91520103MA6DK5L2" + "0"
    code = body + uscc.calc_check_digit(body)
    case = wf.receive(applicant=ApplicantInput("某某餐饮有限公司", code, "13800138003"))
    assert case.applicant_type == "enterprise"


# --- the table of refused transitions --------------------------------------------------------

# (state to drive to, transition, actor, kwargs, expected): each leaves the case and its events unchanged.
REFUSED = [
    # wrong state
    ("received", "transfer", "zy_clerk", {}, TransitionConflict),
    ("received", "accept", "yy_approver", {}, TransitionConflict),
    ("transferred", "verify", "zy_clerk", {"id_checked": True, "originals_sighted": ["id_card"]}, TransitionConflict),
    ("accepted", "approve", "yy_approver", {}, TransitionConflict),
    ("under_review", "resume", "yy_approver", {}, TransitionConflict),
    ("under_review", "accept", "yy_approver", {}, TransitionConflict),
    ("transferred", "print", "zy_printer", {}, TransitionConflict),
    ("transferred", "mail", "yy_approver", {"tracking_number": "SF1234567890"}, TransitionConflict),
    ("print_queued", "withdraw", "citizen", {}, TransitionConflict),
    ("print_queued", "approve", "yy_approver", {}, TransitionConflict),
    ("print_queued", "hand_over", "zy_clerk", {}, TransitionConflict),
    # wrong role
    ("received", "verify", "yy_approver", {"id_checked": True, "originals_sighted": ["id_card"]}, TransitionForbidden),
    ("transferred", "accept", "zy_clerk", {}, TransitionForbidden),
    ("transferred", "accept", "citizen", {}, TransitionForbidden),
    ("under_review", "approve", "sup_province", {}, TransitionForbidden),
    ("under_review", "approve", "zy_clerk", {}, TransitionForbidden),
    ("print_queued", "print", "yy_approver", {}, TransitionForbidden),
    ("print_queued", "print", "zy_clerk", {}, TransitionForbidden),  # no issuing window
    ("received", "withdraw", "other_citizen", {}, TransitionForbidden),
    ("approved", "issue", "yy_approver", {}, TransitionForbidden),
    ("approved", "queue_print", "zy_printer", {}, TransitionForbidden),
    # wrong jurisdiction
    ("received", "verify", "gy_clerk", {"id_checked": True, "originals_sighted": ["id_card"]}, TransitionForbidden),
    ("received", "transfer", "st_clerk", {}, TransitionForbidden),
    ("transferred", "accept", "hhg_approver", {}, TransitionForbidden),
    ("transferred", "reject", "yy_health", {"reason": "x"}, TransitionForbidden),
    ("under_review", "deny", "hhg_approver", {"reason": "x"}, TransitionForbidden),
    ("transferred", "request_correction", "gy_clerk", {"items": [CorrectionItem("form", "x")]}, TransitionForbidden),
    ("print_queued", "print", "gy_clerk", {}, TransitionForbidden),
    # bad input in the right state by the right person
    ("received", "verify", "zy_clerk", {"id_checked": False, "originals_sighted": ["id_card"]}, ValidationError),
    ("received", "verify", "zy_clerk", {"id_checked": True, "originals_sighted": []}, ValidationError),
    ("received", "verify", "zy_clerk", {"id_checked": True, "originals_sighted": ["id_card", "nope"]}, ValidationError),
    ("transferred", "request_correction", "yy_approver", {"items": []}, ValidationError),
    ("transferred", "request_correction", "yy_approver", {"items": [CorrectionItem("form", " ")]}, ValidationError),
    ("transferred", "request_correction", "yy_approver", {"items": [CorrectionItem("zzz", "x")]}, ValidationError),
    ("under_review", "suspend", "yy_approver", {"reason": ""}, ValidationError),
]


def _to_state(wf, drive, state: str) -> Case:
    case = wf.receive()
    if state == "received":
        wf.upload_required(case)
        return Case.objects.get(pk=case.pk)
    if state in ("approved", "print_queued"):
        case = drive(case, "under_review")
        if state == "approved":
            # an approved case rests at "approved" only as a joint sub-case; emulate with a mail case
            # stopped before issuing is not possible, so test issue/queue_print refusals on print_queued
            return drive(case, "approved")
        return drive(case, "approved")
    return drive(case, state)


@pytest.mark.parametrize(
    ("state", "name", "who", "kwargs", "expected"), REFUSED, ids=[f"{r[0]}-{r[1]}-{r[2]}" for r in REFUSED]
)
def test_refused_transitions_change_nothing(wf, drive, state, name, who, kwargs, expected):
    case = _to_state(wf, drive, state)
    before = (case.state, chain(case), Case.objects.filter(pk=case.pk).values().get())
    with pytest.raises(expected):
        actions.TRANSITION_ACTIONS[name](case=case, actor=wf.users[who], **kwargs)
    fresh = Case.objects.get(pk=case.pk)
    assert (fresh.state, chain(fresh), Case.objects.filter(pk=case.pk).values().get()) == before


def test_conflict_lists_what_the_caller_may_do(wf, drive):
    case = drive(wf.receive(), "transferred")
    with pytest.raises(TransitionConflict) as exc:
        actions.approve(case=case, actor=wf.users["yy_approver"])
    assert exc.value.state == "transferred"
    assert exc.value.allowed == ["request_correction", "accept", "reject"]


def test_stale_object_loses_to_the_first_writer(wf, drive):
    case = drive(wf.receive(), "under_review")
    stale = Case.objects.get(pk=case.pk)
    actions.approve(case=case, actor=wf.users["yy_approver"])
    with pytest.raises(TransitionConflict) as exc:
        actions.deny(case=stale, actor=wf.users["yy_approver2"], reason="x")
    assert exc.value.state == "print_queued"
    assert CaseEvent.objects.filter(case=case, transition__in=["approve", "deny"]).count() == 1


def test_state_field_is_protected(wf):
    case = wf.receive()
    with pytest.raises(AttributeError):
        case.state = "approved"


def test_resubmit_refused_until_every_notice_item_is_answered(wf, drive):
    """一次性告知 means something: a case goes back only when each listed problem has an answer — a
    new material for that requirement, or a note — and the refusal names what is still open."""
    case = drive(wf.receive(), "transferred")
    case = actions.request_correction(
        case=case,
        actor=wf.users["yy_approver"],
        items=[CorrectionItem("form", "申请书未签字"), CorrectionItem(None, "缺少委托书")],
    )
    with pytest.raises(ValidationError) as exc:
        actions.resubmit(case=case, actor=wf.users["zy_clerk"])
    message = exc.value.message_dict["corrections"][0]
    assert "1. 申请书：申请书未签字" in message and "2. 缺少委托书" in message
    assert Case.objects.get(pk=case.pk).state == "needs_correction"
    assert case.corrections.get().resolved_at is None

    # A new scan answers item 1; item 2 is still open and the message names only it.
    wf.upload(case, "form", content=PDF)
    with pytest.raises(ValidationError) as exc:
        actions.resubmit(case=case, actor=wf.users["zy_clerk"], notes={"1": "", "2": "  "})
    message = exc.value.message_dict["corrections"][0]
    assert "缺少委托书" in message and "申请书未签字" not in message
    assert "。；" not in message and "。。" not in message
    with pytest.raises(ValidationError) as exc:
        actions.resubmit(case=case, actor=wf.users["zy_clerk"], notes={"7": "不存在的项"})
    assert "notes" in exc.value.message_dict
    assert Case.objects.get(pk=case.pk).state == "needs_correction"

    case = actions.resubmit(case=case, actor=wf.users["zy_clerk"], notes={"2": "已收委托书原件并扫描"})
    assert case.state == "transferred"
    notice = case.corrections.get()
    assert notice.resolved_at is not None
    assert notice.items[0]["answer"]["material"] and notice.items[1]["answer"]["note"] == "已收委托书原件并扫描"
    event = case.events.order_by("-seq").first()
    assert event.transition == "resubmit" and [a["item"] for a in event.payload["answers"]] == [1, 2]


def test_resubmit_through_the_api_takes_notes_and_reports_what_is_open(wf, drive):
    from rest_framework.test import APIClient

    case = drive(wf.receive(), "transferred")
    actions.request_correction(case=case, actor=wf.users["yy_approver"], items=[CorrectionItem(None, "缺少委托书")])
    api = APIClient()
    api.force_authenticate(wf.users["zy_clerk"])
    url = f"/api/v1/cases/{case.number}/transitions/resubmit/"
    r = api.post(url, {}, format="json")
    assert r.status_code == 400 and "缺少委托书" in str(r.json())
    assert Case.objects.get(pk=case.pk).state == "needs_correction"
    r = api.post(url, {"notes": {"1": "已收委托书"}}, format="json")
    assert r.status_code == 200 and r.json()["state"] == "transferred"


# --- the step's SMS goes with the step, and only with a step that won --------------------------


def test_a_step_that_loses_the_race_writes_no_text(wf, drive):
    """Two copies of one case: the first accepts; the stale second is refused (409) and its
    case_accepted text is not written (on PostgreSQL it rides on the guarded UPDATE that matched
    no row)."""
    case = drive(wf.receive(), "transferred")
    first, stale = Case.objects.get(pk=case.pk), Case.objects.get(pk=case.pk)
    actions.accept(case=first, actor=wf.users["yy_approver"])
    with pytest.raises(TransitionConflict):
        actions.accept(case=stale, actor=wf.users["yy_approver2"])
    assert sms_templates(case).count("case_accepted") == 1
    assert CaseEvent.objects.filter(case=case, transition="accept").count() == 1


def test_case_numbers_follow_the_day_counter_and_never_lose_a_digit(wf):
    from workflows.models import CaseSequence

    first = wf.receive()  # the day's first case in 520302 creates the counter row
    second = wf.receive()  # the steady state: the counter and the case in one statement
    region, day, seq = first.number.split("-")
    assert second.number == f"{region}-{day}-{int(seq) + 1:06d}"
    assert Case.objects.get(pk=second.pk).number == second.number
    CaseSequence.objects.filter(region_code=region).update(last=999_999)
    third = wf.receive()
    assert third.number == f"{region}-{day}-1000000"
    assert Case.objects.get(number=third.number).pk == third.pk
    assert [e.transition for e in third.events.all()] == ["receive"]
    assert sms_templates(third) == ["case_received"]


def test_approval_writes_its_results_with_the_issue_event_and_a_lost_race_writes_none(wf, drive):
    """The results an approval issues are written in the issue step's statement (PostgreSQL;
    engine.write_with_step): one per case, saved as bulk_create leaves them, each with the issue
    event and its ledger entry. The stale second approver is refused and writes no result."""
    from ledger.models import Entry
    from workflows.results import Result

    case = drive(wf.receive(), "under_review")
    first, stale = Case.objects.get(pk=case.pk), Case.objects.get(pk=case.pk)
    first = actions.approve(case=first, actor=wf.users["yy_approver"])
    with pytest.raises(TransitionConflict):
        actions.approve(case=stale, actor=wf.users["yy_approver2"])
    stored = list(Result.objects.filter(case=case))
    assert len(stored) == 1 and stored[0].issued_by is None and stored[0].issuing_department == case.authority
    issue = CaseEvent.objects.get(case=case, transition="issue")
    assert issue.payload == {"results": [stored[0].number]}
    assert Entry.objects.filter(subject=f"case:{case.number}", ref=f"case_event:{issue.pk}").count() == 1
    assert [e.transition for e in CaseEvent.objects.filter(case=case, seq__gt=issue.seq)] == ["queue_print"]


def test_write_with_step_outside_a_transition_writes_at_once(wf, drive):
    from workflows.actions.engine import write_with_step
    from workflows.results import Result

    case = drive(wf.receive(), "under_review")
    from django.utils import timezone

    row = Result(
        case=case,
        number=f"{case.number}-R9",
        result_type="licence",
        title="t",
        license_type="x",
        holder_name="h",
        issuing_department=case.authority,
        issued_at=timezone.now(),
    )
    write_with_step([row])
    assert Result.objects.filter(pk=row.pk).exists()

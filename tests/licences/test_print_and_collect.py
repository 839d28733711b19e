"""打证 records the blank sheet the clerk fed in; 代领 records who collected and on whose authority."""

from __future__ import annotations

import pytest
from django.core.exceptions import ValidationError

from licences import actions as licence_actions
from licences.models import BlankStock
from tests.fixtures.workflows import id_number
from workflows import actions
from workflows.models import Case


def _queued(wf, drive, on_commit):
    return on_commit(drive, wf.receive(), "approved")


def test_print_uses_the_serial_the_clerk_entered(wf, drive, on_commit):
    hall = wf.halls["zunyi"]
    licence_actions.load_blank_stock(
        hall=hall, result_type="licence", serials=["GZ0001", "GZ0002", "GZ0003"], actor=wf.users["hall_sup_zy"]
    )
    case = _queued(wf, drive, on_commit)
    result = case.results.get()
    printer = wf.users["zy_printer"]
    for bad in ("NOPE", "GZ0009"):
        with pytest.raises(ValidationError) as exc:
            actions.print_result(case=case, actor=printer, blank_serials={result.number: bad})
        assert bad in str(exc.value)
    with pytest.raises(ValidationError):
        actions.print_result(case=case, actor=printer, blank_serials={"R-OTHER": "GZ0002"})
    assert Case.objects.get(pk=case.pk).state == "print_queued"
    assert not BlankStock.objects.filter(status="used").exists()

    case = on_commit(actions.print_result, case=case, actor=printer, blank_serials={result.number: "GZ0002"})
    assert case.state == "ready_for_pickup"
    sheet = BlankStock.objects.get(serial="GZ0002")
    assert sheet.status == "used" and sheet.result == result and sheet.used_by == printer
    assert BlankStock.objects.get(serial="GZ0001").status == "available"  # not the lowest: the one used
    assert case.events.get(transition="print").payload["blank_stock"] == {str(result.pk): "GZ0002"}


def test_proxy_collection_needs_name_id_and_authorisation(wf, drive, on_commit):
    case = _queued(wf, drive, on_commit)
    printer = wf.users["zy_printer"]
    case = on_commit(actions.print_result, case=case, actor=printer)
    other = id_number("52030219850505123")

    # Someone else's ID without declaring 代领 is refused, and the message says what to do.
    with pytest.raises(ValidationError) as exc:
        actions.hand_over(case=case, actor=printer, collector_id_number=other)
    assert "代领" in exc.value.message_dict["collector_id_number"][0]
    with pytest.raises(ValidationError) as exc:
        actions.hand_over(case=case, actor=printer, by_proxy=True, collector_id_number="123")
    assert set(exc.value.message_dict) == {
        "collector_name",
        "collector_id_number",
        "authorisation",
        "authorisation_checked",
    }
    with pytest.raises(ValidationError) as exc:  # the applicant is no proxy
        actions.hand_over(
            case=case,
            actor=printer,
            by_proxy=True,
            collector_name="张三",
            collector_id_number=wf.applicant_id,
            authorisation="委托书",
            authorisation_checked=True,
        )
    assert "collector_id_number" in exc.value.message_dict
    assert Case.objects.get(pk=case.pk).state == "ready_for_pickup"

    case = on_commit(
        actions.hand_over,
        case=case,
        actor=printer,
        by_proxy=True,
        collector_name="李四",
        collector_id_number=other,
        authorisation="授权委托书（2026-12-01，申请人签字）",
        authorisation_checked=True,
    )
    assert case.state == "delivered"
    payload = case.events.get(transition="hand_over").payload
    assert payload["collector"] == "proxy" and payload["collector_name"] == "李四"
    assert payload["collector_id_masked"] == other[:6] + "********" + other[-4:]
    assert other not in str(payload) and payload["authorisation"].startswith("授权委托书")

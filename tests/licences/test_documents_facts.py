"""Each result document states what its result type certifies, from the facts taken at intake —
a 户籍证明 that names no registration facts certifies nothing to a third party."""

from __future__ import annotations

import pytest
from django.core.exceptions import ValidationError

from services.models import Item
from workflows import facts
from workflows.models import Case


def pdf_text(pdf_bytes: bytes) -> str:
    pdfium = pytest.importorskip("pypdfium2")
    page = pdfium.PdfDocument(pdf_bytes)[0]
    return page.get_textpage().get_text_range().replace("\r", "").replace("\n", "")


HOUSEHOLD = {
    "registered_address": "贵州省贵阳市云岩区中华北路100号",
    "household_head": "张大山",
    "relation": "子",
    "household_head_id": "520102195001011234",
    "registering_authority": "云岩区中华北路派出所",
    "purpose": "办理入学",
}


def _as_household_certificate(wf) -> Item:
    item = wf.items["proxy"]
    item.result_type, item.name, item.result_name = "certificate", "户籍证明开具（户籍类证明）", "户籍证明"
    item.save(update_fields=["result_type", "name", "result_name"])
    return item


def test_household_certificate_states_the_registration_facts_masked(wf, drive, on_commit):
    from tests.licences.test_delivery import client_for

    item = _as_household_certificate(wf)
    assert [f.key for f in facts.facts_for(item)][:3] == ["registered_address", "household_head", "relation"]
    case = wf.receive(form=HOUSEHOLD)
    assert case.form_data["household_head_id"] == "520102195001011234"
    wf.upload_required(case)
    case = on_commit(drive, case, "approved")
    pdf_bytes = client_for(wf.users["zy_printer"]).get(f"/api/v1/cases/{case.number}/result.pdf").content
    text = pdf_text(pdf_bytes)
    for label, value in (
        ("户籍地址", "贵州省贵阳市云岩区中华北路100号"),
        ("户主姓名", "张大山"),
        ("与户主关系", "子"),
        ("户口登记机关", "云岩区中华北路派出所"),
    ):
        assert f"{label}：{value}" in text, label
    assert "520102195001011234" not in text and "户主证件号码：520102********1234" in text  # 户主's ID masked
    assert wf.applicant_id not in text
    assert "。。" not in text and "。；" not in text


def test_licence_states_premises_and_scope(wf, drive, on_commit):
    from tests.licences.test_delivery import client_for

    case = wf.receive(form={"premises": "遵义市红花岗区丁字口1号", "scope": "预包装食品销售；热食类食品制售"})
    wf.upload_required(case)
    case = on_commit(drive, case, "approved")
    text = pdf_text(client_for(wf.users["zy_printer"]).get(f"/api/v1/cases/{case.number}/result.pdf").content)
    assert "遵义市红花岗区丁字口1号" in text and "热食类食品制售" in text


def test_missing_or_unknown_facts_are_refused_and_nothing_is_created(wf):
    _as_household_certificate(wf)
    with pytest.raises(ValidationError) as exc:
        wf.receive(form={"registered_address": "x", "colour": "red", "household_head_id": "123"})
    errors = exc.value.message_dict
    assert "form.household_head" in errors and "form.registering_authority" in errors
    assert "form.colour" in errors and "form.household_head_id" in errors
    assert "form.purpose" not in errors  # optional
    assert not Case.objects.exists()

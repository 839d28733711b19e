"""Materials: digests, size and type limits, safe storage, reuse, corrections."""

from __future__ import annotations

import hashlib
import io
from pathlib import Path

import pytest
from django.conf import settings
from django.core.exceptions import ValidationError

from tests.fixtures.workflows import PDF, PNG
from workflows import actions
from workflows.models import Case, Material


def test_upload_records_digest_size_type_and_random_name(wf):
    case = wf.receive()
    m = wf.upload(case, "form", content=PDF)
    assert m.sha256 == hashlib.sha256(PDF).hexdigest() and m.size == len(PDF)
    assert m.content_type == "application/pdf" and m.source == "window_scan"
    name = Path(m.file.name)
    assert name.suffix == ".pdf" and "form" not in name.name and name.parts[0] == "materials"
    stored = Path(settings.MEDIA_ROOT) / m.file.name
    assert stored.read_bytes() == PDF
    assert m.original_name == "form.png"


def test_type_is_sniffed_not_trusted(wf):
    case = wf.receive()
    with pytest.raises(ValidationError) as exc:
        actions.add_material_file(
            case=case,
            actor=wf.users["zy_clerk"],
            requirement="form",
            upload=io.BytesIO(b"MZ\x90\x00evil"),
            filename="form.pdf",
        )
    assert "file" in exc.value.message_dict
    assert not Material.objects.exists()


def test_size_limit(wf, settings):
    settings.MAX_UPLOAD_BYTES = 1024
    case = wf.receive()
    with pytest.raises(actions.UploadTooLarge):
        wf.upload(case, "form", content=PNG + b"\x00" * 2048)
    assert not Material.objects.exists()


def test_unknown_requirement_and_wrong_person_and_state(wf, drive):
    case = wf.receive()
    with pytest.raises(ValidationError):
        wf.upload(case, "nope")
    with pytest.raises(actions.TransitionForbidden):
        wf.upload(case, "form", user="gy_clerk")
    case = drive(case, "transferred")
    with pytest.raises(actions.TransitionConflict):
        wf.upload(case, "form")


def test_reupload_supersedes(wf):
    case = wf.receive()
    first = wf.upload(case, "form", content=PNG)
    second = wf.upload(case, "form", content=PDF)
    assert Material.objects.get(pk=first.pk).superseded_at is not None
    assert [m.pk for m in actions.current_materials(case) if m.requirement.code == "form"] == [second.pk]


def test_shared_material_reuse_for_the_same_applicant(wf):
    earlier = wf.receive()
    source = wf.upload(earlier, "form", content=PDF)
    later = wf.receive()
    m = actions.add_material_shared(case=later, actor=wf.users["zy_clerk"], requirement="form", material_id=source.pk)
    assert m.source == "shared" and m.sha256 == source.sha256 and m.file.name == source.file.name and m.consent_at
    from tests.fixtures.workflows import id_number
    from workflows.actions import ApplicantInput

    stranger = wf.receive(applicant=ApplicantInput("李四", id_number("52030219850202123"), "13800138009"))
    with pytest.raises(ValidationError):
        actions.add_material_shared(
            case=stranger, actor=wf.users["zy_clerk"], requirement="form", material_id=source.pk
        )


def test_e_license_waives_the_paper_material(wf, drive):
    done = drive(wf.receive(), "approved")
    result = done.results.get()
    case = wf.online()
    m = actions.add_material_e_license(
        case=case, actor=wf.users["citizen"], requirement="lease", result_id=str(result.pk)
    )
    assert m.source == "e_license" and m.e_license == result and m.consent_at
    with pytest.raises(ValidationError):  # requirement without an e-licence type
        actions.add_material_e_license(
            case=case, actor=wf.users["citizen"], requirement="form", result_id=str(result.pk)
        )
    with pytest.raises(ValidationError):
        actions.add_material_e_license(
            case=case, actor=wf.users["citizen"], requirement="lease", result_id="not-a-uuid"
        )


def test_verify_requires_required_materials_and_sighted_originals(wf):
    case = wf.receive()
    with pytest.raises(ValidationError) as exc:
        actions.verify(case=case, actor=wf.users["zy_clerk"], id_checked=True, originals_sighted=["id_card"])
    assert "materials" in exc.value.message_dict
    wf.upload_required(case)
    with pytest.raises(ValidationError) as exc:
        actions.verify(case=case, actor=wf.users["zy_clerk"], id_checked=True, originals_sighted=[])
    assert "身份证明" in exc.value.message_dict["originals_sighted"][0]
    assert Case.objects.get(pk=case.pk).state == "received"


def test_repeated_corrections_visible_to_supervisors(wf, drive):
    from workflows.selectors import repeated_corrections

    case = drive(wf.receive(), "transferred")
    for reason in ("缺页", "又缺页"):
        case = actions.request_correction(
            case=case, actor=wf.users["yy_approver"], items=[actions.CorrectionItem("form", reason)]
        )
        case = actions.resubmit(case=case, actor=wf.users["zy_clerk"], notes={1: "已补页"})
    once = drive(wf.receive(), "transferred")
    actions.request_correction(case=once, actor=wf.users["yy_approver"], items=[actions.CorrectionItem("form", "x")])
    assert list(repeated_corrections(wf.users["sup_province"])) == [case]
    assert list(repeated_corrections(wf.users["sup_guiyang"])) == [case]  # jurisdiction 云岩区
    assert list(repeated_corrections(wf.users["yy_approver"])) == []  # supervisors only
    assert case.corrections.count() == 2

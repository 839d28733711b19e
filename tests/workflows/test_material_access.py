"""Materials viewable by those who decide: scoped download / watermarked preview, the stored digest
re-checked before serving, every view on the case's audit trail; trust grades and minimum grades."""

from __future__ import annotations

import hashlib
import io
import logging
from pathlib import Path

import pytest
from django.conf import settings
from django.core.exceptions import ValidationError
from django.core.management import call_command

from ledger.models import Entry
from workflows import actions
from workflows.models import Case, Material, MaterialView


def real_png(color: tuple[int, int, int] = (240, 240, 240), size: tuple[int, int] = (600, 400)) -> bytes:
    from PIL import Image

    out = io.BytesIO()
    Image.new("RGB", size, color).save(out, format="PNG")
    return out.getvalue()


def real_pdf(pages: int = 2) -> bytes:
    from reportlab.pdfgen.canvas import Canvas

    out = io.BytesIO()
    c = Canvas(out)
    for i in range(pages):
        c.drawString(100, 700, f"page {i + 1}")
        c.showPage()
    c.save()
    return out.getvalue()


@pytest.fixture
def case_with_files(wf):
    case = wf.receive()
    id_card = wf.upload(case, "id_card", content=real_png())
    form = wf.upload(case, "form", content=real_pdf())
    return case, id_card, form


def urls(case: Case, m: Material) -> list[str]:
    return [
        f"/api/v1/cases/{case.number}/materials/{m.pk}/file/",
        f"/api/v1/cases/{case.number}/materials/{m.pk}/preview/",
        f"/api/v1/cases/{case.number}/material-views/",
    ]


IN_DUTY = ["zy_clerk", "yy_approver", "yy_approver2", "hall_sup_zy", "sup_zunyi", "sup_guiyang", "sup_province"]
FOREIGN = ["gy_clerk", "st_clerk", "zy_printer_elsewhere", "hhg_approver", "yy_health", "other_citizen"]


@pytest.mark.parametrize("username", FOREIGN)
def test_foreign_staff_get_404_on_every_material_url(wf, case_with_files, api_client, username):
    case, id_card, form = case_with_files
    if username == "zy_printer_elsewhere":
        # A clerk of another hall who was never posted at the receiving or delivery hall.
        from accounts.models import Role, User
        from halls.models import StaffPost

        user = User.objects.create_user(username="gy_printer", password="x", role=Role.WINDOW_CLERK)
        StaffPost.objects.create(user=user, hall=wf.halls["guiyang"], window=wf.windows["gy_issuing"])
    else:
        user = wf.users[username]
    api_client.force_authenticate(user)
    for m in (id_card, form):
        for url in urls(case, m):
            assert api_client.get(url).status_code == 404, url
    assert not MaterialView.objects.exists()  # a refused stranger leaves no "view" and learns nothing


def test_anonymous_is_refused(case_with_files, api_client):
    case, id_card, _form = case_with_files
    for url in urls(case, id_card):
        assert api_client.get(url).status_code in (401, 403)


@pytest.mark.parametrize("username", IN_DUTY)
def test_staff_whose_duty_covers_the_case_may_download(wf, case_with_files, api_client, username):
    case, _id_card, form = case_with_files
    api_client.force_authenticate(wf.users[username])
    r = api_client.get(f"/api/v1/cases/{case.number}/materials/{form.pk}/file/")
    assert r.status_code == 200
    assert r.content == (Path(settings.MEDIA_ROOT) / form.file.name).read_bytes()
    assert r["Content-Type"] == "application/pdf"
    assert r["Content-Disposition"] == f'attachment; filename="{case.number}-form.pdf"'
    assert r["X-Content-Type-Options"] == "nosniff" and "no-store" in r["Cache-Control"]


def test_applicant_may_view_and_a_material_of_another_case_is_404(wf, case_with_files, api_client):
    case, id_card, _form = case_with_files
    case.refresh_from_db()
    assert case.applicant_id == wf.users["citizen"].pk  # claimed by the ID number
    api_client.force_authenticate(wf.users["citizen"])
    assert api_client.get(f"/api/v1/cases/{case.number}/materials/{id_card.pk}/preview/").status_code == 200
    other = wf.receive()
    api_client.force_authenticate(wf.users["zy_clerk"])
    # The other case's number with this case's material id: not its material → 404.
    assert api_client.get(f"/api/v1/cases/{other.number}/materials/{id_card.pk}/file/").status_code == 404
    assert api_client.get(f"/api/v1/cases/{case.number}/materials/999999/file/").status_code == 404


def test_case_detail_lists_each_material_with_its_urls_and_grade(wf, case_with_files, api_client):
    case, id_card, form = case_with_files
    api_client.force_authenticate(wf.users["yy_approver"])
    materials = {m["requirement"]: m for m in api_client.get(f"/api/v1/cases/{case.number}/").json()["materials"]}
    assert materials["form"]["url"].endswith(f"/api/v1/cases/{case.number}/materials/{form.pk}/file/")
    assert materials["id_card"]["preview_url"].endswith(f"/materials/{id_card.pk}/preview/")
    assert materials["form"]["grade"] == "uploaded"


def test_preview_is_a_watermarked_png_for_images_and_each_pdf_page(wf, case_with_files, api_client):
    from PIL import Image

    case, id_card, form = case_with_files
    api_client.force_authenticate(wf.users["yy_approver"])
    r = api_client.get(f"/api/v1/cases/{case.number}/materials/{id_card.pk}/preview/")
    assert r.status_code == 200 and r["Content-Type"] == "image/png"
    assert r["Content-Disposition"].startswith("inline;")
    image = Image.open(io.BytesIO(r.content)).convert("RGB")
    assert image.size == (600, 400)
    # The uploaded image is one flat grey; the watermark adds red text across it and in a band.
    reds = sum(n for n, px in image.getcolors(maxcolors=1 << 24) if px[0] > px[1] + 40)
    assert reds > 500
    assert r.content != id_card.file.storage.open(id_card.file.name).read()

    r1 = api_client.get(f"/api/v1/cases/{case.number}/materials/{form.pk}/preview/?page=2")
    assert r1.status_code == 200 and r1["X-Page-Count"] == "2" and r1["X-Page"] == "2"
    assert api_client.get(f"/api/v1/cases/{case.number}/materials/{form.pk}/preview/?page=3").status_code == 422
    assert api_client.get(f"/api/v1/cases/{case.number}/materials/{form.pk}/preview/?page=x").status_code == 400


def test_watermark_names_case_viewer_and_beijing_time(wf, case_with_files):
    import datetime as dt

    case, _id_card, _form = case_with_files
    at = dt.datetime(2026, 3, 2, 1, 30, tzinfo=dt.UTC)
    lines = actions.watermark_lines(case, wf.users["yy_approver"], at)
    assert lines[0] == f"仅供 {case.number} 办理使用"
    assert "云岩审批员" in lines[1] and "yy_approver" in lines[1]
    assert "2026-03-02 09:30:00" in lines[2]  # UTC+8


def test_tampered_stored_file_is_refused_logged_and_alerted(wf, case_with_files, api_client, caplog):
    case, _id_card, form = case_with_files
    stored = Path(settings.MEDIA_ROOT) / form.file.name
    stored.write_bytes(stored.read_bytes() + b"\n% page X: edited after submission\n")
    api_client.force_authenticate(wf.users["yy_approver"])
    with caplog.at_level(logging.ERROR, logger="workflows.actions"):
        for kind in ("file", "preview"):
            r = api_client.get(f"/api/v1/cases/{case.number}/materials/{form.pk}/{kind}/")
            assert r.status_code == 409
            assert "摘要不符" in r.json()["detail"]
            assert b"page X" not in r.content
    assert any("SHA-256" in rec.getMessage() and case.number in rec.getMessage() for rec in caplog.records)
    refused = list(MaterialView.objects.filter(material=form).values_list("kind", "outcome"))
    assert refused == [("download", "tampered"), ("preview", "tampered")]
    # A missing file is refused the same way.
    stored.unlink()
    assert api_client.get(f"/api/v1/cases/{case.number}/materials/{form.pk}/file/").status_code == 409
    assert MaterialView.objects.filter(material=form, outcome="missing").count() == 1


def test_view_log_lists_each_view_on_the_case_audit_trail(wf, case_with_files, api_client):
    case, id_card, form = case_with_files
    for who, m, kind in [
        ("yy_approver", form, "preview"),
        ("yy_approver", form, "file"),
        ("sup_guiyang", id_card, "preview"),
        ("zy_clerk", id_card, "file"),
    ]:
        api_client.force_authenticate(wf.users[who])
        assert api_client.get(f"/api/v1/cases/{case.number}/materials/{m.pk}/{kind}/").status_code == 200
    api_client.force_authenticate(wf.users["sup_province"])
    log = api_client.get(f"/api/v1/cases/{case.number}/material-views/").json()["results"]
    assert [(v["viewer"], v["requirement"], v["kind"], v["outcome"]) for v in log] == [
        (wf.users["yy_approver"].pk, "form", "preview", "served"),
        (wf.users["yy_approver"].pk, "form", "download", "served"),
        (wf.users["sup_guiyang"].pk, "id_card", "preview", "served"),
        (wf.users["zy_clerk"].pk, "id_card", "download", "served"),
    ]
    assert all(v["at"] for v in log)
    # Each view is an entry of the case's ledger chain, and the verifier can rebuild it.
    views = list(MaterialView.objects.order_by("pk"))
    entries = Entry.objects.filter(subject=f"case:{case.number}", ref__startswith="material_view:")
    assert sorted(entries.values_list("ref", flat=True)) == sorted(f"material_view:{v.pk}" for v in views)
    call_command("verify_ledger", "--sources")
    # The case page shows the log.
    from django.test import Client

    client = Client()
    client.force_login(wf.users["yy_approver"])
    page = client.get(f"/workbench/cases/{case.number}/").content.decode()
    assert page.count('<tr class="view-served">') == 4


def test_edited_view_log_row_breaks_the_ledger_check(wf, case_with_files, api_client):
    case, id_card, _form = case_with_files
    api_client.force_authenticate(wf.users["yy_approver"])
    api_client.get(f"/api/v1/cases/{case.number}/materials/{id_card.pk}/file/")
    MaterialView.objects.update(viewer=wf.users["zy_clerk"])  # someone rewrites who looked
    with pytest.raises(SystemExit):
        call_command("verify_ledger", "--sources")


def test_approver_workbench_shows_materials_inline_next_to_the_checklist(wf, case_with_files):
    from django.test import Client

    case, id_card, form = case_with_files
    client = Client()
    client.force_login(wf.users["yy_approver"])
    html = client.get(f"/workbench/cases/{case.number}/").content.decode()
    assert 'data-requirement="id_card"' in html and 'data-requirement="form"' in html
    assert f'src="/api/v1/cases/{case.number}/materials/{id_card.pk}/preview/"' in html
    assert f'href="/api/v1/cases/{case.number}/materials/{form.pk}/file/"' in html
    assert "申请人提交（未核验原件）" in html  # the grade, shown to the approver
    # The optional requirement without a material is listed as such.
    assert 'data-requirement="lease"' in html and "未提交（非必要）" in html


# --- trust grades ------------------------------------------------------------------------------


def test_grades_follow_the_source(wf, drive):
    earlier = drive(wf.receive(), "approved")
    result = earlier.results.get()
    case = wf.receive()
    licence = actions.add_material_e_license(
        case=case, actor=wf.users["zy_clerk"], requirement="lease", result_id=str(result.pk)
    )
    assert licence.grade == "issued"
    scan = wf.upload(case, "form", content=real_png())
    assert scan.grade == "uploaded"
    req = case.item.materials.get(code="id_card")
    req.pledge_allowed = True
    req.save()
    pledge = actions.add_material_pledge(case=case, actor=wf.users["zy_clerk"], requirement="id_card", text="本人承诺")
    assert pledge.grade == "pledge" and pledge.source == "pledge"
    assert pledge.sha256 == hashlib.sha256("本人承诺".encode()).hexdigest()
    actions.verify(
        case=case, actor=wf.users["zy_clerk"], id_checked=True, originals_sighted=["id_card", "form", "lease"]
    )
    grades = dict(
        Material.objects.filter(case=case, superseded_at__isnull=True).values_list("requirement__code", "grade")
    )
    # A sighted scan rises; an e-licence keeps its higher grade; a pledge has no original to see.
    assert grades == {"id_card": "pledge", "form": "sighted", "lease": "issued"}


def test_pledge_only_where_the_requirement_allows_it(wf):
    case = wf.receive()
    with pytest.raises(ValidationError) as exc:
        actions.add_material_pledge(case=case, actor=wf.users["zy_clerk"], requirement="form", text="承诺")
    assert "pledge" in exc.value.message_dict
    assert not Material.objects.exists()


@pytest.mark.parametrize(
    ("min_grade", "sighted", "ok"),
    [
        ("sighted", ["id_card"], False),  # the form is only an unsighted scan
        ("sighted", ["id_card", "form"], True),  # the clerk sighted its original in this step
        ("uploaded", ["id_card"], True),
        ("issued", ["id_card", "form"], False),  # only an e-licence / earlier result will do
    ],
)
def test_minimum_grade_blocks_verify_until_met(wf, min_grade, sighted, ok):
    req = wf.items["proxy"].materials.get(code="form")
    req.min_grade = min_grade
    req.save()
    case = wf.receive()
    wf.upload_required(case, content=real_png())
    if ok:
        actions.verify(case=case, actor=wf.users["zy_clerk"], id_checked=True, originals_sighted=sighted)
        assert Case.objects.get(pk=case.pk).state == "verified"
        return
    with pytest.raises(ValidationError) as exc:
        actions.verify(case=case, actor=wf.users["zy_clerk"], id_checked=True, originals_sighted=sighted)
    message = exc.value.message_dict["grades"][0]
    assert "申请书" in message and str(dict(req._meta.get_field("min_grade").choices)[min_grade]) in message
    case = Case.objects.get(pk=case.pk)
    assert case.state == "received" and case.events.count() == 1
    assert not Material.objects.filter(case=case, original_sighted_at__isnull=False).exists()


def test_pledge_below_minimum_blocks_verify_then_a_scan_meets_it(wf):
    req = wf.items["proxy"].materials.get(code="form")
    req.pledge_allowed = True
    req.min_grade = "uploaded"
    req.save()
    case = wf.receive()
    wf.upload(case, "id_card", content=real_png())
    actions.add_material_pledge(case=case, actor=wf.users["zy_clerk"], requirement="form", text="本人承诺")
    with pytest.raises(ValidationError) as exc:
        actions.verify(case=case, actor=wf.users["zy_clerk"], id_checked=True, originals_sighted=["id_card"])
    assert "申请书" in exc.value.message_dict["grades"][0] and "告知承诺" in exc.value.message_dict["grades"][0]
    wf.upload(case, "form", content=real_png())  # supersedes the pledge
    actions.verify(case=case, actor=wf.users["zy_clerk"], id_checked=True, originals_sighted=["id_card"])
    assert Case.objects.get(pk=case.pk).state == "verified"


def test_minimum_grade_through_the_api_names_what_is_missing(wf, api_client):
    req = wf.items["proxy"].materials.get(code="form")
    req.min_grade = "sighted"
    req.save()
    case = wf.receive()
    wf.upload_required(case, content=real_png())
    api_client.force_authenticate(wf.users["zy_clerk"])
    url = f"/api/v1/cases/{case.number}/transitions/verify/"
    r = api_client.post(url, {"id_checked": True, "originals_sighted": ["id_card"]}, format="json")
    assert r.status_code == 400 and "申请书" in r.json()["errors"]["grades"][0]
    r = api_client.post(url, {"id_checked": True, "originals_sighted": ["id_card", "form"]}, format="json")
    assert r.status_code == 200 and r.json()["state"] == "verified"


def test_online_case_is_held_to_minimum_grades_at_acceptance(wf):
    req = wf.items["proxy"].materials.get(code="form")
    req.min_grade = "sighted"
    req.save()
    case = wf.online()
    wf.upload_required(case, content=real_png())
    case = actions.submit(case=case, actor=wf.users["citizen"])
    with pytest.raises(ValidationError) as exc:
        actions.accept(case=case, actor=wf.users["yy_approver"])
    assert "申请书" in exc.value.message_dict["grades"][0]
    assert Case.objects.get(pk=case.pk).state == "submitted"


def test_preview_refuses_an_image_bomb_and_caps_a_giant_pdf_page(wf, api_client):
    import struct
    import zlib

    from reportlab.pdfgen.canvas import Canvas

    # A PNG whose header claims 30000 x 30000 pixels (a few hundred bytes on disk).
    def chunk(kind: bytes, body: bytes) -> bytes:
        return struct.pack(">I", len(body)) + kind + body + struct.pack(">I", zlib.crc32(kind + body))

    bomb = (
        b"\x89PNG\r\n\x1a\n"
        + chunk(b"IHDR", struct.pack(">IIBBBBB", 30000, 30000, 8, 2, 0, 0, 0))
        + chunk(b"IDAT", zlib.compress(b"\x00" * 1024))
        + chunk(b"IEND", b"")
    )
    out = io.BytesIO()
    c = Canvas(out, pagesize=(14000, 14000))  # a page ~5 m a side
    c.drawString(100, 100, "giant")
    c.showPage()
    c.save()
    case = wf.receive()
    png_m = wf.upload(case, "id_card", content=bomb)
    pdf_m = wf.upload(case, "form", content=out.getvalue())
    api_client.force_authenticate(wf.users["yy_approver"])
    assert api_client.get(f"/api/v1/cases/{case.number}/materials/{png_m.pk}/preview/").status_code == 422
    r = api_client.get(f"/api/v1/cases/{case.number}/materials/{pdf_m.pk}/preview/")
    assert r.status_code == 200
    from PIL import Image

    assert max(Image.open(io.BytesIO(r.content)).size) <= 1600

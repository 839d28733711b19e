"""A decision in Guiyang becomes a document collected in Zunyi (就近打证), mailed, or delivered
electronically — and the QR printed on it verifies offline against the published public key."""

from __future__ import annotations

import hashlib

import pytest
from cryptography.hazmat.primitives import serialization
from rest_framework.test import APIClient

from ledger.models import Entry
from licences import qr
from licences.models import ELicence, ResultDocument
from workflows import actions
from workflows.results import Result


def client_for(user=None) -> APIClient:
    c = APIClient()
    if user is not None:
        c.force_authenticate(user)
    return c


def public_keys_from_api() -> dict:
    """What an offline verifier downloads once: the PEM(s) from the public endpoint."""
    body = client_for().get("/api/v1/results/keys/").json()
    return {k["kid"]: serialization.load_pem_public_key(k["pem"].encode()) for k in body["keys"]}


def scan_printed_qr(pdf_bytes: bytes) -> str:
    """Rasterise the PDF page like a printer/scanner would and decode the QR code in the image."""
    pdfium = pytest.importorskip("pypdfium2")
    zxingcpp = pytest.importorskip("zxingcpp")
    doc = pdfium.PdfDocument(pdf_bytes)
    image = doc[0].render(scale=3).to_pil()
    found = [r.text for r in zxingcpp.read_barcodes(image) if r.format == zxingcpp.BarcodeFormat.QRCode]
    assert len(found) == 1, "exactly one QR code on the document"
    return found[0]


def drive_to_issue(wf, drive, on_commit, **receive_kwargs):
    case = wf.receive(**receive_kwargs)
    wf.upload_required(case)
    # approve issues the result inside the transition; the render runs when it commits.
    return on_commit(drive, case, "approved")


def test_proxy_received_in_zunyi_decided_in_guiyang_printed_and_handed_over_in_zunyi(wf, drive, on_commit):
    case = drive_to_issue(wf, drive, on_commit)
    assert case.receiving_hall == wf.halls["zunyi"] and case.authority == wf.departments["yy_market"]
    assert case.state == "print_queued" and case.delivery_hall == wf.halls["zunyi"]
    result = Result.objects.get(case=case)
    doc = ResultDocument.objects.get(result=result)
    assert doc.font_embedded, "a CJK TrueType font is installed here and must be embedded"
    assert doc.template == "licence"

    # The Zunyi issuing clerk opens the PDF from the print queue.
    printer = client_for(wf.users["zy_printer"])
    response = printer.get(f"/api/v1/cases/{case.number}/result.pdf")
    assert response.status_code == 200 and response["Content-Type"] == "application/pdf"
    pdf_bytes = b"".join(response.streaming_content) if response.streaming else response.content
    assert hashlib.sha256(pdf_bytes).hexdigest() == doc.sha256 == response["X-Content-SHA256"]

    case = on_commit(actions.print_result, case=case, actor=wf.users["zy_printer"])
    case = on_commit(actions.hand_over, case=case, actor=wf.users["zy_printer"], collector_id_number=wf.applicant_id)
    assert case.state == "delivered"

    # Offline: decode the printed QR, verify with the downloaded public key only.
    scanned = scan_printed_qr(pdf_bytes)
    check = qr.verify_token(scanned, public_keys_from_api())
    assert check.valid, check.reason
    assert check.claims["r"] == result.pk.hex and check.claims["n"] == result.number
    assert check.claims["i"] == "GZ-0001" and check.claims["a"] == "520103-market"
    assert check.claims["h"] == "张*" and "*" in check.claims["x"]
    assert wf.applicant_id not in scanned  # never the unmasked ID number

    # Online: the public API agrees, and the result digest is in the ledger.
    body = client_for().get(f"/api/v1/results/{result.pk}/verify/", {"p": scanned}).json()
    assert body["valid"] is True and body["revoked"] is False and body["status"] == "valid"
    assert body["issuer"] == "云岩区市场监管局" and body["holder_masked"] == "张*"
    assert body["item"] == "食品经营许可"
    entry = Entry.objects.get(pk=body["ledger"]["entry"])
    assert entry.kind == "result_digest" and entry.subject == f"case:{case.number}"
    assert f'"document_sha256":"{doc.sha256}"' in entry.payload

    # Delivered → in the applicant's e-licence library.
    licence = ELicence.objects.get(result=result)
    assert licence.license_type == "食品经营许可证" and licence.holder == wf.users["citizen"]
    assert licence.status == "valid"


def test_mail_delivery_and_offline_verification(wf, drive, on_commit):
    case = drive_to_issue(wf, drive, on_commit, delivery_method="mail", delivery_address="遵义市红花岗区某路1号")
    assert case.state == "issued"
    doc = ResultDocument.objects.get(result__case=case)
    case = on_commit(actions.mail, case=case, actor=wf.users["yy_approver"], tracking_number="SF1234567890")
    assert not ELicence.objects.filter(result__case=case).exists()  # not delivered yet
    case = on_commit(actions.confirm_receipt, case=case, actor=wf.users["citizen"])
    assert case.state == "delivered"
    pdf_bytes = client_for(wf.users["citizen"]).get(f"/api/v1/cases/{case.number}/result.pdf").content
    assert hashlib.sha256(pdf_bytes).hexdigest() == doc.sha256
    assert qr.verify_token(scan_printed_qr(pdf_bytes), public_keys_from_api()).valid
    assert ELicence.objects.filter(result__case=case).count() == 1


def test_electronic_delivery_online_case(wf, drive, on_commit):
    case = wf.online(delivery_method="electronic")
    wf.upload_required(case)
    case = on_commit(drive, case, "approved")
    assert case.state == "delivered"
    result = Result.objects.get(case=case)
    doc = ResultDocument.objects.get(result=result)
    pdf_bytes = client_for(wf.users["citizen"]).get(f"/api/v1/cases/{case.number}/result.pdf").content
    assert qr.verify_token(scan_printed_qr(pdf_bytes), public_keys_from_api()).valid
    assert doc.qr_payload in pdf_bytes.decode("latin-1")  # also in the PDF's metadata for software
    library = client_for(wf.users["citizen"]).get("/api/v1/e-licences/").json()
    assert [e["number"] for e in library["results"]] == [result.number]
    assert library["results"][0]["status"] == "valid"


def test_rendering_is_reproducible_and_idempotent(wf, drive, on_commit):
    from licences.actions import document_bytes, render_result_document

    case = drive_to_issue(wf, drive, on_commit)
    doc = ResultDocument.objects.get(result__case=case)
    assert render_result_document(result_id=doc.result_id).pk == doc.pk  # no second document
    assert Entry.objects.filter(ref=f"result:{doc.result_id}").count() == 1
    # A lost file is rebuilt byte for byte from the signed token.
    from django.core.files.storage import default_storage

    default_storage.delete(doc.storage_name)
    assert hashlib.sha256(document_bytes(doc)).hexdigest() == doc.sha256
    assert default_storage.exists(doc.storage_name)


def test_a_phone_camera_opens_the_verify_page_from_the_printed_qr(wf, drive, on_commit, settings, time_machine):
    """The printed QR holds an https URL of the public verify page (PUBLIC_BASE_URL) carrying the
    signed payload: GETting it verifies the payload, and the page dates the result in Beijing time.
    The same text still verifies offline with nothing but the public key."""
    from urllib.parse import urlsplit

    from django.test import Client

    settings.PUBLIC_BASE_URL = "https://zwfw.guizhou.example.gov.cn/"
    settings.ALLOWED_HOSTS = ["zwfw.guizhou.example.gov.cn", "testserver"]
    # 00:30 in Guiyang on 3 December is still 2 December in UTC: the page must say the 3rd.
    time_machine.move_to("2026-12-02T16:30:00+00:00", tick=False)
    case = drive_to_issue(wf, drive, on_commit)
    result = Result.objects.get(case=case)
    pdf_bytes = client_for(wf.users["zy_printer"]).get(f"/api/v1/cases/{case.number}/result.pdf").content
    scanned = scan_printed_qr(pdf_bytes)

    url = urlsplit(scanned)
    assert url.scheme == "https" and url.netloc == "zwfw.guizhou.example.gov.cn"
    assert url.path == f"/verify/{result.pk}/" and url.query.startswith("p=TB1.")
    assert qr.verify_token(scanned, public_keys_from_api()).valid  # offline, from the URL alone

    page = Client().get(f"{url.path}?{url.query}", secure=True, HTTP_HOST=url.netloc)
    assert page.status_code == 200
    html = page.content.decode()
    assert "真实有效" in html and "已用本省公钥核验二维码签名" in html
    assert "2026-12-03 00:30" in html and "2026-12-02" not in html
    assert result.number in html and wf.applicant_id not in html

    # A tampered payload in the same URL is reported as such, with nothing from the database.
    token = url.query.removeprefix("p=")
    forged = token[:-6] + ("AAAAAA" if not token.endswith("AAAAAA") else "BBBBBB")
    html = Client().get(url.path, {"p": forged}, secure=True, HTTP_HOST=url.netloc).content.decode()
    assert "真实有效" not in html and result.number not in html

"""Results API and page: the PDF by scope, verification (valid / revoked / forged), public keys,
revocation by the issuing authority only."""

from __future__ import annotations

import pytest
from rest_framework.test import APIClient

from ledger.models import Entry
from licences.models import ResultDocument, Revocation
from workflows.results import Result


def client_for(user=None) -> APIClient:
    c = APIClient()
    if user is not None:
        c.force_authenticate(user)
    return c


@pytest.fixture
def issued(wf, drive, on_commit):
    case = wf.receive()
    wf.upload_required(case)
    case = on_commit(drive, case, "approved")
    result = Result.objects.get(case=case)
    return case, result, ResultDocument.objects.get(result=result)


@pytest.mark.parametrize(
    ("who", "status"),
    [
        ("citizen", 200),  # the applicant
        ("zy_clerk", 200),  # receiving / delivery hall
        ("zy_printer", 200),
        ("yy_approver", 200),  # the authority
        ("sup_province", 200),
        ("sup_zunyi", 200),
        ("other_citizen", 404),
        ("gy_clerk", 404),  # a hall that has nothing to do with the case
        ("hhg_approver", 404),  # another department
        ("yy_health", 404),
        (None, 401),
    ],
)
def test_pdf_by_scope(issued, wf, who, status):
    case, _result, doc = issued
    r = client_for(wf.users[who] if who else None).get(f"/api/v1/cases/{case.number}/result.pdf")
    assert r.status_code == status, r.content[:200]
    if status == 200:
        assert r.content.startswith(b"%PDF-") and r["X-Content-SHA256"] == doc.sha256
        assert "no-store" in r["Cache-Control"]


def test_pdf_unknown_case_or_result(issued, wf):
    case, _r, _d = issued
    c = client_for(wf.users["citizen"])
    assert c.get("/api/v1/cases/520000-20260101-999999/result.pdf").status_code == 404
    assert c.get(f"/api/v1/cases/{case.number}/result.pdf", {"result": "nonsense"}).status_code == 404


def test_pdf_before_issue_is_404(wf):
    case = wf.receive()
    assert client_for(wf.users["zy_clerk"]).get(f"/api/v1/cases/{case.number}/result.pdf").status_code == 404


def test_tampered_stored_pdf_is_never_served(issued, wf):
    from django.core.files.storage import default_storage

    case, _r, doc = issued
    path = default_storage.path(doc.storage_name)
    with open(path, "r+b") as fh:
        fh.seek(400)
        fh.write(b"X")
    r = client_for(wf.users["citizen"]).get(f"/api/v1/cases/{case.number}/result.pdf")
    import hashlib

    assert r.status_code == 200 and hashlib.sha256(r.content).hexdigest() == doc.sha256  # rebuilt, not tampered


def test_verify_api_and_page(issued):
    _case, result, doc = issued
    anon = client_for()
    body = anon.get(f"/api/v1/results/{result.pk}/verify/").json()
    assert body["valid"] is True and body["revoked"] is False
    assert set(body) >= {"valid", "revoked", "item", "holder_masked", "issued_at", "issuer"}
    assert body["holder_masked"] == "张*" and body["document_sha256"] == doc.sha256
    body = anon.get(f"/api/v1/results/{result.pk}/verify/", {"p": doc.qr_payload}).json()
    assert body["status"] == "valid" and body["kid"] == doc.kid
    body = anon.get("/api/v1/results/verify/", {"p": doc.qr_payload}).json()
    assert body["valid"] and body["id"] == str(result.pk)
    page = anon.get(f"/verify/{result.pk}/", {"p": doc.qr_payload})
    html = page.content.decode()
    assert page.status_code == 200 and "真实有效" in html and "张*" in html and "张三" not in html
    assert "http://" not in html.replace("http://testserver", "") and "https://" not in html  # no CDN
    assert anon.get("/verify/00000000-0000-0000-0000-000000000000/").status_code == 404
    assert anon.get("/api/v1/results/not-a-uuid/verify/").status_code == 404
    assert anon.get("/api/v1/results/verify/").status_code == 400


def test_forged_payloads_are_reported_forged(issued, wf, drive, on_commit):
    _case, result, doc = issued
    anon = client_for()
    prefix, body, sig = doc.qr_payload.split(".")
    flipped = f"{prefix}.{body}.{('A' if sig[0] != 'A' else 'B') + sig[1:]}"
    assert anon.get(f"/api/v1/results/{result.pk}/verify/", {"p": flipped}).json()["status"] == "forged"
    truncated = doc.qr_payload[:-20]
    r = anon.get(f"/api/v1/results/{result.pk}/verify/", {"p": truncated}).json()
    assert r["status"] == "malformed" and r["valid"] is False and r["holder_masked"] is None
    # a genuine payload of ANOTHER result presented for this one (swapped QR sticker)
    other = wf.receive(delivery_method="electronic")
    wf.upload_required(other)
    other = on_commit(drive, other, "approved")
    other_doc = ResultDocument.objects.get(result__case=other)
    r = anon.get(f"/api/v1/results/{result.pk}/verify/", {"p": other_doc.qr_payload}).json()
    assert r["status"] == "forged" and r["valid"] is False
    page = anon.get(f"/verify/{result.pk}/", {"p": flipped}).content.decode()
    assert "伪造或被篡改" in page


def test_public_key_endpoints(issued, signing_keys):
    _case, _result, doc = issued
    anon = client_for()
    r = anon.get("/api/v1/results/public-key/")
    assert r.status_code == 200 and r.content.startswith(b"-----BEGIN PUBLIC KEY-----")
    assert r["X-Key-Id"] == doc.kid
    assert anon.get("/api/v1/results/public-key/", {"kid": doc.kid}).content == r.content
    assert anon.get("/api/v1/results/public-key/", {"kid": "ffffffff"}).status_code == 404
    keys = anon.get("/api/v1/results/keys/").json()
    assert keys["active"] == doc.kid and keys["keys"][0]["alg"] == "Ed25519"


def test_revocation_by_the_issuing_authority(issued, wf):
    case, result, doc = issued
    url = f"/api/v1/results/{result.pk}/revoke/"
    assert client_for().post(url, {"reason": "x"}, format="json").status_code == 401
    assert client_for(wf.users["gy_clerk"]).post(url, {"reason": "x"}, format="json").status_code == 404
    assert client_for(wf.users["hhg_approver"]).post(url, {"reason": "x"}, format="json").status_code == 404
    # can see the case, but is not the issuing authority
    for who in ("zy_clerk", "citizen", "sup_province"):
        assert client_for(wf.users[who]).post(url, {"reason": "x"}, format="json").status_code == 403, who
    approver = client_for(wf.users["yy_approver"])
    r = approver.post(url, {"reason": "  "}, format="json")
    assert r.status_code == 400 and "reason" in r.json()["errors"]
    assert not Revocation.objects.exists()
    r = approver.post(url, {"reason": "申请材料虚假，依法撤销"}, format="json")
    assert r.status_code == 200, r.json()
    assert r.json()["revoked"] is True and r.json()["status"] == "revoked" and r.json()["valid"] is False
    r = approver.post(url, {"reason": "again"}, format="json")
    assert r.status_code == 409 and r.json()["state"] == "revoked"
    entry = Entry.objects.get(ref=f"result_revoked:{result.pk}")
    assert entry.kind == "result_revoked" and "申请材料虚假" in entry.payload
    # everywhere it is now reported revoked, never valid — even with a genuinely signed QR
    body = client_for().get(f"/api/v1/results/{result.pk}/verify/", {"p": doc.qr_payload}).json()
    assert body["valid"] is False and body["revoked"] is True and body["revoked_reason"] == "申请材料虚假，依法撤销"
    assert "已撤销" in client_for().get(f"/verify/{result.pk}/").content.decode()
    r = client_for(wf.users["citizen"]).get(f"/api/v1/cases/{case.number}/result.pdf")
    assert r.status_code == 410 and "撤销" in r.json()["detail"]


def test_joint_case_one_document_per_authority_and_revocation_by_each(wf, drive, on_commit):
    from workflows import actions
    from workflows.models import Case

    parent = wf.receive(item="joint", mode="joint")
    wf.upload_required(parent)
    parent = drive(parent, "transferred")
    market, health = parent.children.order_by("number")
    for child, who in ((market, "yy_approver"), (health, "yy_health")):
        for name in ("accept", "start_review", "approve"):
            on_commit(actions.TRANSITION_ACTIONS[name], case=Case.objects.get(pk=child.pk), actor=wf.users[who])
    results = list(Result.objects.filter(case=parent).order_by("number"))
    assert len(results) == 2 and all(ResultDocument.objects.filter(result=r).exists() for r in results)
    citizen = client_for(wf.users["citizen"])
    shas = set()
    for r in results:
        response = citizen.get(f"/api/v1/cases/{parent.number}/result.pdf", {"result": str(r.pk)})
        assert response.status_code == 200
        shas.add(response["X-Content-SHA256"])
    assert len(shas) == 2
    # each authority revokes only its own part
    health_result = next(r for r in results if r.issuing_department == wf.departments["yy_health"])
    url = f"/api/v1/results/{health_result.pk}/revoke/"
    assert client_for(wf.users["yy_approver"]).post(url, {"reason": "x"}, format="json").status_code == 403
    assert client_for(wf.users["yy_health"]).post(url, {"reason": "卫生条件不再符合"}, format="json").status_code == 200
    other = next(r for r in results if r != health_result)
    assert client_for().get(f"/api/v1/results/{other.pk}/verify/").json()["valid"] is True

"""The cases API as API.md describes it."""

from __future__ import annotations

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from rest_framework.test import APIClient

from tests.fixtures.workflows import PDF, PNG
from workflows.models import Case, CaseEvent


def client_for(user) -> APIClient:
    c = APIClient()
    c.force_authenticate(user)
    return c


def create_proxy(wf, **overrides):
    body = {
        "item": "GZ-0001",
        "mode": "proxy",
        "jurisdiction": "520103",
        "receiving_hall": "H-ZY",
        "delivery": {"method": "pickup"},
        "applicant": {"name": "张三", "id_number": wf.applicant_id, "phone": "13800138000"},
    }
    body.update(overrides)
    return client_for(wf.users["zy_clerk"]).post("/api/v1/cases/", body, format="json")


def test_clerk_creates_proxy_case(wf):
    r = create_proxy(wf)
    assert r.status_code == 201, r.json()
    data = r.json()
    assert data["state"] == "received" and data["mode"] == "proxy"
    assert data["item"] == "GZ-0001" and data["jurisdiction"] == "520103"
    assert data["authority"] == "520103-market" and data["receiving_hall"] == "H-ZY"
    assert data["delivery"] == {"method": "pickup", "hall": "H-ZY", "address": None}
    assert data["applicant"]["name"] == "张三"
    assert data["applicant"]["id_number_masked"] == wf.applicant_id[:6] + "********" + wf.applicant_id[-4:]
    assert data["applicant"]["phone_masked"] == "138****8000"
    assert wf.applicant_id not in r.content.decode()
    assert data["sla"] == {"accept_by": None, "decide_by": None, "status": None}
    assert data["result"] is None
    assert data["events"][0]["transition"] == "receive" and data["events"][0]["from"] == ""
    assert set(data["events"][0]) >= {"transition", "from", "to", "actor", "at"}
    assert data["available_transitions"] == ["verify", "request_correction", "withdraw"]
    assert data["cross_region"] is True


@pytest.mark.parametrize(
    ("override", "field"),
    [
        ({"item": "GZ-0002"}, "mode"),
        ({"item": "NOPE"}, "item"),
        ({"jurisdiction": "999999"}, "jurisdiction"),
        ({"receiving_hall": "H-GY"}, "receiving_hall"),
        ({"delivery": {"method": "pickup", "hall": "H-ST"}}, "delivery.hall"),
        ({"applicant": {"name": "张三", "id_number": "123", "phone": "13800138000"}}, "applicant.id_number"),
        ({"mode": "fast"}, "mode"),
    ],
)
def test_create_refusals_are_400_with_field_errors(wf, override, field):
    r = create_proxy(wf, **override)
    assert r.status_code == 400, r.content
    body = r.json()
    assert body["detail"] and field in body["errors"], body
    assert Case.objects.count() == 0


def test_citizen_creates_online_draft(wf):
    r = client_for(wf.users["citizen"]).post(
        "/api/v1/cases/",
        {"item": "GZ-0001", "mode": "online", "jurisdiction": "520103", "delivery": {"method": "electronic"}},
        format="json",
    )
    assert r.status_code == 201, r.json()
    assert r.json()["state"] == "draft" and r.json()["available_transitions"] == ["submit", "withdraw"]


def test_authentication_required(wf, api_client):
    assert api_client.get("/api/v1/cases/").status_code == 401
    assert api_client.post("/api/v1/cases/", {}, format="json").status_code == 401


def test_token_auth(wf, api_client):
    from rest_framework.authtoken.models import Token

    token = Token.objects.create(user=wf.users["zy_clerk"])
    api_client.credentials(HTTP_AUTHORIZATION=f"Token {token.key}")
    assert api_client.get("/api/v1/cases/").status_code == 200


def upload(wf, number, code, content=PNG, user="zy_clerk", name="scan.png"):
    return client_for(wf.users[user]).post(
        f"/api/v1/cases/{number}/materials/",
        {"requirement": code, "file": SimpleUploadedFile(name, content)},
        format="multipart",
    )


def post(wf, user, number, transition, body=None):
    return client_for(wf.users[user]).post(
        f"/api/v1/cases/{number}/transitions/{transition}/", body or {}, format="json"
    )


def test_full_proxy_flow_over_the_api(wf):
    number = create_proxy(wf).json()["number"]
    r = upload(wf, number, "id_card")
    assert r.status_code == 201 and set(r.json()) >= {"id", "requirement", "sha256", "size", "source"}
    assert r.json()["source"] == "window_scan"
    assert upload(wf, number, "form", PDF, name="form.pdf").status_code == 201
    r = post(wf, "zy_clerk", number, "verify", {"id_checked": True, "originals_sighted": ["id_card"]})
    assert r.status_code == 200, r.json()
    assert r.json()["state"] == "verified" and r.json()["available_transitions"] == ["transfer", "withdraw"]
    assert post(wf, "zy_clerk", number, "transfer").json()["state"] == "transferred"
    r = client_for(wf.users["yy_approver"]).get(f"/api/v1/cases/{number}/")
    assert r.status_code == 200
    assert r.json()["available_transitions"] == ["request_correction", "accept", "reject"]
    assert r.json()["sla"]["status"] == "green" and r.json()["sla"]["accept_by"].endswith("+08:00")
    assert post(wf, "yy_approver", number, "accept").json()["sla"]["decide_by"]
    assert post(wf, "yy_approver", number, "start_review").status_code == 200
    r = post(wf, "yy_approver", number, "approve")
    assert r.json()["state"] == "print_queued"
    assert r.json()["result"]["verify_url"].startswith("http://testserver/") and r.json()["result"]["id"]
    r = client_for(wf.users["zy_printer"]).get(f"/api/v1/cases/{number}/")
    assert r.json()["available_transitions"] == ["print"]
    assert post(wf, "zy_printer", number, "print").json()["state"] == "ready_for_pickup"
    r = post(wf, "zy_clerk", number, "hand_over", {"collector_id_number": wf.applicant_id})
    assert r.json()["state"] == "delivered"
    assert [e["transition"] for e in r.json()["events"]][-2:] == ["print", "hand_over"]
    # the applicant sees their own case
    mine = client_for(wf.users["citizen"]).get("/api/v1/cases/").json()
    assert [c["number"] for c in mine["results"]] == [number]


def test_409_with_state_and_allowed(wf):
    number = create_proxy(wf).json()["number"]
    r = post(wf, "zy_clerk", number, "transfer")
    assert r.status_code == 409
    assert r.json() == {
        "detail": r.json()["detail"],
        "state": "received",
        "allowed": ["verify", "request_correction", "withdraw"],
    }


def test_403_for_visible_case_404_for_invisible(wf):
    number = create_proxy(wf).json()["number"]
    wf.upload_required(Case.objects.get(number=number))
    # the province supervisor sees it but may not act
    assert client_for(wf.users["sup_province"]).get(f"/api/v1/cases/{number}/").status_code == 200
    assert (
        post(wf, "sup_province", number, "verify", {"id_checked": True, "originals_sighted": ["id_card"]}).status_code
        == 403
    )
    # a clerk in 贵阳 / an approver elsewhere / another citizen do not see it at all
    for who in ("gy_clerk", "hhg_approver", "other_citizen", "sup_zunyi"):
        expected = 200 if who == "sup_zunyi" else 404  # 遵义's supervisor covers the receiving hall
        assert client_for(wf.users[who]).get(f"/api/v1/cases/{number}/").status_code == expected, who
    assert (
        post(wf, "gy_clerk", number, "verify", {"id_checked": True, "originals_sighted": ["id_card"]}).status_code
        == 404
    )
    assert post(wf, "zy_clerk", number, "fly").status_code == 404
    assert post(wf, "zy_clerk", number, "issue").status_code == 403  # system only
    assert CaseEvent.objects.filter(case__number=number).count() == 1


def test_transition_body_errors(wf):
    number = create_proxy(wf).json()["number"]
    r = post(wf, "zy_clerk", number, "request_correction", {"items": []})
    assert r.status_code == 400 and "items" in r.json()["errors"]
    r = post(wf, "zy_clerk", number, "request_correction", {"items": [{"requirement": "form", "reason": "缺签字"}]})
    assert r.status_code == 200 and r.json()["state"] == "needs_correction"
    assert r.json()["corrections"][0]["items"][0]["reason"] == "缺签字"


def test_upload_limits(wf, settings):
    number = create_proxy(wf).json()["number"]
    r = upload(wf, number, "form", b"GIF89a....", name="x.pdf")
    assert r.status_code == 400 and "file" in r.json()["errors"]
    settings.MAX_UPLOAD_BYTES = 100 * 1024
    r = upload(wf, number, "form", PNG + b"\x00" * (300 * 1024))
    assert r.status_code == 413
    settings.MAX_UPLOAD_BYTES = 1024
    r = upload(wf, number, "form", PNG + b"\x00" * 2000)
    assert r.status_code == 413
    r = client_for(wf.users["zy_clerk"]).post(
        f"/api/v1/cases/{number}/materials/", {"requirement": "form"}, format="json"
    )
    assert r.status_code == 400


def test_list_filters_and_scope(wf):
    create_proxy(wf)
    create_proxy(wf)
    r = client_for(wf.users["zy_clerk"]).get("/api/v1/cases/?state=received&mode=proxy")
    assert r.json()["count"] == 2
    assert client_for(wf.users["zy_clerk"]).get("/api/v1/cases/?mode=online").json()["count"] == 0
    assert client_for(wf.users["gy_clerk"]).get("/api/v1/cases/").json()["count"] == 0
    assert client_for(wf.users["yy_approver"]).get("/api/v1/cases/").json()["count"] == 2  # routed to them


def test_repeated_corrections_endpoint(wf):
    assert client_for(wf.users["zy_clerk"]).get("/api/v1/cases/repeated-corrections/").status_code == 403
    assert client_for(wf.users["sup_province"]).get("/api/v1/cases/repeated-corrections/").json()["count"] == 0


def test_schema_describes_the_cases_api(wf):
    r = client_for(wf.users["zy_clerk"]).get("/api/schema/?format=json")
    if r.status_code != 200:
        pytest.skip("schema view not available")
    paths = r.json()["paths"]
    assert "/api/v1/cases/{number}/transitions/{transition}/" in paths

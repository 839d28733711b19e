"""The hand-written renderings of the cases API (workflows.serializers) equal DRF's generic ones.

The response serializers write ``to_representation`` out by hand for speed; their declared fields
remain the schema. Here, for cases walked through every state of the three modes (a correction
notice and results included), each rendering is compared with what DRF's generic
``ModelSerializer.to_representation`` makes of the same declared fields, for every kind of reader.
A field added to ``Meta.fields`` and forgotten in the rendering, or rendered differently, fails.
"""

from __future__ import annotations

from typing import Any

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from rest_framework import serializers
from rest_framework.authtoken.models import Token
from rest_framework.request import Request
from rest_framework.test import APIClient, APIRequestFactory

from tests.fixtures.workflows import PDF, PNG, proxy_body
from workflows import selectors
from workflows.models import Case
from workflows.serializers import (
    CaseDetailSerializer,
    CaseListSerializer,
    EventOutSerializer,
    MaterialOutSerializer,
)

generic = serializers.ModelSerializer.to_representation

READERS = ("zy_clerk", "yy_approver", "yy_health", "zy_printer", "sup_province", "citizen")


def _request(user: Any) -> Request:
    request = Request(APIRequestFactory().get("/api/v1/cases/"))
    request.user = user
    return request


def _compare(wf: Any, number: str) -> int:
    """Compare every rendering of case ``number`` for every reader who may see it."""
    compared = 0
    for who in READERS:
        user = wf.users[who]
        case = selectors.case_for(user, number)
        if case is None:
            continue
        context = {"request": _request(user)}
        detail = CaseDetailSerializer(case, context=context)
        assert detail.to_representation(case) == generic(detail, case), (who, case.state)
        listed = CaseListSerializer(case, context=context)
        assert listed.to_representation(case) == generic(listed, case), (who, case.state)
        source = case.parent if case.parent_id else case
        material_out = MaterialOutSerializer(context={**context, "case": case})
        for m in source.materials.filter(superseded_at__isnull=True):
            assert material_out.to_representation(m) == generic(material_out, m)
        event_out = EventOutSerializer()
        for e in case.events.select_related("actor"):
            expected = generic(event_out, e)
            expected["from"] = expected.pop("from_")
            assert event_out.to_representation(e) == event_out._citizen_label(e, expected)
        compared += 1
    return compared


class Walk:
    def __init__(self, wf: Any) -> None:
        self.wf = wf
        self.clients: dict[str, APIClient] = {}
        self.compared = 0

    def client(self, who: str) -> APIClient:
        if who not in self.clients:
            c = APIClient()
            c.credentials(HTTP_AUTHORIZATION=f"Token {Token.objects.get_or_create(user=self.wf.users[who])[0].key}")
            self.clients[who] = c
        return self.clients[who]

    def create(self, who: str, body: dict[str, Any]) -> str:
        r = self.client(who).post("/api/v1/cases/", body, format="json")
        assert r.status_code == 201, r.content
        number = str(r.json()["number"])
        self.compared += _compare(self.wf, number)
        return number

    def upload(self, number: str, who: str) -> None:
        for code, content, name in (("id_card", PNG, "id.png"), ("form", PDF, "form.pdf")):
            r = self.client(who).post(
                f"/api/v1/cases/{number}/materials/",
                {"requirement": code, "file": SimpleUploadedFile(name, content)},
                format="multipart",
            )
            assert r.status_code == 201, r.content
        self.compared += _compare(self.wf, number)

    def step(self, number: str, name: str, who: str, body: dict[str, Any] | None = None) -> None:
        r = self.client(who).post(f"/api/v1/cases/{number}/transitions/{name}/", body or {}, format="json")
        assert r.status_code == 200, (name, r.content)
        self.compared += _compare(self.wf, number)
        parent = Case.objects.filter(number=number).values_list("parent__number", flat=True).first()
        if parent:
            self.compared += _compare(self.wf, parent)


def _proxy_body(wf: Any, item: str = "GZ-0001", mode: str = "proxy") -> dict[str, Any]:
    return proxy_body(wf.applicant_id, item, mode)


@pytest.mark.django_db
def test_every_rendering_equals_drfs_generic_one_through_three_lifecycles(wf):
    w = Walk(wf)
    verify = {"id_checked": True, "originals_sighted": ["id_card"]}

    # Proxy, with a correction notice on the way.
    n = w.create("zy_clerk", _proxy_body(wf))
    w.upload(n, "zy_clerk")
    w.step(n, "verify", "zy_clerk", verify)
    w.step(n, "transfer", "zy_clerk")
    w.step(n, "request_correction", "yy_approver", {"items": [{"requirement": "form", "reason": "缺签字"}]})
    w.upload(n, "zy_clerk")
    w.step(n, "resubmit", "zy_clerk")
    for name in ("accept", "start_review", "approve"):
        w.step(n, name, "yy_approver")
    w.step(n, "print", "zy_printer")
    w.step(n, "hand_over", "zy_clerk", {"collector_id_number": wf.applicant_id})

    # Online, by the citizen.
    body = {"item": "GZ-0001", "mode": "online", "jurisdiction": "520103", "delivery": {"method": "electronic"}}
    n = w.create("citizen", body)
    w.upload(n, "citizen")
    w.step(n, "submit", "citizen")
    for name in ("accept", "start_review", "approve"):
        w.step(n, name, "yy_approver")

    # Joint: two authorities, the parent followed after each sub-case.
    n = w.create("zy_clerk", _proxy_body(wf, "GZ-0003", "joint"))
    w.upload(n, "zy_clerk")
    w.step(n, "verify", "zy_clerk", verify)
    w.step(n, "transfer", "zy_clerk")
    for index, who in (("01", "yy_approver"), ("02", "yy_health")):
        for name in ("accept", "start_review", "approve"):
            w.step(f"{n}-{index}", name, who)
    w.step(n, "print", "zy_printer")
    w.step(n, "hand_over", "zy_clerk", {"collector_id_number": wf.applicant_id})

    assert w.compared > 100

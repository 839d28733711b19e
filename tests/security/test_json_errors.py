"""Finding 6: deeply nested or oversized JSON is a 400/413 in the API's error shape (not a 500 with a
traceback), and every 4xx has that one shape, nested fields included, with no Python reprs."""

from __future__ import annotations

import pytest
from rest_framework.test import APIClient

pytestmark = pytest.mark.django_db

DEEP = "[" * 100_000 + "]" * 100_000


def assert_shape(resp, status):
    assert resp.status_code == status, resp.content[:300]
    body = resp.json()
    assert isinstance(body["detail"], str) and body["detail"]
    assert set(body) <= {"detail", "errors", "state", "allowed"}
    assert isinstance(body.get("errors", {}), dict)
    for key, messages in body.get("errors", {}).items():
        assert isinstance(key, str) and all(isinstance(m, str) for m in messages)
        assert not any("ErrorDetail" in m or m.startswith(("{", "[")) for m in messages), messages
    assert "Traceback" not in resp.content.decode()
    return body


@pytest.mark.parametrize(
    "path", ["/api/v1/auth/otp/", "/api/v1/auth/otp/verify/", "/api/v1/auth/token/", "/api/v1/cases/"]
)
def test_deeply_nested_json_is_a_400_unauthenticated(path):
    resp = APIClient(raise_request_exception=False).post(path, data=DEEP, content_type="application/json")
    assert resp.status_code in (400, 401, 403)
    if resp.status_code == 400:
        assert "嵌套" in assert_shape(resp, 400)["detail"]


def test_depth_limit_and_size_limit(settings):
    settings.JSON_MAX_DEPTH = 5
    settings.JSON_MAX_BYTES = 2048
    c = APIClient(raise_request_exception=False)
    ok = c.post("/api/v1/auth/otp/", data='{"phone": "x", "a": [[[1]]]}', content_type="application/json")
    assert_shape(ok, 400)  # a bad phone, parsed fine
    assert "phone" in ok.json()["errors"]
    deep = c.post("/api/v1/auth/otp/", data='{"a": [[[[[[1]]]]]]}', content_type="application/json")
    assert "嵌套" in assert_shape(deep, 400)["detail"]
    big = c.post("/api/v1/auth/otp/", data='{"phone": "' + "1" * 4096 + '"}', content_type="application/json")
    assert_shape(big, 413)
    bad = c.post("/api/v1/auth/otp/", data='{"phone": NaN', content_type="application/json")
    assert_shape(bad, 400)


def test_nested_field_errors_have_paths_not_reprs(wf):
    c = APIClient()
    c.force_authenticate(wf.users["zy_clerk"])
    resp = c.post(
        "/api/v1/cases/",
        {"item": "x", "mode": "proxy", "jurisdiction": "520103", "delivery": {"method": "teleport"}, "applicant": {}},
        format="json",
    )
    body = assert_shape(resp, 400)
    assert "delivery.method" in body["errors"] and "applicant.name" in body["errors"]
    resp = c.post(
        "/api/v1/cases/NOPE/transitions/request_correction/", {"items": [{"reason": "ok"}, {}]}, format="json"
    )
    assert resp.status_code in (400, 404)
    assert_shape(resp, resp.status_code)


def test_every_4xx_has_the_shape(wf):
    anon = APIClient()
    assert_shape(anon.get("/api/v1/auth/me/"), 401)
    assert_shape(anon.get("/api/v1/no-such-endpoint/"), 404)
    assert_shape(anon.delete("/api/v1/auth/otp/"), 405)
    citizen = APIClient()
    citizen.force_authenticate(wf.users["citizen"])
    assert_shape(citizen.get("/api/v1/cases/NOPE/"), 404)


def test_flatten_lists_of_nested_objects():
    from rest_framework.exceptions import ErrorDetail

    from config.api_errors import _flatten

    detail = {
        "items": [{}, {"reason": [ErrorDetail("必填", code="required")]}],
        "tags": {0: [ErrorDetail("太长", code="max_length")]},
        "name": [ErrorDetail("必填", code="required")],
    }
    assert _flatten(detail) == {
        "items": ["1.reason: 必填"],
        "tags": ["0: 太长"],
        "name": ["必填"],
        "items.1.reason": ["必填"],
        "tags.0": ["太长"],
    }

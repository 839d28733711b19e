"""core.errors → HTTP in one place (config.api_errors.exception_handler): each domain error answers
with its status and the API's one error body, and the apps' own refusals are domain errors."""

from __future__ import annotations

import json

import pytest
from django.core.exceptions import PermissionDenied
from rest_framework.test import APIRequestFactory
from rest_framework.views import APIView

from config.api_errors import Conflict as ApiConflict
from config.api_errors import exception_handler
from core import errors


def _answer(exc: Exception) -> tuple[int, dict]:
    request = APIRequestFactory().get("/api/v1/x/")
    response = exception_handler(exc, {"view": APIView(), "request": request})
    assert response is not None
    return response.status_code, json.loads(json.dumps(response.data))


@pytest.mark.parametrize(
    ("exc", "status", "body"),
    [
        (errors.Conflict("已被占用。", state="busy", allowed=["call_next"]), 409,
         {"detail": "已被占用。", "state": "busy", "allowed": ["call_next"]}),
        (errors.Conflict("该视频核验已结束。"), 409, {"detail": "该视频核验已结束。"}),
        (errors.Forbidden("只有窗口人员可以收件。"), 403, {"detail": "只有窗口人员可以收件。"}),
        (errors.NotFound("没有这个办件。"), 404, {"detail": "没有这个办件。"}),
        (errors.TooLarge("文件过大，单个文件不能超过 1 MB。"), 413, {"detail": "文件过大，单个文件不能超过 1 MB。"}),
        (errors.Invalid("x", errors={"kind": ["无法发送。"]}), 400,
         {"detail": "无法发送。", "errors": {"kind": ["无法发送。"]}}),
    ],
)  # fmt: skip
def test_each_domain_error_has_its_status_and_body(exc, status, body):
    assert _answer(exc) == (status, body)


def test_a_forbidden_without_detail_says_what_drf_says():
    assert _answer(errors.Forbidden()) == _answer(PermissionDenied())


def test_the_apps_refusals_are_domain_errors():
    from halls.actions import SlotFull
    from licences.actions import AlreadyRevoked
    from ratings.actions import RatingConflict
    from remote.actions import ApplicantUnreachable, NotAMember, SessionConflict
    from workflows.actions import TransitionConflict, TransitionForbidden, UploadTooLarge

    assert ApiConflict is errors.Conflict
    for cls in (SlotFull, AlreadyRevoked, RatingConflict, SessionConflict, TransitionConflict):
        assert issubclass(cls, errors.Conflict), cls
    for cls in (TransitionForbidden, NotAMember):
        assert issubclass(cls, errors.Forbidden) and issubclass(cls, PermissionDenied), cls
    assert issubclass(UploadTooLarge, errors.TooLarge)
    assert issubclass(ApplicantUnreachable, errors.Invalid) and issubclass(ApplicantUnreachable, ValueError)
    conflict = TransitionConflict("不能。", state="submitted", allowed=["accept"])
    assert _answer(conflict) == (409, {"detail": "不能。", "state": "submitted", "allowed": ["accept"]})

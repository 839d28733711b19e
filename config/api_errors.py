"""One error shape for the whole API, every 4xx: {"detail": "...", "errors": {"field.path": [messages]}}
(`errors` only when the input had problems; `detail` is always a plain sentence, never a repr).

The one place where the domain's refusals (core.errors: Invalid, Forbidden, NotFound, Conflict,
TooLarge) become HTTP statuses: actions raise them, API views let them through."""

from __future__ import annotations

from typing import Any

from django.core.exceptions import PermissionDenied
from django.core.exceptions import ValidationError as DjangoValidationError
from django.http import Http404, HttpRequest, HttpResponse, JsonResponse
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy
from django.views import defaults
from rest_framework import exceptions, status
from rest_framework.response import Response
from rest_framework.views import exception_handler as drf_exception_handler

from core.errors import Conflict, DomainError, Forbidden, Invalid, NotFound, TooLarge

__all__ = ["Conflict", "error_body", "exception_handler"]


class _Conflict(exceptions.APIException):
    status_code = status.HTTP_409_CONFLICT
    default_detail = "Conflict."
    default_code = "conflict"


class _TooLarge(exceptions.APIException):
    status_code = status.HTTP_413_REQUEST_ENTITY_TOO_LARGE
    default_detail = gettext_lazy("文件过大。")
    default_code = "payload_too_large"


def _as_api_exception(exc: DomainError) -> exceptions.APIException:
    """The DRF exception whose status and body the domain error answers with (the rest of the
    handler then shapes the body as for any other APIException)."""
    if isinstance(exc, Invalid):
        return exceptions.ValidationError(exc.errors or {"non_field_errors": [exc.detail]})
    if isinstance(exc, Forbidden):
        return exceptions.PermissionDenied(exc.detail or None)
    if isinstance(exc, NotFound):
        return exceptions.NotFound(exc.detail or None)
    if isinstance(exc, Conflict):
        return _Conflict(exc.detail)
    if isinstance(exc, TooLarge):
        return _TooLarge(exc.detail or None)
    generic = exceptions.APIException(exc.detail or None)
    generic.status_code = exc.status_code
    return generic


def _paths(detail: Any, prefix: str = "") -> dict[str, list[str]]:
    out: dict[str, list[str]] = {}

    def add(key: str, msgs: list[str]) -> None:
        out.setdefault(key, []).extend(msgs)

    if isinstance(detail, dict):
        for key, value in detail.items():
            for k, msgs in _paths(value, f"{prefix}.{key}" if prefix else str(key)).items():
                add(k, msgs)
    elif isinstance(detail, list):
        for index, value in enumerate(detail):
            if isinstance(value, dict | list):
                for k, msgs in _paths(value, f"{prefix}.{index}" if prefix else str(index)).items():
                    add(k, msgs)
            else:
                add(prefix or "non_field_errors", [str(value)])
    else:
        add(prefix or "non_field_errors", [str(detail)])
    return out


def _flatten(detail: Any) -> dict[str, list[str]]:
    """DRF error details as {field: [messages]}, every message a plain string — never the repr of a
    dict or ErrorDetail. A nested problem is listed under its full path ("delivery.method",
    "items.1.reason") and, for clients that look up the top-level field, under that field too, with
    the rest of the path in front of the message."""
    paths = _paths(detail)
    out: dict[str, list[str]] = {}
    for path, msgs in paths.items():
        top, _sep, rest = path.partition(".")
        out.setdefault(top, []).extend(f"{rest}: {m}" if rest else m for m in msgs)
    for path, msgs in paths.items():
        if "." in path:
            out[path] = msgs
    return out


def error_body(detail: str, errors: dict[str, list[str]] | None = None, **extra: Any) -> dict[str, Any]:
    """The API's one error shape (every 4xx): `detail`, always one sentence to show; `errors`, when
    the problem is in the input, the messages by field path; a 409 adds `state` and `allowed`."""
    body: dict[str, Any] = {"detail": detail}
    if errors:
        body["errors"] = errors
    return {**body, **extra}


def exception_handler(exc: Exception, context: dict[str, Any]) -> Response | None:
    extra: dict[str, Any] = {}
    if isinstance(exc, DomainError):  # before PermissionDenied: Forbidden is one too
        extra = exc.extra
        exc = _as_api_exception(exc)
    elif isinstance(exc, DjangoValidationError):
        exc = exceptions.ValidationError(
            exc.message_dict if hasattr(exc, "error_dict") else {"non_field_errors": exc.messages}
        )
    elif isinstance(exc, Http404):
        exc = exceptions.NotFound()
    elif isinstance(exc, PermissionDenied):
        exc = exceptions.PermissionDenied()
    response = drf_exception_handler(exc, context)
    if response is None:
        return None
    if isinstance(exc, exceptions.ValidationError):
        errors = _flatten(exc.detail)
        fields = [k for k in errors if "." not in k]
        single = len(fields) == 1 and len(errors[fields[0]]) == 1
        # One problem: say it (by its own message, without the path prefix); several: point at them.
        only = next((v[0] for k, v in errors.items() if "." in k), None) if single else None
        first = only or (errors[fields[0]][0] if single else _("输入有误，请检查标出的字段。"))
        response.data = error_body(first if errors else _("输入有误。"), errors)
    elif isinstance(exc, exceptions.APIException):
        detail = exc.detail
        if isinstance(detail, dict | list):
            errors = _flatten(detail)
            response.data = error_body(next(iter(errors.values()), [str(exc.default_detail)])[0], errors)
        else:
            response.data = error_body(str(detail))
    if extra:  # a domain error's further fields (a 409's state and allowed) follow detail/errors
        response.data = {**response.data, **extra}
    return response


def _wants_json(request: HttpRequest) -> bool:
    return request.path.startswith("/api/")


def not_found(request: HttpRequest, exception: Exception | None = None) -> HttpResponse:
    """handler404: the API's JSON shape under /api/ (an unknown URL there is still an API answer)."""
    if _wants_json(request):
        return JsonResponse(error_body(_("未找到。")), status=404, json_dumps_params={"ensure_ascii": False})
    return defaults.page_not_found(request, exception or Http404())


def bad_request(request: HttpRequest, exception: Exception | None = None) -> HttpResponse:
    if _wants_json(request):
        return JsonResponse(error_body(_("请求无效。")), status=400, json_dumps_params={"ensure_ascii": False})
    return defaults.bad_request(request, exception or Exception())


def permission_denied(request: HttpRequest, exception: Exception | None = None) -> HttpResponse:
    if _wants_json(request):
        return JsonResponse(
            error_body(_("您没有执行该操作的权限。")), status=403, json_dumps_params={"ensure_ascii": False}
        )
    return defaults.permission_denied(request, exception or PermissionDenied())

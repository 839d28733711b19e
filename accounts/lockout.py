"""django-axes lockout response: the API's JSON error shape for API calls, a Chinese page otherwise."""

from __future__ import annotations

from typing import Any

from django.http import HttpRequest, HttpResponse, JsonResponse
from django.shortcuts import render
from django.utils.translation import gettext as _

from config.api_errors import error_body


def lockout_response(request: HttpRequest, original_response: Any = None, credentials: Any = None) -> HttpResponse:
    message = _("登录失败次数过多，账户已临时锁定，请稍后再试。")
    if request.path.startswith("/api/"):
        return JsonResponse(error_body(message), status=429, json_dumps_params={"ensure_ascii": False})
    return render(request, "accounts/locked.html", {"message": message}, status=429)

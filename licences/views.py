"""The public verification page /verify/<id>/ (Chinese, server-rendered, no external assets)."""

from __future__ import annotations

from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import render
from django.utils import timezone
from django.utils.translation import gettext_lazy as _
from django.views.decorators.http import require_GET

from licences import selectors

STATUS_LABELS = {
    "valid": _("真实有效"),
    "revoked": _("已撤销"),
    "forged": _("伪造或被篡改"),
    "unknown_key": _("签名密钥未知（非本省签发）"),
    "malformed": _("二维码内容不完整或无效"),
    "unknown": _("未登记"),
}


@require_GET
def verify_page(request: HttpRequest, result_id: str) -> HttpResponse:
    token = request.GET.get("p") or None
    outcome = selectors.verify(result_id, token)
    if outcome is None:
        raise Http404
    data = outcome.as_dict()
    result = outcome.result if data.get("id") else None
    context = {
        "v": data,
        # The page speaks the province's time (Asia/Shanghai), as the PDF does: a result issued at
        # 00:30 Beijing time is dated that day, not the previous UTC day.
        "issued_at": timezone.localtime(result.issued_at) if result is not None else None,
        "revoked_at": timezone.localtime(result.revoked_at) if result is not None and result.revoked_at else None,
        "status_label": STATUS_LABELS.get(outcome.status, outcome.status),
        "checked_token": bool(token),
    }
    response = render(request, "licences/verify.html", context)
    response["Cache-Control"] = "no-store"
    response["X-Robots-Tag"] = "noindex"
    return response

"""The twenty industry zones: item list, query services (case status by number + ID, result
verification, hall queues, e-licences) and policy services. Thin: selectors read, nothing here
decides a business rule."""

from __future__ import annotations

from django.conf import settings
from django.core.cache import cache
from django.core.paginator import Paginator
from django.http import Http404, HttpRequest, HttpResponse, JsonResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.utils.translation import gettext as _
from django.views.decorators.http import require_GET, require_http_methods

from citizen_portal import selectors
from services.models import IndustryZone

LOOKUPS_SESSION_KEY = "portal_case_lookups"
MAX_FAILED_LOOKUPS = 10  # per client address and hour: number + ID guessing stops here


def _zone_or_none(request: HttpRequest) -> IndustryZone | None:
    code = request.GET.get("zone") or request.POST.get("zone") or ""
    return IndustryZone.objects.filter(code=code).first() if code else None


@require_GET
def zone(request: HttpRequest, code: str) -> HttpResponse:
    zone_obj = get_object_or_404(IndustryZone, code=code)
    items_qs = zone_obj.items.filter(is_active=True).select_related("department_kind").order_by("code")
    q = request.GET.get("pq", "")
    policies = Paginator(selectors.zone_policies(zone_obj, q), 10).get_page(request.GET.get("page"))
    return render(
        request, "citizen_portal/zone.html", {"zone": zone_obj, "items": items_qs, "policies": policies, "pq": q}
    )


@require_GET
def policy(request: HttpRequest, pk: int) -> HttpResponse:
    doc = selectors.published_policy(pk)
    if doc is None:
        raise Http404
    items = doc.items.filter(is_active=True).order_by("code")
    return render(request, "citizen_portal/policy.html", {"doc": doc, "items": items, "zone": _zone_or_none(request)})


def _client_key(request: HttpRequest) -> str:
    return "portal:case-lookup-fail:" + (request.META.get("REMOTE_ADDR") or "unknown")


@require_http_methods(["GET", "POST"])
def query_case(request: HttpRequest) -> HttpResponse:
    """办件查询: number + the applicant's ID number. The ID travels in a POST body, never a URL."""
    ctx: dict[str, object] = {"zone": _zone_or_none(request), "number": "", "errors": []}
    if request.method == "GET":
        return render(request, "citizen_portal/query_case.html", ctx)
    key = _client_key(request)
    if int(cache.get(key, 0)) >= MAX_FAILED_LOOKUPS:
        ctx["errors"] = [_("查询失败次数过多，请一小时后再试，或拨打 12345 咨询。")]
        return render(request, "citizen_portal/query_case.html", ctx, status=429)
    number = request.POST.get("number", "").strip()
    id_number = request.POST.get("id_number", "").strip()
    ctx["number"] = number
    if not number or not id_number:
        ctx["errors"] = [_("请填写办件编号和申请人证件号码。")]
        return render(request, "citizen_portal/query_case.html", ctx, status=400)
    case = selectors.public_case(number, id_number)
    if case is None:
        cache.set(key, int(cache.get(key, 0)) + 1, 3600)
        # One message for both "no such case" and "wrong ID": the form must not confirm numbers.
        ctx["errors"] = [_("未找到与该证件号码匹配的办件，请核对后重试。")]
        return render(request, "citizen_portal/query_case.html", ctx, status=404)
    # This browser may now poll the case's state (number only, no ID in later requests).
    allowed = [n for n in request.session.get(LOOKUPS_SESSION_KEY, []) if n != case.number][-9:]
    request.session[LOOKUPS_SESSION_KEY] = [*allowed, case.number]
    status = selectors.public_case_status(case.number)
    response = render(
        request,
        "citizen_portal/query_case_result.html",
        {
            **ctx,
            "case": case,
            "status": status,
            "timeline": selectors.timeline(case),
            "assistance": selectors.assistance_of(case),
            "poll_seconds": int(settings.CITIZEN_TRACK_POLL_SECONDS),
        },
    )
    response["Cache-Control"] = "private, no-store"
    return response


@require_GET
def query_case_status(request: HttpRequest, number: str) -> HttpResponse:
    if number not in request.session.get(LOOKUPS_SESSION_KEY, []):
        raise Http404
    status = selectors.public_case_status(number)
    if status is None:
        raise Http404
    response = JsonResponse(
        {
            "number": status.number,
            "state": status.state,
            "label": status.label,
            "updated_at": status.updated_at.isoformat(),
            "events": status.events,
            "terminal": status.terminal,
        },
        json_dumps_params={"ensure_ascii": False},
    )
    response["Cache-Control"] = "private, no-store"
    return response


@require_GET
def query_verify(request: HttpRequest) -> HttpResponse:
    """结果核验: the result number printed on a licence → the verification page of licences."""
    result_id = request.GET.get("result", "").strip()
    if result_id:
        if not result_id.replace("-", "").isalnum() or len(result_id) > 64:
            return render(
                request,
                "citizen_portal/query_verify.html",
                {"zone": _zone_or_none(request), "result": result_id, "errors": [_("证照编号格式不正确。")]},
                status=400,
            )
        return redirect("licences:verify", result_id=result_id)
    return render(request, "citizen_portal/query_verify.html", {"zone": _zone_or_none(request), "errors": []})


@require_GET
def query_queue(request: HttpRequest) -> HttpResponse:
    """大厅排队: how many wait at each hall of a city or county right now."""
    region = selectors.region_by_code(request.GET.get("region", ""))
    rows = selectors.hall_queues(region) if region is not None and region.level in ("city", "county") else []
    status = 400 if request.GET.get("region") and not rows and region is None else 200
    return render(
        request,
        "citizen_portal/query_queue.html",
        {
            "zone": _zone_or_none(request),
            "region": region,
            "rows": rows,
            "county_groups": selectors.county_groups(),
            "error": _("未知的行政区划代码。") if status == 400 else "",
        },
        status=status,
    )

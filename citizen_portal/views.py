"""The citizens' site: home, city sites, zones, item search and item guides."""

from __future__ import annotations

from collections.abc import Callable
from functools import wraps
from typing import Any

from django.conf import settings
from django.contrib import messages
from django.contrib.auth.views import redirect_to_login
from django.core.exceptions import PermissionDenied, ValidationError
from django.core.paginator import Paginator
from django.http import Http404, HttpRequest, HttpResponse, HttpResponseNotModified, JsonResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.urls import reverse
from django.utils.http import url_has_allowed_host_and_scheme
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy as _lazy
from django.views.decorators.http import require_GET, require_POST

from accounts.models import Role, User
from citizen_portal import prefs, selectors
from citizen_portal import search as portal_search
from citizen_portal.models import CitySite, Skin
from govmap.models import Region
from halls.models import Hall
from licences.actions import use_e_licence, use_shared_material
from licences.models import ELicenceStatus
from licences.selectors import e_licences_for_case, pdf_url, shared_materials_for_case
from notifications.text import join_clauses
from services.models import IndustryZone, Item, Mode
from services.selectors import MAX_QUERY_LENGTH, search_items
from workflows import actions
from workflows.actions import TransitionConflict, UploadTooLarge, max_upload_bytes
from workflows.models import Case, CaseState, DeliveryMethod
from workflows.registry import REGISTRY


@require_GET
def home(request: HttpRequest) -> HttpResponse:
    # A city site on its own host name answers at that host's root.
    site = selectors.site_for_host(request.get_host())
    if site is not None:
        return _render_site(request, site)
    return render(
        request,
        "citizen_portal/home.html",
        {
            "sites": selectors.city_sites(),
            "zones": selectors.zones_with_counts(),
            "popular": selectors.popular_items(),
        },
    )


@require_POST
def set_prefs(request: HttpRequest) -> HttpResponse:
    """The visitor's skin and elderly mode (cookies); back to the page they came from."""
    nxt = request.POST.get("next", "")
    if not url_has_allowed_host_and_scheme(nxt, allowed_hosts={request.get_host()}, require_https=request.is_secure()):
        nxt = "/"
    response = redirect(nxt)
    skin = request.POST.get("skin")
    if skin is not None:
        if skin == "":
            response.delete_cookie(prefs.SKIN_COOKIE)
        elif skin in Skin.values:
            response.set_cookie(prefs.SKIN_COOKIE, skin, max_age=prefs.COOKIE_MAX_AGE, samesite="Lax")
        else:
            return HttpResponse(_("未知的皮肤。"), status=400, content_type="text/plain; charset=utf-8")
    elderly = request.POST.get("elderly")
    if elderly in ("0", "1"):
        response.set_cookie(prefs.ELDERLY_COOKIE, elderly, max_age=prefs.COOKIE_MAX_AGE, samesite="Lax")
    elif elderly is not None:
        return HttpResponse(_("长辈版开关无效。"), status=400, content_type="text/plain; charset=utf-8")
    return response


@require_GET
def items(request: HttpRequest) -> HttpResponse:
    q = request.GET.get("q", "")
    zone = request.GET.get("zone") or None
    mode = request.GET.get("mode") or None
    error = ""
    results: Any
    try:
        # The filters (and their validation) are the catalog's; the words are understood here:
        # pinyin, initials, everyday names, typos, ranked by use.
        qs = search_items("", mode=mode, zone=zone)
        if len(q.strip()) > MAX_QUERY_LENGTH:
            raise ValidationError({"q": [_("检索词不能超过 %(n)s 个字") % {"n": MAX_QUERY_LENGTH}]})
        results = portal_search.search(q, qs) if q.strip() else qs
    except ValidationError as exc:
        results = Item.objects.none()
        error = join_clauses(exc.messages)
    page = Paginator(results, 20).get_page(request.GET.get("page"))
    zone_obj = IndustryZone.objects.filter(code=zone).first() if zone else None
    return render(
        request,
        "citizen_portal/items.html",
        {"page": page, "q": q, "zone": zone_obj, "mode": mode, "error": error},
        status=400 if error else 200,
    )


@require_GET
def item_detail(request: HttpRequest, code: str) -> HttpResponse:
    item = get_object_or_404(
        Item.objects.select_related("department_kind").prefetch_related("materials", "zones"), code=code, is_active=True
    )
    guide = selectors.item_guide(item)
    materials = [(m, guide.samples.get(m.pk)) for m in item.materials.all()]
    return render(request, "citizen_portal/item.html", {"item": item, "guide": guide, "materials": materials})


def _render_site(request: HttpRequest, site: CitySite) -> HttpResponse:
    counties = (
        Region.objects.filter(parent=site.region).only("adcode", "name").order_by("adcode") if site.region else []
    )
    return render(
        request,
        "citizen_portal/city.html",
        {
            "site": site,
            "halls": selectors.site_halls(site),
            "counties": counties,
            "notices": selectors.site_notices(site),
            "featured": site.featured_items.filter(is_active=True).order_by("code"),
            "site_items": selectors.site_items(site),
        },
    )


@require_GET
def city_site(request: HttpRequest, key: str) -> HttpResponse:
    site = selectors.city_site(key)
    if site is None:
        raise Http404
    return _render_site(request, site)


@require_GET
def help_page(request: HttpRequest) -> HttpResponse:
    return render(request, "citizen_portal/help.html", {})


@require_GET
def privacy(request: HttpRequest) -> HttpResponse:
    return render(request, "citizen_portal/privacy.html", {})


# --- applying online and tracking one's own cases ---------------------------------------------
#
# Thin, like every page: parse the form, call ONE workflow (or licences) action, show its own
# message when it refuses. The actions validate; nothing here re-implements a business rule.


def _messages(exc: ValidationError) -> list[str]:
    if hasattr(exc, "error_dict"):
        return [str(m) for msgs in exc.message_dict.values() for m in msgs]
    return [str(m) for m in exc.messages]


def _user(request: HttpRequest) -> User:
    return request.user  # type: ignore[return-value]


ViewFunc = Callable[..., HttpResponse]


def citizen_required(view: ViewFunc) -> ViewFunc:
    """Citizens only: anonymous visitors go to the SMS login, staff get a clear 403 page (their
    cases are handled on the workbenches, and an online application is made in the applicant's
    own name)."""

    @wraps(view)
    def wrapper(request: HttpRequest, *args: Any, **kwargs: Any) -> HttpResponse:
        if not request.user.is_authenticated:
            return redirect_to_login(request.get_full_path(), reverse("accounts:sms-login"))
        if getattr(request.user, "role", None) != Role.CITIZEN:
            return render(request, "citizen_portal/forbidden.html", {}, status=403)
        return view(request, *args, **kwargs)

    return wrapper


# --- /apply/<item code>/ ---------------------------------------------------------------------------


def _apply_context(request: HttpRequest, item: Item, data: Any, errors: list[str]) -> dict[str, Any]:
    top, groups = selectors.jurisdiction_groups(item)
    jurisdiction = selectors.default_jurisdiction(item, _user(request), data.get("jurisdiction", ""))
    halls = selectors.hall_choice(jurisdiction, data.get("hall_region", ""), data.get("delivery_hall", ""))
    return {
        "item": item,
        "requirements": list(item.materials.all()),
        "top_regions": top,
        "region_groups": groups,
        "jurisdiction": jurisdiction,
        "county_groups": selectors.county_groups(),
        "hall_region": halls.region,
        "halls": halls.halls,
        "hall_code": halls.selected,
        "method": data.get("delivery_method") or DeliveryMethod.PICKUP,
        "methods": DeliveryMethod.choices,
        "address": data.get("delivery_address", ""),
        "errors": errors,
        "max_upload_mb": max_upload_bytes() // (1024 * 1024),
    }


@citizen_required
def apply(request: HttpRequest, code: str) -> HttpResponse:
    """在线申请: name the jurisdiction and how the result is delivered; creates a draft."""
    item = get_object_or_404(Item.objects.select_related("department_kind"), code=code, is_active=True)
    if not item.online:
        return render(request, "citizen_portal/apply_unavailable.html", {"item": item}, status=400)
    if request.method != "POST" or "find_halls" in request.POST:
        data = request.POST if request.method == "POST" else request.GET
        return render(request, "citizen_portal/apply.html", _apply_context(request, item, data, []))
    p = request.POST
    try:
        jurisdiction = selectors.region_by_code(p.get("jurisdiction", ""))
        if jurisdiction is None:
            raise ValidationError({"jurisdiction": [_("请选择属地（户籍所在地、企业住所地或不动产所在地）。")]})
        method = p.get("delivery_method", "")
        hall = Hall.objects.filter(code=p.get("delivery_hall", "")).first() if method == "pickup" else None
        case = actions.create_online(
            actor=_user(request),
            item=item,
            jurisdiction=jurisdiction,
            delivery_method=method,
            delivery_hall=hall,
            delivery_address=p.get("delivery_address", "") if method == "mail" else "",
            mode=Mode.JOINT if item.joint else Mode.ONLINE,
        )
    except ValidationError as exc:
        return render(
            request, "citizen_portal/apply.html", _apply_context(request, item, p, _messages(exc)), status=400
        )
    except PermissionDenied as exc:
        return render(request, "citizen_portal/forbidden.html", {"detail": str(exc)}, status=403)
    messages.success(request, _("申请草稿已创建（办件编号 %(n)s），请逐项上传申请材料后提交。") % {"n": case.number})
    return redirect("citizen_portal:my-case", number=case.number)


@citizen_required
@require_GET
def delivery_halls_json(request: HttpRequest) -> JsonResponse:
    """The issuing halls of a county, for the delivery-hall picker (no login data involved)."""
    region = selectors.region_by_code(request.GET.get("region", ""))
    if region is None:
        return JsonResponse({"detail": _("未知的行政区划代码。"), "halls": []}, status=400)
    halls = selectors.delivery_halls(region)
    return JsonResponse(
        {
            "region": region.adcode,
            "halls": [
                {"code": h.code, "name": h.name, "type": h.get_type_display(), "address": h.address} for h in halls
            ],
        },
        json_dumps_params={"ensure_ascii": False},
    )


# --- 我的办件 ------------------------------------------------------------------------------------------


@citizen_required
@require_GET
def my_cases(request: HttpRequest) -> HttpResponse:
    group = request.GET.get("group", "")
    group = group if group in selectors.CASE_FILTERS else ""
    page = Paginator(selectors.my_cases(_user(request), group=group), 20).get_page(request.GET.get("page"))
    groups = [("", _("全部")), ("todo", _("待我处理")), ("open", _("办理中")), ("done", _("已办结"))]
    rows = [(c, selectors.deadline_of(c)) for c in page.object_list]
    return render(
        request, "citizen_portal/my_cases.html", {"page": page, "rows": rows, "group": group, "groups": groups}
    )


def _my_case_or_404(request: HttpRequest, number: str) -> Case:
    case = selectors.my_case(_user(request), number)
    if case is None:
        raise Http404
    return case


# States whose page shows the outcome panel even before a result exists.
OUTCOME_STATES = (CaseState.MAILED, CaseState.DENIED, CaseState.REJECTED, CaseState.DELIVERED)


def _case_context(request: HttpRequest, case: Case) -> dict[str, Any]:
    user = _user(request)
    editable = selectors.materials_editable(user, case)
    notice = selectors.open_notice(case) if case.state == CaseState.NEEDS_CORRECTION else None
    allowed = selectors.citizen_transitions(user, case)
    status = selectors.case_status(user, case.number)
    results = selectors.result_links(case)
    pickup = (
        selectors.pickup_details(case) if case.state in (CaseState.PRINT_QUEUED, CaseState.READY_FOR_PICKUP) else None
    )
    rating = selectors.rating_link(case)
    return {
        "case": case,
        "status": status,
        "editable": editable,
        "rows": selectors.requirement_rows(case, with_reuse=editable, notice=notice),
        "notice": notice,
        "notices": list(case.corrections.order_by("issued_at")),
        "allowed": allowed,
        "timeline": selectors.timeline(case),
        "children": selectors.children_of(case),
        "results": results,
        "pickup": pickup,
        "rating": rating,
        "show_outcome": bool(results or pickup or rating or case.state in OUTCOME_STATES),
        "deadline": selectors.deadline_of(case),
        "max_upload_mb": max_upload_bytes() // (1024 * 1024),
        "poll_seconds": int(settings.CITIZEN_TRACK_POLL_SECONDS),
        "assistance": selectors.assistance_of(case),
    }


def _render_case(
    request: HttpRequest, case: Case, *, errors: list[str] | None = None, status: int = 200
) -> HttpResponse:
    ctx = _case_context(request, case)
    ctx["errors"] = errors or []
    response = render(request, "citizen_portal/my_case.html", ctx, status=status)
    response["Cache-Control"] = "private, no-store"
    return response


@citizen_required
@require_GET
def my_case(request: HttpRequest, number: str) -> HttpResponse:
    return _render_case(request, _my_case_or_404(request, number))


@citizen_required
@require_GET
def my_case_live(request: HttpRequest, number: str) -> HttpResponse:
    """The live parts of the case page (status, notice, materials, outcome, timeline), as an HTML
    fragment the tracker swaps in when the status has changed."""
    case = _my_case_or_404(request, number)
    response = render(request, "citizen_portal/_case_live.html", _case_context(request, case))
    response["Cache-Control"] = "private, no-store"
    return response


def _etag_matches(header: str, etag: str) -> bool:
    if not header:
        return False
    if header.strip() == "*":
        return True
    # Weak comparison (RFC 9110 §13.1.2): a proxy may have added W/.
    return any(tag.strip().removeprefix("W/") == etag for tag in header.split(","))


@citizen_required
@require_GET
def my_case_status(request: HttpRequest, number: str) -> HttpResponse:
    """What the live tracker polls: state, label, last change and event count; 304 when unchanged
    (one indexed row read, no body)."""
    status = selectors.case_status(_user(request), number)
    if status is None:
        raise Http404
    etag = status.etag
    if _etag_matches(request.headers.get("If-None-Match", ""), etag):
        response: HttpResponse = HttpResponseNotModified()
    else:
        response = JsonResponse(
            {
                "number": status.number,
                "state": status.state,
                "label": status.label,
                "sla": status.sla_status or None,
                "updated_at": status.updated_at.isoformat(),
                "events": status.events,
                "terminal": status.terminal,
            },
            json_dumps_params={"ensure_ascii": False},
        )
    response["ETag"] = etag
    # The browser must ask every time (the answer is cheap); never shared by a proxy.
    response["Cache-Control"] = "private, no-cache"
    response["Vary"] = "Cookie"
    return response


_REFUSALS = (ValidationError, UploadTooLarge, TransitionConflict, PermissionDenied)


def _refusal(request: HttpRequest, case: Case, exc: Exception) -> HttpResponse:
    """Show an action's refusal on the case page, with the status the API would use."""
    if isinstance(exc, ValidationError):
        return _render_case(request, case, errors=_messages(exc), status=400)
    if isinstance(exc, UploadTooLarge):
        return _render_case(request, case, errors=[str(exc)], status=413)
    if isinstance(exc, TransitionConflict):
        return _render_case(request, case, errors=[exc.detail], status=409)
    return _render_case(request, case, errors=[str(exc) or _("您无权执行此操作。")], status=403)


@citizen_required
@require_POST
def my_case_material(request: HttpRequest, number: str) -> HttpResponse:
    """Upload a file for one requirement, or use an e-licence (免提交) or an earlier material
    (材料共享) with the applicant's explicit consent."""
    case = _my_case_or_404(request, number)
    user = _user(request)
    p = request.POST
    requirement = p.get("requirement", "")
    source = p.get("source", "file")
    # An oversized body is refused before Django spools it to disk.
    if int(request.META.get("CONTENT_LENGTH") or 0) > max_upload_bytes() + 64 * 1024:
        return _refusal(request, case, UploadTooLarge(max_upload_bytes()))
    try:
        if source == "e_licence":
            elicence = next(
                (e for e in e_licences_for_case(case) if str(e.pk) == p.get("e_licence", "")),
                None,
            )
            if elicence is None:
                raise ValidationError({"e_license": [_("请选择您名下的电子证照。")]})
            use_e_licence(
                case=case, requirement=requirement, e_licence=elicence, actor=user, consent=p.get("consent") == "on"
            )
        elif source == "shared":
            shared = next(
                (m for m in shared_materials_for_case(case) if str(m.pk) == p.get("shared_material", "")),
                None,
            )
            if shared is None:
                raise ValidationError({"shared_material": [_("请选择可复用的材料。")]})
            use_shared_material(
                case=case, requirement=requirement, material=shared, actor=user, consent=p.get("consent") == "on"
            )
        else:
            upload = request.FILES.get("file")
            if upload is None:
                raise ValidationError({"file": [_("请选择要上传的文件。")]})
            actions.add_material_file(
                case=case, actor=user, requirement=requirement, upload=upload, filename=upload.name or ""
            )
    except _REFUSALS as exc:
        return _refusal(request, case, exc)
    name = case.item.materials.filter(code=requirement).values_list("name", flat=True).first() or requirement
    messages.success(request, _("“%(name)s”已提交。") % {"name": name})
    return redirect("citizen_portal:my-case", number=case.number)


# URL slug → workflow transition the applicant may take from their page.
CITIZEN_ACTIONS: dict[str, str] = {t.replace("_", "-"): t for t in selectors.CITIZEN_TRANSITIONS}
DONE_MESSAGES: dict[str, Any] = {
    "submit": _lazy("申请已提交，请等待部门受理。"),
    "resubmit": _lazy("补正材料已提交，请等待部门受理。"),
    "confirm_receipt": _lazy("已确认签收，感谢您的使用。"),
    "withdraw": _lazy("申请已撤回。"),
}


@citizen_required
@require_POST
def my_case_action(request: HttpRequest, number: str, action: str) -> HttpResponse:
    transition = CITIZEN_ACTIONS.get(action)
    if transition is None:
        raise Http404
    case = _my_case_or_404(request, number)
    # The form's inputs as the registry reads them (withdraw: the reason; resubmit: a note per item
    # no upload answers, e.g. “请补充签字”: signed and re-uploaded).
    kwargs = REGISTRY[transition].form_kwargs(request.POST)
    try:
        actions.TRANSITION_ACTIONS[transition](case=case, actor=_user(request), **kwargs)
    except _REFUSALS as exc:
        return _refusal(request, case, exc)
    messages.success(request, DONE_MESSAGES[transition])
    return redirect("citizen_portal:my-case", number=case.number)


# --- 我的电子证照 -------------------------------------------------------------------------------------


@citizen_required
@require_GET
def my_licences(request: HttpRequest) -> HttpResponse:
    user = _user(request)
    rows = [
        {
            "licence": e,
            "verify_url": e.result.verify_path,
            # The PDF API answers the applicant of the case; a result of a case received for this
            # person at a window before they had an account is verified, not downloaded, here.
            "pdf_url": pdf_url(e.result) if e.result.case.applicant_id == user.pk else "",
            "status": e.status,
            "status_label": ELicenceStatus(e.status).label,
        }
        for e in selectors.my_licences(user)
    ]
    return render(request, "citizen_portal/my_licences.html", {"rows": rows})

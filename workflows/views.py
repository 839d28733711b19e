"""Workbenches (server-rendered, session + CSRF): the window clerk's and the approver's.

Thin: each POST calls one action; every button shown is a transition the caller may take now
(``rules.available_transitions``), so the page never offers what the action would refuse.
"""

from __future__ import annotations

import functools
from typing import Any

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.exceptions import PermissionDenied, ValidationError
from django.db.models import Q
from django.http import Http404, HttpRequest, HttpResponse, HttpResponseRedirect, JsonResponse
from django.shortcuts import redirect, render
from django.urls import reverse
from django.utils.translation import gettext as _
from django.views.decorators.http import require_GET, require_POST

from accounts.models import Role
from govmap.models import Region
from halls.models import Hall
from halls.scope import posted_halls
from notifications.text import join_clauses
from services.models import Item, grade_meets
from workflows import actions, extensions, facts, guide, selectors
from workflows.actions import ApplicantInput, TransitionConflict, UploadTooLarge
from workflows.models import Case, CaseState, DeliveryMethod, SlaStatus
from workflows.registry import OFFERED, TRANSITION_LABELS
from workflows.rules import Actor, available_transitions


def _errors(exc: ValidationError) -> str:
    # Each message is a sentence with its own 。: joined once (“缺页；缺签字。”, never “缺页。；”).
    if hasattr(exc, "error_dict"):
        return join_clauses(m for msgs in exc.message_dict.values() for m in msgs)
    return join_clauses(exc.messages)


def _require_role(request: HttpRequest, role: str) -> None:
    if getattr(request.user, "role", None) != role:
        raise PermissionDenied(_("此工作台仅供%(role)s使用。") % {"role": Role(role).label})


@login_required
def home(request: HttpRequest) -> HttpResponse:
    role = getattr(request.user, "role", "")
    if role == Role.WINDOW_CLERK:
        return redirect("workflows:clerk")
    if role == Role.APPROVER:
        return redirect("workflows:approver")
    if role in (Role.SUPERVISOR, Role.HALL_SUPERVISOR):
        # A supervisor's day is ratings, rectifications and deadlines, not the case search.
        return redirect("ratings:dashboard")
    return redirect("workflows:cases")


@login_required
def clerk(request: HttpRequest) -> HttpResponse:
    _require_role(request, Role.WINDOW_CLERK)
    user = request.user
    assert user.pk is not None  # login_required
    halls = posted_halls(user)
    if request.method == "POST":
        return _receive(request, halls)
    queues = selectors.clerk_queue(user)  # type: ignore[arg-type]
    q, state, sla = _filters(request)
    shown = functools.partial(selectors.filtered, q=q, state=state, sla=sla)
    sections = [
        ("to_verify", _("待核验（已收件）"), queues["to_verify"]),
        ("to_transfer", _("待流转（已核验）"), queues["to_transfer"]),
        ("corrections", _("待补正"), queues["corrections"]),
        ("to_print", _("待打证"), queues["to_print"]),
        ("to_hand_over", _("待领取"), queues["to_hand_over"]),
        ("to_mail", _("待寄出"), queues["to_mail"]),
        ("mine_open", _("我经办的在办件（含已流转）"), selectors.my_cases(user, done=False)),  # type: ignore[arg-type]
        ("mine_done", _("我经办的已办结"), selectors.my_cases(user, done=True)),  # type: ignore[arg-type]
    ]
    return render(
        request,
        "workflows/clerk.html",
        {
            "halls": halls,
            "sections": [(key, title, list(shown(qs)[:100])) for key, title, qs in sections],
            "delivery_methods": DeliveryMethod.choices,
            "form": request.POST,
            "form_facts": {k.removeprefix("fact_"): v for k, v in request.POST.items() if k.startswith("fact_")},
            **_filter_context(q, state, sla),
        },
    )


def _filters(request: HttpRequest) -> tuple[str, str, str]:
    return (
        request.GET.get("q", "").strip()[:64],
        request.GET.get("state", "").strip()[:200],
        request.GET.get("sla", "").strip()[:8],
    )


def _filter_context(q: str, state: str, sla: str) -> dict[str, Any]:
    return {
        "q": q,
        "state": state,
        "sla": sla,
        "state_choices": [(v, label) for v, label in CaseState.choices if v != CaseState.DRAFT],
        "sla_choices": SlaStatus.choices,
        "filtering": bool(q or state or sla),
    }


def _receive(request: HttpRequest, halls: list[Hall]) -> HttpResponse:
    p = request.POST
    try:
        hall = next((h for h in halls if h.code == p.get("receiving_hall", "")), None)
        # The pickers fill the hidden code; without JavaScript the typed text is taken when it is
        # exactly a code or a name (never a guess among several).
        item = _pick_one(Item.objects.filter(is_active=True), p.get("item"), p.get("item_label"), "code")
        region = _pick_one(
            Region.objects.filter(level__in=["city", "county"]),
            p.get("jurisdiction"),
            p.get("jurisdiction_label"),
            "adcode",
        )
        errors = {}
        if hall is None:
            errors["receiving_hall"] = [_("请选择收件场所。")]
        if item is None:
            errors["item"] = [_("请选择事项。")]
        if region is None:
            errors["jurisdiction"] = [_("请选择属地。")]
        if errors:
            raise ValidationError(errors)
        wanted_hall = p.get("delivery_hall") or p.get("delivery_hall_label")
        delivery_hall = (
            _pick_one(Hall.objects.filter(is_active=True), p.get("delivery_hall"), p.get("delivery_hall_label"), "code")
            if wanted_hall
            else None
        )
        if wanted_hall and delivery_hall is None:
            raise ValidationError({"delivery_hall": [_("未找到该领证场所，请从列表中选择。")]})
        case = actions.receive(
            actor=request.user,  # type: ignore[arg-type]
            item=item,  # type: ignore[arg-type]
            jurisdiction=region,  # type: ignore[arg-type]
            receiving_hall=hall,  # type: ignore[arg-type]
            applicant=ApplicantInput(p.get("name", ""), p.get("id_number", ""), p.get("phone", "")),
            delivery_method=p.get("delivery_method", ""),
            delivery_hall=delivery_hall,
            delivery_address=p.get("delivery_address", ""),
            mode=p.get("mode", "proxy"),
            form={k.removeprefix("fact_"): v for k, v in p.items() if k.startswith("fact_")},
        )
    except ValidationError as exc:
        messages.error(request, _("收件失败：%(e)s") % {"e": _errors(exc)})
        return clerk_get(request)
    except PermissionDenied as exc:
        messages.error(request, str(exc))
        return clerk_get(request)
    messages.success(request, _("已收件，办件号 %(n)s。") % {"n": case.number})
    return redirect("workflows:case", number=case.number)


def _pick_one(qs: Any, code: str | None, label: str | None, field: str) -> Any:
    code = (code or "").strip()
    if code:
        return qs.filter(**{field: code}).first()
    label = (label or "").strip()
    if not label:
        return None
    matches = list(qs.filter(Q(**{field: label}) | Q(name=label))[:2])
    return matches[0] if len(matches) == 1 else None


def clerk_get(request: HttpRequest) -> HttpResponse:
    request.method = "GET"
    return clerk(request)


@login_required
def approver(request: HttpRequest) -> HttpResponse:
    _require_role(request, Role.APPROVER)
    user = request.user
    queue = selectors.approver_queue(user)  # type: ignore[arg-type]
    q, state, sla = _filters(request)
    shown = selectors.filtered(queue, q=q, state=state, sla=sla)
    return render(
        request,
        "workflows/approver.html",
        {
            "cases": list(shown[:200]),
            "counts": selectors.sla_counts(queue),
            "total": queue.count(),
            "mine_open": list(selectors.filtered(selectors.my_cases(user, done=False), q=q)[:50]),  # type: ignore[arg-type]
            "mine_done": list(selectors.filtered(selectors.my_cases(user, done=True), q=q)[:50]),  # type: ignore[arg-type]
            **_filter_context(q, state, sla),
        },
    )


@login_required
def cases(request: HttpRequest) -> HttpResponse:
    """Everyone's list of the cases they may see (supervisors, applicants, ...)."""
    repeated = request.GET.get("repeated") == "1"
    # repeated: 一次性告知 not respected — cases that needed more than one correction notice.
    user: Any = request.user
    qs = selectors.repeated_corrections(user) if repeated else selectors.case_list(user)
    q, state, sla = _filters(request)
    qs = selectors.filtered(qs, q=q, state=state, sla=sla)
    return render(
        request,
        "workflows/cases.html",
        {"cases": list(qs[:200]), "repeated": repeated, **_filter_context(q, state, sla)},
    )


def _case(request: HttpRequest, number: str) -> Case:
    case = selectors.case_for(request.user, number)  # type: ignore[arg-type]
    if case is None:
        raise Http404
    return case


@login_required
def case_detail(request: HttpRequest, number: str) -> HttpResponse:
    case = _case(request, number)
    actor = Actor(request.user)  # type: ignore[arg-type]
    allowed = available_transitions(actor, case)
    can_upload = case.state in actions.MATERIAL_STATES and not case.is_subcase
    try:
        if can_upload:
            actions._material_actor(case, request.user)  # type: ignore[arg-type]
    except PermissionDenied:
        can_upload = False
    source = case.parent if case.parent_id else case
    assert source is not None
    requirements = list(case.item.materials.all())
    materials = actions.current_materials(source)
    return render(
        request,
        "workflows/case.html",
        {
            "case": case,
            "allowed": [(name, TRANSITION_LABELS[name]) for name in allowed],
            "requirements": requirements,
            "materials": materials,
            "checklist": _checklist(requirements, materials),
            "material_views": list(selectors.material_views(case)[:200]),
            "can_pledge": can_upload and any(r.pledge_allowed for r in requirements),
            "panels": [html for panel in extensions.case_panels.all() if (html := panel(request, case))],
            "events": _labelled_events(case),
            "notices": case.corrections.order_by("issued_at"),
            "children": case.children.select_related("authority").order_by("number"),
            "results": case.results.select_related("case", "issuing_department").order_by("number"),
            "can_upload": can_upload,
            "back": reverse("workflows:home"),
            "guide": guide.next_step(case, request.user),
            "answers": _answers(case),
            "print_results": _print_results(case) if "print" in allowed else [],
            "collection": _collection(case),
            "facts": facts.printed(case.item, case.form_data),
            "console_halls": _console_halls(request.user, case),
        },
    )


def _answers(case: Case) -> list[dict[str, Any]]:
    if case.state != CaseState.NEEDS_CORRECTION:
        return []
    notice = actions.open_notice(case)
    return actions.correction_answers(case, notice) if notice is not None else []


def _print_results(case: Case) -> list[dict[str, Any]]:
    stock = extensions.print_stock.one()
    return [
        {"result": r, "needs_serial": bool(stock is not None and stock.needs_serial(result=r))}
        for r in case.results.filter(revoked_at__isnull=True).select_related("case").order_by("number")
    ]


def _collection(case: Case) -> dict[str, Any] | None:
    """Who collected the result (the hand-over event), for the case page."""
    event = case.events.filter(transition="hand_over").order_by("-seq").first()
    return event.payload if event is not None else None


def _console_halls(user: Any, case: Case) -> list[Hall]:
    """The queue consoles of the halls of this case where the viewer is posted (call the applicant
    to the window from the case)."""
    ids = [pk for pk in (case.receiving_hall_id, case.delivery_hall_id) if pk is not None]
    if not ids or getattr(user, "role", "") != Role.WINDOW_CLERK:
        return []
    return [hall for hall in posted_halls(user) if hall.pk in ids]


@login_required
@require_GET
def pick(request: HttpRequest, kind: str) -> JsonResponse:
    """Typeahead sources of the receive form (items, jurisdictions, issuing halls nearest first)."""
    if getattr(request.user, "role", None) not in (Role.WINDOW_CLERK, Role.APPROVER):
        raise PermissionDenied
    q = request.GET.get("q", "")[:64]
    if kind == "items":
        rows = selectors.pick_items(q)
    elif kind == "regions":
        rows = selectors.pick_regions(q)
    elif kind == "halls":
        near = Hall.objects.filter(code=request.GET.get("near", "")).first() if request.GET.get("near") else None
        rows = selectors.pick_issuing_halls(q, near=near)
    else:
        raise Http404
    return JsonResponse({"results": rows})


@login_required
@require_GET
def item_facts(request: HttpRequest, code: str) -> JsonResponse:
    """The facts the item's result certifies: the receive form asks for them."""
    item = Item.objects.filter(code=code, is_active=True).first()
    if item is None:
        raise Http404
    return JsonResponse(
        {"item": item.code, "result_type": item.result_type, "facts": [f.as_dict() for f in facts.facts_for(item)]}
    )


def _checklist(requirements: list[Any], materials: list[Any]) -> list[dict[str, Any]]:
    """The requirement checklist with each requirement's current material beside it (shown inline
    to whoever decides): present?, its grade, whether the grade meets the requirement's minimum."""
    by_req = {m.requirement_id: m for m in materials}
    rows = []
    for r in requirements:
        m = by_req.get(r.pk)
        rows.append(
            {
                "requirement": r,
                "material": m,
                "grade_ok": m is not None and grade_meets(m.grade, r.min_grade),
                "is_image": m is not None and bool(m.file),
            }
        )
    return rows


def _labelled_events(case: Case) -> list[Any]:
    """The case's events with Chinese (translated) transition and state labels: the stored values are
    the API's codes (``receive``, ``under_review``), which a clerk should never have to read."""
    states = dict(CaseState.choices)
    events = list(case.events.select_related("actor").order_by("seq"))
    for e in events:
        e.transition_label = TRANSITION_LABELS.get(e.transition, e.transition)  # type: ignore[attr-defined]
        # A fact recorded without a state change (e.g. a video verification) carries its own summary.
        e.note = e.payload.get("summary", "") if isinstance(e.payload, dict) else ""  # type: ignore[attr-defined]
        e.from_label = states.get(e.from_state, e.from_state)  # type: ignore[attr-defined]
        e.to_label = states.get(e.to_state, e.to_state)  # type: ignore[attr-defined]
        if e.actor is not None and e.actor.role == "citizen":
            # Older events stored citizen-<phone> as the label: never shown to staff.
            e.actor_label = e.actor.real_name or _("申请人")
    return events


@login_required
@require_POST
def case_transition(request: HttpRequest, number: str, transition: str) -> HttpResponse:
    entry = OFFERED.get(transition)
    if entry is None:
        raise Http404
    case = _case(request, number)
    target = reverse("workflows:case", args=[case.number])
    try:
        actions.TRANSITION_ACTIONS[transition](case=case, actor=request.user, **entry.form_kwargs(request.POST))
    except ValidationError as exc:
        messages.error(request, _errors(exc))
    except TransitionConflict as exc:
        messages.error(request, exc.detail)
    except PermissionDenied as exc:
        messages.error(request, str(exc) or _("您无权执行此操作。"))
    else:
        messages.success(request, _("已%(t)s。") % {"t": TRANSITION_LABELS[transition]})
    return HttpResponseRedirect(target)


@login_required
@require_POST
def case_material(request: HttpRequest, number: str) -> HttpResponse:
    case = _case(request, number)
    upload = request.FILES.get("file")
    try:
        if "pledge" in request.POST:
            actions.add_material_pledge(
                case=case,
                actor=request.user,  # type: ignore[arg-type]
                requirement=request.POST.get("requirement", ""),
                text=request.POST.get("pledge", ""),
            )
        elif upload is None:
            raise ValidationError({"file": [_("请选择文件。")]})
        else:
            actions.add_material_file(
                case=case,
                actor=request.user,  # type: ignore[arg-type]
                requirement=request.POST.get("requirement", ""),
                upload=upload,
                filename=upload.name or "",
            )
    except ValidationError as exc:
        messages.error(request, _errors(exc))
    except (TransitionConflict, UploadTooLarge, PermissionDenied) as exc:
        messages.error(request, str(exc))
    else:
        messages.success(request, _("材料已上传。"))
    return HttpResponseRedirect(reverse("workflows:case", args=[case.number]))

"""Workbenches (server-rendered, session + CSRF): the window clerk's and the approver's.

Thin: each POST calls one action; every button shown is a transition the caller may take now
(``rules.available_transitions``), so the page never offers what the action would refuse.
"""

from __future__ import annotations

from typing import Any

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.exceptions import PermissionDenied, ValidationError
from django.db.models import Q
from django.http import Http404, HttpRequest, HttpResponse, HttpResponseRedirect
from django.shortcuts import redirect, render
from django.urls import reverse
from django.utils.translation import gettext as _
from django.views.decorators.http import require_POST

from accounts.models import Role
from govmap.models import Region
from halls.models import Hall
from services.models import Item
from workflows import actions, selectors
from workflows.actions import ApplicantInput, CorrectionItem, TransitionConflict, UploadTooLarge
from workflows.models import TRANSITION_LABELS, Case, CaseState, DeliveryMethod
from workflows.rules import TRANSITIONS, Actor, available_transitions


def _errors(exc: ValidationError) -> str:
    if hasattr(exc, "error_dict"):
        return "；".join(m for msgs in exc.message_dict.values() for m in msgs)
    return "；".join(exc.messages)


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
    halls = Hall.objects.filter(posts__user_id=user.pk, posts__is_active=True).distinct().order_by("code")
    if request.method == "POST":
        return _receive(request, halls)
    queues = selectors.clerk_queue(user)  # type: ignore[arg-type]
    sections = [
        ("to_verify", _("待核验（已收件）"), queues["to_verify"]),
        ("to_transfer", _("待流转（已核验）"), queues["to_transfer"]),
        ("corrections", _("待补正"), queues["corrections"]),
        ("to_print", _("待打证"), queues["to_print"]),
        ("to_hand_over", _("待领取"), queues["to_hand_over"]),
        ("to_mail", _("待寄出"), queues["to_mail"]),
    ]
    return render(
        request,
        "workflows/clerk.html",
        {
            "halls": halls,
            "items": Item.objects.filter(is_active=True).filter(Q(proxy=True) | Q(joint=True)).order_by("code"),
            "regions": Region.objects.filter(level__in=["city", "county"]).order_by("adcode"),
            "issuing_halls": Hall.objects.filter(windows__issuing=True, is_active=True).distinct().order_by("code"),
            "sections": [(key, title, list(qs[:100])) for key, title, qs in sections],
            "delivery_methods": DeliveryMethod.choices,
            "form": request.POST,
        },
    )


def _receive(request: HttpRequest, halls: Any) -> HttpResponse:
    p = request.POST
    try:
        hall = halls.filter(code=p.get("receiving_hall", "")).first()
        item = Item.objects.filter(code=p.get("item", "")).first()
        region = Region.objects.filter(adcode=p.get("jurisdiction", "")).first()
        errors = {}
        if hall is None:
            errors["receiving_hall"] = [_("请选择收件场所。")]
        if item is None:
            errors["item"] = [_("请选择事项。")]
        if region is None:
            errors["jurisdiction"] = [_("请选择属地。")]
        if errors:
            raise ValidationError(errors)
        delivery_hall = Hall.objects.filter(code=p.get("delivery_hall", "")).first() if p.get("delivery_hall") else None
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
        )
    except ValidationError as exc:
        messages.error(request, _("收件失败：%(e)s") % {"e": _errors(exc)})
        return clerk_get(request)
    except PermissionDenied as exc:
        messages.error(request, str(exc))
        return clerk_get(request)
    messages.success(request, _("已收件，办件号 %(n)s。") % {"n": case.number})
    return redirect("workflows:case", number=case.number)


def clerk_get(request: HttpRequest) -> HttpResponse:
    request.method = "GET"
    return clerk(request)


@login_required
def approver(request: HttpRequest) -> HttpResponse:
    _require_role(request, Role.APPROVER)
    queue = selectors.approver_queue(request.user)  # type: ignore[arg-type]
    status = request.GET.get("sla", "")
    shown = queue.filter(sla_status=status) if status in ("green", "yellow", "red") else queue
    return render(
        request,
        "workflows/approver.html",
        {"cases": list(shown[:200]), "counts": selectors.sla_counts(queue), "total": queue.count(), "sla": status},
    )


@login_required
def cases(request: HttpRequest) -> HttpResponse:
    """Everyone's list of the cases they may see (supervisors, applicants, ...)."""
    repeated = request.GET.get("repeated") == "1"
    if repeated:
        # 一次性告知 not respected: cases that needed more than one correction notice.
        qs = selectors.repeated_corrections(request.user)  # type: ignore[arg-type]
    else:
        qs = selectors.case_list(request.user, state=request.GET.get("state", ""), sla=request.GET.get("sla", ""))  # type: ignore[arg-type]
    return render(request, "workflows/cases.html", {"cases": list(qs[:200]), "repeated": repeated})


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
    return render(
        request,
        "workflows/case.html",
        {
            "case": case,
            "allowed": [(name, TRANSITION_LABELS[name]) for name in allowed],
            "requirements": case.item.materials.all(),
            "materials": actions.current_materials(source),
            "events": _labelled_events(case),
            "notices": case.corrections.order_by("issued_at"),
            "children": case.children.select_related("authority").order_by("number"),
            "results": case.results.select_related("case", "issuing_department").order_by("number"),
            "can_upload": can_upload,
            "back": reverse("workflows:home"),
        },
    )


def _labelled_events(case: Case) -> list[Any]:
    """The case's events with Chinese (translated) transition and state labels: the stored values are
    the API's codes (``receive``, ``under_review``), which a clerk should never have to read."""
    states = dict(CaseState.choices)
    events = list(case.events.select_related("actor").order_by("seq"))
    for e in events:
        e.transition_label = TRANSITION_LABELS.get(e.transition, e.transition)  # type: ignore[attr-defined]
        e.from_label = states.get(e.from_state, e.from_state)  # type: ignore[attr-defined]
        e.to_label = states.get(e.to_state, e.to_state)  # type: ignore[attr-defined]
        if e.actor is not None and e.actor.role == "citizen":
            # Older events stored citizen-<phone> as the label: never shown to staff.
            e.actor_label = e.actor.real_name or _("申请人")
    return events


def _kwargs(name: str, p: Any) -> dict[str, Any]:
    if name == "verify":
        return {"id_checked": p.get("id_checked") == "on", "originals_sighted": p.getlist("originals_sighted")}
    if name == "request_correction":
        items = []
        for code, reason in zip(p.getlist("requirement"), p.getlist("reason"), strict=False):
            if reason.strip():
                items.append(CorrectionItem(code or None, reason))
        return {"items": items}
    if name in ("reject", "suspend", "withdraw"):
        return {"reason": p.get("reason", "")}
    if name == "deny":
        return {"reason": p.get("reason", ""), "legal_basis": p.get("legal_basis", "")}
    if name == "mail":
        return {"tracking_number": p.get("tracking_number", "")}
    if name == "hand_over":
        return {
            "id_checked": p.get("id_checked") == "on",
            "collector_id_number": p.get("collector_id_number", ""),
            "by_proxy": p.get("by_proxy") == "on",
            "collector_name": p.get("collector_name", ""),
            "authorisation": p.get("authorisation", ""),
            "authorisation_checked": p.get("authorisation_checked") == "on",
        }
    if name == "print":
        return {"blank_serials": {k.removeprefix("serial_"): v for k, v in p.items() if k.startswith("serial_")}}
    if name == "resubmit":
        return {"notes": {k.removeprefix("note_"): v for k, v in p.items() if k.startswith("note_")}}
    return {}


@login_required
@require_POST
def case_transition(request: HttpRequest, number: str, transition: str) -> HttpResponse:
    if transition not in TRANSITIONS or transition == "receive":
        raise Http404
    case = _case(request, number)
    target = reverse("workflows:case", args=[case.number])
    try:
        actions.TRANSITION_ACTIONS[transition](case=case, actor=request.user, **_kwargs(transition, request.POST))
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
        if upload is None:
            raise ValidationError({"file": [_("请选择文件。")]})
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

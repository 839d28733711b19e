"""Pages of remote video verification: the panel on the case page, the call page, the applicant's
one-time link. Thin: each POST calls one action."""

from __future__ import annotations

from typing import Any

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.contrib.auth.views import redirect_to_login
from django.core.exceptions import ValidationError
from django.http import Http404, HttpRequest, HttpResponse, JsonResponse
from django.shortcuts import redirect, render
from django.template.loader import render_to_string
from django.urls import reverse
from django.utils.translation import gettext as _
from django.views.decorators.http import require_POST

from accounts.models import User
from remote import actions, conf, selectors
from remote.models import Outcome, SessionKind, SessionState, Side
from workflows import selectors as case_selectors
from workflows.models import Case
from workflows.rules import Actor


def _guest_sessions(request: HttpRequest) -> list[str]:
    return list(request.session.get("remote_guest", []))


def _user(request: HttpRequest) -> User | None:
    user = request.user
    return user if user.is_authenticated else None  # type: ignore[return-value]


def case_panel(request: HttpRequest, case: Case) -> str:
    """The "远程视频核验" panel of the case page: start / join, and what earlier calls established.
    Empty for someone who can neither take part nor has anything to read."""
    user = _user(request)
    if user is None:
        return ""
    actor = Actor(user)
    staff_side = actor.clerk_at(case.receiving_hall_id) or actor.approver_for(case)
    can_start_staff = staff_side and case.receiving_hall_id is not None and case.state in actions.STAFF_STATES
    can_start_applicant = (
        actor.approver_for(case) and case.receiving_hall_id is None and case.state in actions.APPLICANT_STATES
    )
    open_sessions = [s for kind in SessionKind.values if (s := actions.open_session_for(case, kind)) is not None]
    records = list(selectors.records_of(case))
    if not (staff_side or records):
        return ""
    joinable = [s for s in open_sessions if actions.side_for(s, user) is not None]
    return render_to_string(
        "remote/_case_panel.html",
        {
            "case": case,
            "can_start_staff": can_start_staff and not any(s.kind == SessionKind.STAFF for s in open_sessions),
            "can_start_applicant": can_start_applicant
            and not any(s.kind == SessionKind.APPLICANT for s in open_sessions),
            "joinable": joinable,
            "records": records,
            "minutes": conf.join_minutes(),
        },
        request=request,
    )


@login_required
@require_POST
def start(request: HttpRequest, number: str) -> HttpResponse:
    case = case_selectors.case_for(request.user, number)  # type: ignore[arg-type]
    if case is None:
        raise Http404
    try:
        started = actions.start_session(
            case=case,
            actor=request.user,  # type: ignore[arg-type]
            kind=request.POST.get("kind", SessionKind.STAFF),
        )
    except ValidationError as exc:
        messages.error(request, "；".join(exc.messages))
    except actions.ApplicantUnreachable as exc:
        messages.error(request, str(exc.reason))
    except (actions.SessionConflict, actions.NotAMember, ValueError) as exc:
        messages.error(request, str(exc))
    else:
        if started.created and started.session.kind == SessionKind.APPLICANT:
            messages.success(request, _("已向申请人发送一次性加入链接。"))
        return redirect("remote:call", session_id=started.session.pk)
    return redirect("workflows:case", number=case.number)


def call(request: HttpRequest, session_id: str) -> HttpResponse:
    """The call page: local and remote video, the connection state, screen share, the outcome."""
    user = _user(request)
    guest = _guest_sessions(request)
    if user is None and str(session_id) not in guest:
        return redirect_to_login(request.get_full_path())
    session = selectors.session_for_member(str(session_id), user, guest)
    if session is None:
        raise Http404
    actions.expire_if_due(session)
    side = actions.side_for(session, user, guest)
    staff = side in (Side.WINDOW, Side.AUTHORITY)
    context: dict[str, Any] = {
        "session": session,
        "case": session.case,
        "side": side,
        "side_label": Side(side).label if side else "",
        "staff": staff,
        "outcomes": Outcome.choices if staff else [],
        "records": list(session.records.select_related("recorded_by")),
        "over": session.state in (SessionState.ENDED, SessionState.EXPIRED),
        "config": {
            "ws": f"/ws/remote/{session.pk}/",
            "outcome_url": reverse("remote:api-session-outcome", args=[session.pk]),
            "end_url": reverse("remote:end", args=[session.pk]),
            "case_url": reverse("workflows:case", args=[session.case.number]) if user is not None else "",
            "state": session.state,
            "deadline": session.join_deadline.isoformat(),
        },
        "labels": {
            "starting": _("正在打开摄像头和麦克风…"),
            "media-failed": _("无法使用摄像头或麦克风（仍可接收对方画面）"),
            "waiting": _("等待对方加入…"),
            "connecting": _("对方已加入，正在建立连接…"),
            "connected": _("已接通"),
            "peer-left": _("对方已离开通话"),
            "ice-failed": _("音视频连接失败（网络不通，可请管理员配置中继服务器）"),
            "signalling-failed": _("信令连接中断，请重新进入"),
            "refused": _("无法加入：您不是该视频核验的参与方，或会话已结束"),
            "expired": _("无人加入，会话已过期"),
            "ended": _("视频核验已结束"),
            "replaced": _("已在其他窗口打开此通话"),
            "recorded": _("已记录："),
            "record-failed": _("记录失败："),
            "sharing": _("正在共享屏幕"),
        },
    }
    return render(request, "remote/call.html", context)


@require_POST
def end(request: HttpRequest, session_id: str) -> HttpResponse:
    """Hang up for good (either side, the applicant too); CSRF-checked like every form post."""
    user = _user(request)
    guest = _guest_sessions(request)
    session = selectors.session_for_member(str(session_id), user, guest)
    if session is None:
        raise Http404
    try:
        actions.end_session(session=session, actor=user, guest_sessions=guest)
    except actions.SessionConflict as exc:
        return JsonResponse({"detail": str(exc)}, status=409)
    return JsonResponse({"state": SessionState.ENDED})


def guest(request: HttpRequest, token: str) -> HttpResponse:
    """The applicant's one-time SMS link: valid once, while the session is open. The browser that
    opened it may join that one session (and nothing else); no account is needed."""
    session = actions.redeem_guest_token(token)
    if session is None:
        return render(request, "remote/link_invalid.html", status=410)
    joined = _guest_sessions(request)
    if str(session.pk) not in joined:
        request.session["remote_guest"] = [*joined, str(session.pk)]
    return redirect("remote:call", session_id=session.pk)

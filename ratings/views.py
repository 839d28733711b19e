"""HTML pages: citizens rate (online, SMS link, window pad), supervisors supervise, the public sees
aggregated figures. Thin: parse, call one action or selector, render."""

from __future__ import annotations

import csv
import datetime as dt
import io
from collections.abc import Iterator
from typing import Any

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.exceptions import PermissionDenied, ValidationError
from django.core.paginator import Paginator
from django.http import Http404, HttpRequest, HttpResponse, StreamingHttpResponse
from django.shortcuts import redirect, render
from django.utils import timezone
from django.utils.functional import Promise
from django.utils.http import urlencode
from django.utils.translation import gettext as _
from django.views.decorators.cache import never_cache
from django.views.decorators.http import require_POST

from accounts.models import User
from config.spreadsheet import neutralise_row
from govmap.models import Region
from notifications.text import join_clauses
from ratings import actions, charts, selectors
from ratings.actions import RatingConflict, RatingInput
from ratings.models import (
    OFFLINE_INDICATORS,
    ONLINE_INDICATORS,
    TRANSITION_LABELS,
    Appeal,
    CallbackResult,
    Level,
    RectState,
)
from workdays import calendar
from workflows.selectors import case_for

LEVEL_CHOICES = [(int(v), str(label)) for v, label in Level.choices]
DEFAULT_WEEKS = 12
EXPORT_MAX_ROWS = 200_000


def _user(request: HttpRequest) -> User:
    return request.user  # type: ignore[return-value]


def _errors(exc: ValidationError) -> list[str]:
    if hasattr(exc, "error_dict"):
        return [m for msgs in exc.message_dict.values() for m in msgs]
    return list(exc.messages)


def _rating_input(request: HttpRequest, indicators: dict[str, str | Promise]) -> RatingInput:
    chosen = {name: request.POST[f"ind_{name}"] for name in indicators if request.POST.get(f"ind_{name}")}
    chosen.pop("overall", None)
    return RatingInput(level=request.POST.get("level"), indicators=chosen, comment=request.POST.get("comment", ""))


def _form_context(indicators: dict[str, str | Promise]) -> dict[str, Any]:
    return {
        "levels": LEVEL_CHOICES,
        "indicators": [(k, v) for k, v in indicators.items() if k != "overall"],
    }


# --- citizens --------------------------------------------------------------------------------------


@login_required
@never_cache
def rate_case_page(request: HttpRequest, number: str) -> HttpResponse:
    """The applicant's online rating of a finished case (一事一评)."""
    user = _user(request)
    case = case_for(user, number)
    if case is None or case.applicant_id != user.pk:
        raise Http404
    existing = getattr(case, "rating", None) if hasattr(case, "rating") else None
    errors: list[str] = []
    if request.method == "POST" and existing is None:
        try:
            actions.rate_case(case=case, actor=user, data=_rating_input(request, ONLINE_INDICATORS))
        except ValidationError as exc:
            errors = _errors(exc)
        except RatingConflict as exc:
            errors = [exc.detail]
        else:
            messages.success(request, _("感谢您的评价！"))
            return redirect("ratings:rate-case", number=case.number)
    rateable = case.state in actions.RATEABLE_STATES and case.parent_id is None
    return render(
        request,
        "ratings/rate_case.html",
        {"case": case, "rating": existing, "rateable": rateable, "errors": errors, **_form_context(ONLINE_INDICATORS)},
        status=400 if errors else 200,
    )


@never_cache
def rate_by_link(request: HttpRequest, token: str) -> HttpResponse:
    """The SMS reply link: the signed token stands for the applicant (no login needed)."""
    try:
        case = actions.case_for_sms_token(token)
    except ValidationError as exc:
        return render(
            request, "ratings/message.html", {"title": _("评价链接无效"), "text": _errors(exc)[0]}, status=404
        )
    errors: list[str] = []
    done = hasattr(case, "rating")
    if request.method == "POST" and not done:
        try:
            actions.rate_case_by_link(
                token=token, data=_rating_input(request, ONLINE_INDICATORS), session_user=_user(request)
            )
        except ValidationError as exc:
            errors = _errors(exc)
        except RatingConflict as exc:
            errors = [exc.detail]
        except PermissionDenied as exc:
            return render(request, "ratings/message.html", {"title": _("无法评价"), "text": str(exc)}, status=403)
        else:
            return render(request, "ratings/message.html", {"title": _("感谢您的评价！"), "text": ""})
    return render(
        request,
        "ratings/rate_case.html",
        {
            "case": case,
            "rating": getattr(case, "rating", None) if done else None,
            "rateable": case.state in actions.RATEABLE_STATES,
            "errors": errors,
            "via_link": True,
            **_form_context(ONLINE_INDICATORS),
        },
        status=400 if errors else 200,
    )


@never_cache
def pad(request: HttpRequest, token: str) -> HttpResponse:
    """The window's citizen-facing rating pad for one served visit (一次一评).

    Opened on the screen facing the citizen with the visit's one-time token; a staff session is
    refused so a clerk cannot rate on the citizen's behalf.
    """
    user = _user(request)
    if user.is_authenticated and (user.is_staff_role or user.is_superuser):
        return render(
            request,
            "ratings/message.html",
            {"title": _("请由办事群众评价"), "text": _("工作人员账号不能代替群众评价，请在窗口评价器上由群众操作。")},
            status=403,
        )
    found = actions.pad_for_token(token)
    if found is None:
        return render(request, "ratings/message.html", {"title": _("评价器令牌无效"), "text": ""}, status=404)
    errors: list[str] = []
    if request.method == "POST":
        try:
            actions.rate_visit(token=token, data=_rating_input(request, OFFLINE_INDICATORS), session_user=user)
        except ValidationError as exc:
            errors = _errors(exc)
        except RatingConflict as exc:
            return render(request, "ratings/message.html", {"title": _("无法评价"), "text": exc.detail}, status=409)
        else:
            return render(request, "ratings/message.html", {"title": _("感谢您的评价！"), "text": "", "pad": True})
    used = found.used_at is not None
    return render(
        request,
        "ratings/pad.html",
        {"pad": found, "ticket": found.ticket, "used": used, "errors": errors, **_form_context(OFFLINE_INDICATORS)},
        status=400 if errors else 200,
    )


def public(request: HttpRequest) -> HttpResponse:
    """政务服务评价公开: aggregated, anonymised figures per city and hall (no login)."""
    today = calendar.local_date(timezone.now())
    period = request.GET.get("period", "year")
    date_from = {"month": today - dt.timedelta(days=30), "year": today - dt.timedelta(days=365)}.get(period)
    figures = selectors.public_figures(date_from=date_from)
    return render(
        request,
        "ratings/public.html",
        {
            "figures": figures,
            "period": period,
            "date_from": date_from,
            "today": today,
            "min_count": selectors.PUBLIC_MIN_COUNT,
            "levels_svg": charts.levels_svg(figures["total"]["by_level"]),
        },
    )


# --- supervision -----------------------------------------------------------------------------------


def _supervisor(request: HttpRequest) -> User:
    user = _user(request)
    if not selectors.may_supervise(user):
        raise PermissionDenied
    return user


def _rectifier(request: HttpRequest) -> User:
    """Supervisors, and the approvers of departments that own bad ratings of online cases."""
    user = _user(request)
    if not selectors.may_see_rectifications(user):
        raise PermissionDenied
    return user


def _date(request: HttpRequest, name: str) -> dt.date | None:
    value = request.GET.get(name, "").strip()
    if not value:
        return None
    try:
        return dt.date.fromisoformat(value)
    except ValueError:
        return None


def _filters(request: HttpRequest, *, default_range: bool = True) -> selectors.Filters:
    user = _supervisor(request)
    date_from, date_to = _date(request, "from"), _date(request, "to")
    if default_range and date_from is None and date_to is None and request.GET.get("all") != "1":
        date_to = calendar.local_date(timezone.now())
        date_from = date_to - dt.timedelta(weeks=DEFAULT_WEEKS) + dt.timedelta(days=1)
    return selectors.resolve_filters(
        user,
        region=request.GET.get("region") or None,
        hall=request.GET.get("hall") or None,
        window=request.GET.get("window") or None,
        date_from=date_from,
        date_to=date_to,
    )


def _crumbs(f: selectors.Filters) -> list[tuple[str, str]]:
    """Province → city → county → hall → window, as (label, query) pairs the caller may open."""
    region: Region | None = f.region
    if f.hall is not None:
        region = f.hall.region
    chain: list[Region] = []
    while region is not None:
        chain.append(region)
        region = region.parent
    dates = {k: v for k, v in f.query().items() if k in ("from", "to")}
    crumbs = [(r.name, {"region": r.adcode, **dates}) for r in reversed(chain) if f.scope.covers_region(r.adcode)]
    if f.hall is not None:
        crumbs.append((f.hall.name, {"hall": f.hall.code, **dates}))
    if f.window is not None:
        crumbs.append((_("%(w)s号窗口") % {"w": f.window.number}, {"window": str(f.window.pk), **dates}))
    return [(label, urlencode(q)) for label, q in crumbs]


def _child_query(f: selectors.Filters, level: str, key: str) -> str:
    dates = {k: v for k, v in f.query().items() if k in ("from", "to")}
    param = {"city": "region", "county": "region", "hall": "hall", "window": "window"}[level]
    return urlencode({param: key, **dates})


@login_required
def dashboard(request: HttpRequest) -> HttpResponse:
    f = _filters(request)
    figures = selectors.summary(f)
    level, rows = selectors.breakdown(f)
    for row in rows:
        row["query"] = _child_query(f, level, row["key"])
    halls = selectors.hall_ranking(f) if level != "hall" and f.hall is None else rows
    windows = selectors.window_ranking(f) if level not in ("window",) else rows
    bad = selectors.urgent_bad_ratings(_user(request), f)
    query = urlencode(f.query())
    return render(
        request,
        "ratings/dashboard.html",
        {
            "f": f,
            "figures": figures,
            "levels_svg": charts.levels_svg(figures["by_level"]),
            "trend_svg": charts.trend_svg(selectors.weekly_trend(f)),
            "breakdown_level": level,
            "breakdown": rows,
            "top_halls": halls[:10],
            "bottom_halls": list(reversed(halls[-10:])) if len(halls) > 10 else [],
            "windows": windows[:10] if f.hall is not None or (f.region and f.region.level == "county") else [],
            "bad": bad,
            "crumbs": _crumbs(f),
            "query": query,
            "now": timezone.now(),
        },
    )


@login_required
def rating_list(request: HttpRequest) -> HttpResponse:
    f = _filters(request)
    qs = selectors.rating_list(f, bad_only=request.GET.get("bad") == "1")
    page = Paginator(qs, 50).get_page(request.GET.get("page"))
    return render(
        request,
        "ratings/rating_list.html",
        {"f": f, "page": page, "crumbs": _crumbs(f), "query": urlencode(f.query()), "bad": request.GET.get("bad")},
    )


@login_required
def rating_detail(request: HttpRequest, pk: int) -> HttpResponse:
    user = _supervisor(request)
    rating = selectors.rating_for(user, pk)
    rect = getattr(rating, "rectification", None) if hasattr(rating, "rectification") else None
    return render(
        request,
        "ratings/rating_detail.html",
        {
            "rating": rating,
            "rect": rect,
            "appeals": rating.appeals.select_related("filed_by", "decided_by"),
            "may_appeal": actions._may_appeal(user, rating),
            "may_decide": actions.may_decide_appeal(user, rating),
            "indicators": [
                ({**ONLINE_INDICATORS, **OFFLINE_INDICATORS}.get(k, k), v) for k, v in rating.indicators.items()
            ],
        },
    )


@login_required
@require_POST
def appeal(request: HttpRequest, pk: int) -> HttpResponse:
    user = _supervisor(request)
    rating = selectors.rating_for(user, pk)
    try:
        actions.file_appeal(rating=rating, actor=user, reason=request.POST.get("reason", ""))
    except ValidationError as exc:
        messages.error(request, join_clauses(_errors(exc)))
    except RatingConflict as exc:
        messages.error(request, exc.detail)
    else:
        messages.success(request, _("申诉已提交，等待上级监督人员审核。"))
    return redirect("ratings:rating", pk=rating.pk)


@login_required
@require_POST
def decide_appeal(request: HttpRequest, pk: int, decision: str) -> HttpResponse:
    user = _supervisor(request)
    if decision not in ("uphold", "dismiss"):
        raise Http404
    found = Appeal.objects.filter(pk=pk).first()
    if found is None:
        raise Http404
    rating = selectors.rating_for(user, found.rating_id)
    try:
        actions.decide_appeal(appeal=found, actor=user, uphold=decision == "uphold", note=request.POST.get("note", ""))
    except RatingConflict as exc:
        messages.error(request, exc.detail)
    else:
        messages.success(request, _("申诉已审核。"))
    return redirect("ratings:rating", pk=rating.pk)


@login_required
def rectifications(request: HttpRequest) -> HttpResponse:
    user = _rectifier(request)
    state = request.GET.get("state", "")
    qs = selectors.rectification_list(
        user,
        state=state,
        overdue=request.GET.get("overdue") == "1",
        escalated=request.GET.get("escalated") == "1",
    ).select_related("rating")
    page = Paginator(qs, 50).get_page(request.GET.get("page"))
    return render(
        request,
        "ratings/rectifications.html",
        {
            "page": page,
            "states": RectState.choices,
            "state": state,
            "overdue": request.GET.get("overdue") == "1",
            "escalated": request.GET.get("escalated") == "1",
            "now": timezone.now(),
        },
    )


@login_required
def rectification_detail(request: HttpRequest, pk: int) -> HttpResponse:
    user = _rectifier(request)
    rect = selectors.rectification_for(user, pk)
    allowed = actions.allowed_transitions(user, rect)
    return render(
        request,
        "ratings/rectification_detail.html",
        {
            "rect": rect,
            "rating": rect.rating,
            "events": rect.events.select_related("actor"),
            "allowed": [(name, TRANSITION_LABELS[name]) for name in allowed],
            "callback_results": CallbackResult.choices,
            "now": timezone.now(),
        },
    )


@login_required
@require_POST
def rectification_transition(request: HttpRequest, pk: int, transition: str) -> HttpResponse:
    user = _rectifier(request)
    rect = selectors.rectification_for(user, pk)
    body = {k: request.POST.get(k, "") for k in ("measures", "reply", "result", "note", "reason")}
    try:
        actions.transition_rectification(rectification=rect, actor=user, name=transition, body=body)
    except ValidationError as exc:
        messages.error(request, join_clauses(_errors(exc)))
    except RatingConflict as exc:
        messages.error(request, exc.detail)
    else:
        messages.success(request, _("已保存：%(what)s。") % {"what": TRANSITION_LABELS.get(transition, transition)})
    return redirect("ratings:rectification", pk=rect.pk)


# --- export ----------------------------------------------------------------------------------------


def _export_header() -> list[str]:
    """Column headers in the requester's language (evaluated per request, not at import)."""
    return [
        _("评价编号"), _("评价时间"), _("评价类型"), _("评价渠道"), _("等级"), _("等级名称"), _("服务场所"),
        _("窗口"), _("服务人员"), _("事项"), _("区县代码"), _("办件编号/排队号"), _("评价内容"), _("计入统计"),
        _("整改状态"),
    ]  # fmt: skip


def _export_rows(f: selectors.Filters) -> Iterator[list[Any]]:
    qs = (
        selectors.rating_list(f)
        .select_related("rectification")
        .only(
            "id",
            "rated_at",
            "kind",
            "channel",
            "level",
            "comment",
            "county_code",
            "counted",
            "hall__name",
            "window__number",
            "staff__real_name",
            "staff__username",
            "item__name",
            "case__number",
            "ticket__number",
            "ticket__service_date",
            "rectification__state",
        )
    )
    for r in qs[:EXPORT_MAX_ROWS].iterator(chunk_size=2000):
        rect = getattr(r, "rectification", None) if hasattr(r, "rectification") else None
        yield [
            r.pk,
            timezone.localtime(r.rated_at).strftime("%Y-%m-%d %H:%M"),
            r.get_kind_display(),
            r.get_channel_display(),
            r.level,
            r.get_level_display(),
            r.hall.name if r.hall is not None else "",
            r.window.number if r.window_id and r.window else "",
            (r.staff.real_name or r.staff.username) if r.staff_id and r.staff else "",
            r.item.name if r.item_id and r.item else "",
            r.county_code,
            r.subject_label,
            r.comment,
            _("是") if r.counted else _("否（申诉成立）"),
            rect.get_state_display() if rect else "",
        ]


class _Echo:
    def write(self, value: str) -> str:
        return value


@login_required
def export(request: HttpRequest, fmt: str) -> HttpResponse | StreamingHttpResponse:
    """The filtered ratings as CSV (UTF-8 with BOM, opens in Excel) or .xlsx; personal data of
    raters (names, phones) is never exported."""
    if fmt not in ("csv", "xlsx"):
        raise Http404
    f = _filters(request)
    stamp = timezone.localtime().strftime("%Y%m%d-%H%M")
    if fmt == "csv":
        writer = csv.writer(_Echo())

        def stream() -> Iterator[str]:
            yield "\ufeff" + writer.writerow(_export_header())
            for row in _export_rows(f):
                # Comments are the citizens' free text: never a live formula in Excel/WPS.
                yield writer.writerow(neutralise_row(row))

        streaming = StreamingHttpResponse(stream(), content_type="text/csv; charset=utf-8")
        streaming["Content-Disposition"] = f'attachment; filename="ratings-{stamp}.csv"'
        return streaming
    from openpyxl import Workbook

    wb = Workbook(write_only=True)
    ws = wb.create_sheet(_("好差评"))
    ws.append(_export_header())
    for row in _export_rows(f):
        # openpyxl writes a string starting with "=" as a formula cell: escape first.
        ws.append(neutralise_row(row))
    buffer = io.BytesIO()
    wb.save(buffer)
    response = HttpResponse(
        buffer.getvalue(), content_type="application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"
    )
    response["Content-Disposition"] = f'attachment; filename="ratings-{stamp}.xlsx"'
    return response

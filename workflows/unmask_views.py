"""Unmasking (API) and the supervisors' log of it (API, page, CSV export). Thin: parse, call
workflows.unmask, respond."""

from __future__ import annotations

import csv
import io
from datetime import date
from typing import Any

from django.contrib.auth.decorators import login_required
from django.core.exceptions import PermissionDenied
from django.core.exceptions import ValidationError as DjangoValidationError
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import render
from django.utils import timezone
from django.utils.translation import gettext as _
from drf_spectacular.utils import OpenApiParameter, extend_schema
from rest_framework import exceptions, generics, serializers
from rest_framework.permissions import IsAuthenticated
from rest_framework.request import Request
from rest_framework.response import Response
from rest_framework.views import APIView

from accounts.models import User
from config.spreadsheet import neutralise_row
from workflows import selectors, unmask
from workflows.models import PersonalDataAccess, UnmaskField


class UnmaskInSerializer(serializers.Serializer):
    field = serializers.ChoiceField(choices=UnmaskField.choices)
    reason = serializers.CharField(max_length=255)


class UnmaskOutSerializer(serializers.Serializer):
    field = serializers.CharField()
    value = serializers.CharField()
    logged_at = serializers.DateTimeField()


class AccessLogSerializer(serializers.ModelSerializer):
    actor = serializers.CharField(source="actor.username")
    actor_name = serializers.CharField(source="actor.real_name")
    case = serializers.CharField(source="case.number")

    class Meta:
        model = PersonalDataAccess
        fields = ["id", "at", "actor", "actor_name", "actor_role", "case", "subject_name", "field", "reason"]


class CaseUnmaskView(APIView):
    permission_classes = [IsAuthenticated]

    @extend_schema(request=UnmaskInSerializer, responses={200: UnmaskOutSerializer})
    def post(self, request: Request, number: str) -> Response:
        """The full phone or ID number of the applicant, for staff whose duty covers the case
        (403 otherwise, 404 outside scope); logged with the reason given."""
        case = selectors.case_for(request.user, number)  # type: ignore[arg-type]
        if case is None:
            raise Http404
        body = UnmaskInSerializer(data=request.data)
        body.is_valid(raise_exception=True)
        try:
            value = unmask.unmask(actor=request.user, case=case, **body.validated_data)  # type: ignore[arg-type]
        except unmask.UnmaskForbidden as exc:
            raise exceptions.PermissionDenied(str(exc)) from None
        return Response({"field": body.validated_data["field"], "value": value, "logged_at": timezone.now()})


def _day(value: str | None, field: str) -> date | None:
    if not value:
        return None
    try:
        return date.fromisoformat(value)
    except ValueError:
        raise DjangoValidationError({field: [_("日期格式应为 YYYY-MM-DD。")]}) from None


def _filters(params: Any) -> dict[str, Any]:
    return {
        "day_from": _day(params.get("from"), "from"),
        "day_to": _day(params.get("to"), "to"),
        "case_number": (params.get("case") or "").strip()[:64],
    }


class AccessLogView(generics.ListAPIView):
    """Supervisors: every unmasking of personal data within their scope, newest first."""

    permission_classes = [IsAuthenticated]
    serializer_class = AccessLogSerializer

    @extend_schema(
        parameters=[
            OpenApiParameter("from", str, description="YYYY-MM-DD"),
            OpenApiParameter("to", str, description="YYYY-MM-DD"),
            OpenApiParameter("case", str, description="case number"),
        ]
    )
    def get(self, request: Request, *args: Any, **kwargs: Any) -> Response:
        return super().get(request, *args, **kwargs)

    def get_queryset(self):  # type: ignore[no-untyped-def]
        user = self.request.user
        if not unmask.may_review(user):  # type: ignore[arg-type]
            raise exceptions.PermissionDenied(_("仅监督人员可以查看个人信息查看记录。"))
        return unmask.access_log(user, **_filters(self.request.query_params))  # type: ignore[arg-type]


def _header() -> list[str]:
    return [_("时间"), _("查看人"), _("角色"), _("办件编号"), _("数据主体"), _("字段"), _("事由")]


def _row(r: PersonalDataAccess) -> list[Any]:
    return [
        timezone.localtime(r.at).strftime("%Y-%m-%d %H:%M:%S"),
        r.actor.real_name or r.actor.username,
        r.actor_role,
        r.case.number,
        r.subject_name,
        r.get_field_display(),
        r.reason,
    ]


@login_required
def access_log_page(request: HttpRequest) -> HttpResponse:
    """The supervisors' page: who unmasked whose phone or ID number, when and why."""
    user = request.user
    assert isinstance(user, User)
    if not unmask.may_review(user):
        raise PermissionDenied
    try:
        f = _filters(request.GET)
    except DjangoValidationError as exc:
        f = {"day_from": None, "day_to": None, "case_number": ""}
        error = "；".join(exc.messages)
    else:
        error = ""
    rows = list(unmask.access_log(user, **f)[:500])
    return render(
        request,
        "workflows/personal_data_access.html",
        {"rows": rows, "f": f, "query": request.GET.urlencode(), "error": error},
        status=400 if error else 200,
    )


@login_required
def access_log_export(request: HttpRequest) -> HttpResponse:
    """The same log as CSV (UTF-8 with BOM for Excel/WPS); reasons are staff free text, so no cell
    may become a formula."""
    user = request.user
    assert isinstance(user, User)
    if not unmask.may_review(user):
        raise PermissionDenied
    try:
        f = _filters(request.GET)
    except DjangoValidationError as exc:
        return HttpResponse("；".join(exc.messages), status=400, content_type="text/plain; charset=utf-8")
    out = io.StringIO()
    writer = csv.writer(out)
    writer.writerow(_header())
    for r in unmask.access_log(user, **f).iterator(chunk_size=2000):
        writer.writerow(neutralise_row(_row(r)))
    response = HttpResponse("\ufeff" + out.getvalue(), content_type="text/csv; charset=utf-8")
    stamp = timezone.localtime().strftime("%Y%m%d-%H%M")
    response["Content-Disposition"] = f'attachment; filename="personal-data-access-{stamp}.csv"'
    return response


@login_required
def case_unmask_page(request: HttpRequest, number: str) -> HttpResponse:
    """The workbench's way to the full phone / ID number: a reason is asked for, and logged."""
    user = request.user
    assert isinstance(user, User)
    case = selectors.case_for(user, number)
    if case is None:
        raise Http404
    if not unmask.duty_needs_unmasking(user, case):
        raise PermissionDenied
    ctx: dict[str, Any] = {"case": case, "fields": UnmaskField.choices, "value": None, "error": ""}
    status = 200
    if request.method == "POST":
        field = request.POST.get("field", "")
        try:
            ctx["value"] = unmask.unmask(actor=user, case=case, field=field, reason=request.POST.get("reason", ""))
            ctx["field_label"] = UnmaskField(field).label
        except DjangoValidationError as exc:
            ctx["error"] = "；".join(exc.messages)
            status = 400
    response = render(request, "workflows/unmask.html", ctx, status=status)
    response["Cache-Control"] = "no-store"
    return response

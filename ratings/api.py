"""The ratings API (API.md § Cases: rating, § Ratings and supervision): thin views."""

from __future__ import annotations

import datetime as dt
from typing import Any

from django.core.exceptions import ValidationError as DjangoValidationError
from django.http import Http404
from django.utils.translation import gettext as _
from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import OpenApiParameter, extend_schema
from rest_framework import exceptions, generics, status
from rest_framework.permissions import AllowAny, IsAuthenticated
from rest_framework.request import Request
from rest_framework.response import Response
from rest_framework.views import APIView

from halls.models import QueueTicket
from ratings import actions, selectors
from ratings.actions import RatingInput
from ratings.models import Appeal, Rating
from ratings.serializers import (
    AppealDecisionSerializer,
    AppealInSerializer,
    AppealSerializer,
    PadInSerializer,
    PadOutSerializer,
    PadRatingInSerializer,
    RatingInSerializer,
    RatingOutSerializer,
    RectificationSerializer,
    RectificationTransitionSerializer,
    SummarySerializer,
)
from workflows.selectors import case_for


def _date(request: Request, name: str) -> dt.date | None:
    value = request.query_params.get(name, "").strip()
    if not value:
        return None
    try:
        return dt.date.fromisoformat(value)
    except ValueError:
        raise DjangoValidationError({name: [_("日期格式应为 YYYY-MM-DD。")]}) from None


def _supervisor(request: Request) -> None:
    if not selectors.may_supervise(request.user):  # type: ignore[arg-type]
        raise exceptions.PermissionDenied(_("仅监督人员可以查看评价统计。"))


def _rectifier(request: Request) -> None:
    if not selectors.may_see_rectifications(request.user):  # type: ignore[arg-type]
        raise exceptions.PermissionDenied(_("仅监督人员和责任部门可以查看差评整改。"))


def _input(data: dict[str, Any]) -> RatingInput:
    return RatingInput(level=data["level"], indicators=data.get("indicators"), comment=data.get("comment", ""))


class CaseRatingView(APIView):
    """POST: the applicant rates the finished case (once). GET: the case's rating."""

    permission_classes = [IsAuthenticated]

    def _case(self, request: Request, number: str) -> Any:
        case = case_for(request.user, number)  # type: ignore[arg-type]
        if case is None:
            raise Http404
        return case

    @extend_schema(responses={200: RatingOutSerializer})
    def get(self, request: Request, number: str) -> Response:
        case = self._case(request, number)
        rating = Rating.objects.filter(case=case).select_related("case", "hall", "window").first()
        if rating is None:
            raise Http404
        return Response(RatingOutSerializer(rating).data)

    @extend_schema(request=RatingInSerializer, responses={201: RatingOutSerializer})
    def post(self, request: Request, number: str) -> Response:
        case = self._case(request, number)
        body = RatingInSerializer(data=request.data)
        body.is_valid(raise_exception=True)
        rating = actions.rate_case(case=case, actor=request.user, data=_input(dict(body.validated_data)))  # type: ignore[arg-type]
        return Response(RatingOutSerializer(rating).data, status=status.HTTP_201_CREATED)


class TicketPadView(APIView):
    """A clerk hands a finished visit to the window's rating pad: a one-time token and the pad URL."""

    permission_classes = [IsAuthenticated]

    @extend_schema(request=PadInSerializer, responses={201: PadOutSerializer})
    def post(self, request: Request) -> Response:
        body = PadInSerializer(data=request.data)
        body.is_valid(raise_exception=True)
        ticket = QueueTicket.objects.filter(pk=body.validated_data["ticket"]).first()
        if ticket is None:
            raise Http404
        pad, raw = actions.open_pad(ticket=ticket, actor=request.user)  # type: ignore[arg-type]
        url = request.build_absolute_uri(f"/ratings/pad/{raw}/")
        return Response(
            PadOutSerializer({"token": raw, "url": url, "expires_at": pad.expires_at}).data,
            status=status.HTTP_201_CREATED,
        )


class PadRatingView(APIView):
    """The window pad submits the citizen's rating of a visit with the ticket's one-time token.
    No login; a staff session is refused (the clerk cannot rate for the citizen)."""

    permission_classes = [AllowAny]

    @extend_schema(request=PadRatingInSerializer, responses={201: RatingOutSerializer})
    def post(self, request: Request) -> Response:
        body = PadRatingInSerializer(data=request.data)
        body.is_valid(raise_exception=True)
        data = dict(body.validated_data)
        rating = actions.rate_visit(token=data["token"], data=_input(data), session_user=request.user)  # type: ignore[arg-type]
        return Response(RatingOutSerializer(rating).data, status=status.HTTP_201_CREATED)


class SummaryView(APIView):
    permission_classes = [IsAuthenticated]

    @extend_schema(
        parameters=[
            OpenApiParameter("region", str, description="adcode (province, city or county)"),
            OpenApiParameter("hall", str, description="hall code"),
            OpenApiParameter("window", int, description="window id"),
            OpenApiParameter("from", dt.date),
            OpenApiParameter("to", dt.date),
        ],
        responses=SummarySerializer,
    )
    def get(self, request: Request) -> Response:
        _supervisor(request)
        p = request.query_params
        f = selectors.resolve_filters(
            request.user,  # type: ignore[arg-type]
            region=p.get("region") or None,
            hall=p.get("hall") or None,
            window=p.get("window") or None,
            date_from=_date(request, "from"),
            date_to=_date(request, "to"),
        )
        return Response(SummarySerializer(selectors.summary(f)).data)


class RectificationListView(generics.ListAPIView):
    permission_classes = [IsAuthenticated]
    serializer_class = RectificationSerializer

    def get_queryset(self):  # type: ignore[no-untyped-def]
        _rectifier(self.request)
        p = self.request.query_params
        return selectors.rectification_list(
            self.request.user,  # type: ignore[arg-type]
            state=p.get("state", ""),
            overdue=p.get("overdue") in ("1", "true"),
            escalated=p.get("escalated") in ("1", "true"),
        )

    @extend_schema(
        parameters=[
            OpenApiParameter("state", str, description="state, or several separated by commas"),
            OpenApiParameter("overdue", bool),
            OpenApiParameter("escalated", bool),
        ]
    )
    def get(self, request: Request, *args: Any, **kwargs: Any) -> Response:
        return super().get(request, *args, **kwargs)


class RectificationDetailView(APIView):
    permission_classes = [IsAuthenticated]

    @extend_schema(responses=RectificationSerializer)
    def get(self, request: Request, pk: int) -> Response:
        rect = selectors.rectification_for(request.user, pk)  # type: ignore[arg-type]
        return Response(RectificationSerializer(rect, context={"request": request}).data)


class RectificationTransitionView(APIView):
    permission_classes = [IsAuthenticated]

    @extend_schema(request=RectificationTransitionSerializer, responses=RectificationSerializer)
    def post(self, request: Request, pk: int, transition: str) -> Response:
        from ratings.models import TRANSITION_METHODS

        if transition not in TRANSITION_METHODS:
            raise Http404
        rect = selectors.rectification_for(request.user, pk)  # type: ignore[arg-type]
        body = RectificationTransitionSerializer(data=request.data or {})
        body.is_valid(raise_exception=True)
        rect = actions.transition_rectification(
            rectification=rect,
            actor=request.user,  # type: ignore[arg-type]
            name=transition,
            body=dict(body.validated_data),
        )
        rect = selectors.rectification_for(request.user, pk)  # type: ignore[arg-type]
        return Response(RectificationSerializer(rect, context={"request": request}).data)


class RatingAppealView(APIView):
    """Staff appeal a rating as malicious."""

    permission_classes = [IsAuthenticated]

    @extend_schema(request=AppealInSerializer, responses={201: AppealSerializer})
    def post(self, request: Request, pk: int) -> Response:
        rating = Rating.objects.filter(pk=pk).first()
        if rating is None or not actions._may_appeal(request.user, rating):  # type: ignore[arg-type]
            raise Http404
        body = AppealInSerializer(data=request.data)
        body.is_valid(raise_exception=True)
        appeal = actions.file_appeal(rating=rating, actor=request.user, reason=body.validated_data["reason"])  # type: ignore[arg-type]
        return Response(AppealSerializer(appeal).data, status=status.HTTP_201_CREATED)


class AppealDecisionView(APIView):
    permission_classes = [IsAuthenticated]

    @extend_schema(request=AppealDecisionSerializer, responses=AppealSerializer)
    def post(self, request: Request, pk: int, decision: str) -> Response:
        if decision not in ("uphold", "dismiss"):
            raise Http404
        appeal = Appeal.objects.select_related("rating").filter(pk=pk).first()
        if appeal is None or selectors.rating_scope(request.user).empty:  # type: ignore[arg-type]
            raise Http404
        selectors.rating_for(request.user, appeal.rating_id)  # type: ignore[arg-type]  # 404 outside the caller's scope
        body = AppealDecisionSerializer(data=request.data or {})
        body.is_valid(raise_exception=True)
        appeal = actions.decide_appeal(
            appeal=appeal,
            actor=request.user,  # type: ignore[arg-type]
            uphold=decision == "uphold",
            note=body.validated_data.get("note", ""),
        )
        return Response(AppealSerializer(appeal).data)


class CountySatisfactionView(APIView):
    """Public, aggregated figures per county (the map's choropleth layer)."""

    permission_classes = [AllowAny]

    @extend_schema(
        parameters=[OpenApiParameter("from", dt.date), OpenApiParameter("to", dt.date)],
        responses={200: OpenApiTypes.OBJECT},
        description="{county adcode: {count, by_level, satisfaction_rate, bad_count, average}}",
    )
    def get(self, request: Request) -> Response:
        return Response(selectors.county_satisfaction(_date(request, "from"), _date(request, "to")))

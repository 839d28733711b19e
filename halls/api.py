"""The hall registry API: GET /api/v1/halls/ and GET /api/v1/halls/<code>/ (public, read-only)."""

from __future__ import annotations

from typing import Any

from django.db.models import QuerySet
from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import OpenApiParameter, OpenApiResponse, extend_schema, inline_serializer
from rest_framework import generics, serializers
from rest_framework.pagination import PageNumberPagination
from rest_framework.permissions import AllowAny
from rest_framework.request import Request
from rest_framework.response import Response

from halls import selectors
from halls.hall_stats import stats_for_halls
from halls.models import Hall, HallType
from halls.serializers import HallDetailSerializer, HallSerializer


class HallPagination(PageNumberPagination):
    page_size = 50
    page_size_query_param = "page_size"
    max_page_size = 500


# The 400 body of the whole API (config/api_errors.py). Inline: a serializer class cannot declare a
# field called "errors" (it would shadow Serializer.errors).
HALL_ERROR = inline_serializer(
    name="HallFilterError",
    fields={
        "detail": serializers.CharField(),
        "errors": serializers.DictField(child=serializers.ListField(child=serializers.CharField())),
    },
)


HALL_FILTERS = [
    OpenApiParameter("region", OpenApiTypes.STR, description="行政区划代码（省、市、县任一级，6位）：返回其下所有场所"),
    OpenApiParameter("type", OpenApiTypes.STR, enum=HallType.values, description="场所类型"),
    OpenApiParameter("item", OpenApiTypes.STR, description="事项编码：只返回有窗口可收该事项的场所"),
]


@extend_schema(
    tags=["halls"],
    summary="服务场所列表",
    parameters=HALL_FILTERS,
    responses={
        200: HallSerializer(many=True),
        400: OpenApiResponse(
            HALL_ERROR,
            description="筛选条件有误（未知的场所类型、格式错误或未知的行政区划代码、未知的事项编码）",
        ),
    },
)
class HallListView(generics.ListAPIView[Hall]):
    """Active halls, filtered by region (any level), type and item; 400 for a bad filter."""

    serializer_class = HallSerializer
    pagination_class = HallPagination
    permission_classes = [AllowAny]

    def get_queryset(self) -> QuerySet[Hall]:
        params = self.request.query_params
        # A bad filter raises a field-keyed ValidationError → 400 {"detail", "errors"}.
        qs = selectors.halls_for(
            region=params.get("region") or None,
            type=params.get("type") or None,
            item=params.get("item") or None,
        )
        return selectors.with_windows(qs).order_by("code")


@extend_schema(
    tags=["halls"],
    summary="服务场所详情（含排队、预约、好差评）",
    responses={200: HallDetailSerializer, 404: OpenApiResponse(description="没有这个场所")},
)
class HallDetailView(generics.RetrieveAPIView[Hall]):
    serializer_class = HallDetailSerializer
    permission_classes = [AllowAny]
    lookup_field = "code"

    def get_queryset(self) -> QuerySet[Hall]:
        return selectors.with_windows(Hall.objects.all())

    def retrieve(self, request: Request, *args: Any, **kwargs: Any) -> Response:
        hall = self.get_object()
        context = {**self.get_serializer_context(), "stats": stats_for_halls([hall.pk])}
        return Response(HallDetailSerializer(hall, context=context).data)

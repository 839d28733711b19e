"""The catalog API: items (事项) and departments. Public reads; thin over services.selectors."""

from __future__ import annotations

from typing import Any

from django.db.models import QuerySet
from django.http import Http404
from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import OpenApiParameter, extend_schema
from rest_framework import generics
from rest_framework.pagination import PageNumberPagination
from rest_framework.permissions import AllowAny

from services import selectors
from services.models import Department, Item, Mode
from services.serializers import DepartmentFilterSerializer, DepartmentSerializer, ItemFilterSerializer, ItemSerializer


class CatalogPagination(PageNumberPagination):
    """The project's page of 50, and `page_size` (≤ 200) for clients that list a whole zone."""

    page_size = 50
    page_size_query_param = "page_size"
    max_page_size = 200


@extend_schema(
    tags=["catalog"],
    summary="事项检索",
    parameters=[
        OpenApiParameter("q", OpenApiTypes.STR, description="匹配事项名称、编码或检索关键词，如 户籍"),
        OpenApiParameter("mode", OpenApiTypes.STR, enum=Mode.values, description="办理模式"),
        OpenApiParameter("department", OpenApiTypes.STR, description="部门类别代码，如 public_security"),
        OpenApiParameter("zone", OpenApiTypes.STR, description="行业专区代码，如 business"),
    ],
)
class ItemListView(generics.ListAPIView[Item]):
    serializer_class = ItemSerializer
    permission_classes = [AllowAny]
    pagination_class = CatalogPagination

    def get_queryset(self) -> QuerySet[Item]:
        params = ItemFilterSerializer(data=self.request.query_params)
        params.is_valid(raise_exception=True)
        data: dict[str, Any] = params.validated_data
        return selectors.search_items(
            q=data.get("q", ""),
            mode=data.get("mode") or None,
            department_kind=data.get("department") or None,
            zone=data.get("zone") or None,
        )


@extend_schema(tags=["catalog"], summary="事项详情")
class ItemDetailView(generics.RetrieveAPIView[Item]):
    serializer_class = ItemSerializer
    permission_classes = [AllowAny]

    def get_object(self) -> Item:
        try:
            return selectors.get_item(self.kwargs["code"])
        except Item.DoesNotExist:
            raise Http404 from None


@extend_schema(
    tags=["catalog"],
    summary="部门列表",
    parameters=[
        OpenApiParameter("region", OpenApiTypes.STR, description="行政区划代码（6 位）"),
        OpenApiParameter("kind", OpenApiTypes.STR, description="部门类别代码"),
    ],
)
class DepartmentListView(generics.ListAPIView[Department]):
    serializer_class = DepartmentSerializer
    permission_classes = [AllowAny]
    pagination_class = CatalogPagination

    def get_queryset(self) -> QuerySet[Department]:
        params = DepartmentFilterSerializer(data=self.request.query_params)
        params.is_valid(raise_exception=True)
        data: dict[str, Any] = params.validated_data
        return selectors.list_departments(region=data.get("region") or None, kind=data.get("kind") or None)

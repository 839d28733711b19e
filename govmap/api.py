"""Regions API (API.md, "Catalog and places"): list, one region, and point → county lookup."""

from __future__ import annotations

from django.utils.translation import gettext as _
from drf_spectacular.utils import OpenApiExample, OpenApiParameter, OpenApiResponse, extend_schema
from rest_framework import exceptions, permissions
from rest_framework.request import Request
from rest_framework.response import Response
from rest_framework.views import APIView

from govmap import selectors
from govmap.serializers import (
    LookupQuerySerializer,
    LookupResponseSerializer,
    RegionDetailQuerySerializer,
    RegionDetailSerializer,
    RegionListQuerySerializer,
    RegionSerializer,
    RegionWithBoundarySerializer,
)

_ERROR = OpenApiResponse(description='输入有误：{"detail": "...", "errors": {字段: [说明]}}')


class RegionListView(APIView):
    """Administrative regions: public reference data, the same for every caller."""

    permission_classes = [permissions.AllowAny]

    @extend_schema(
        operation_id="regions_list",
        summary="行政区划列表",
        description="按级别和上级筛选行政区划（GB/T 2260 代码）。不分页：全省不超过一百余条。",
        parameters=[
            OpenApiParameter("level", str, enum=["province", "city", "county"], description="级别"),
            OpenApiParameter("parent", str, description="上级区划代码（6 位），只列其直接下级"),
        ],
        responses={200: RegionSerializer(many=True), 400: _ERROR},
        examples=[
            OpenApiExample(
                "贵阳市的区县",
                value=[{"adcode": "520102", "name": "南明区", "level": "county", "parent": "520100"}],
                response_only=True,
            )
        ],
        tags=["regions"],
    )
    def get(self, request: Request) -> Response:
        query = RegionListQuerySerializer(data=request.query_params)
        query.is_valid(raise_exception=True)
        regions = selectors.list_regions(
            level=query.validated_data.get("level"), parent=query.validated_data.get("parent")
        )
        return Response(RegionSerializer(regions, many=True).data)


class RegionDetailView(APIView):
    permission_classes = [permissions.AllowAny]

    @extend_schema(
        operation_id="regions_retrieve",
        summary="一个行政区划",
        description="含代表点和面积；`?geometry=1` 时另含简化后的边界 GeoJSON（WGS-84）。",
        parameters=[OpenApiParameter("geometry", bool, description="为 1 时返回边界（boundary）")],
        responses={
            200: RegionWithBoundarySerializer,
            400: _ERROR,
            404: OpenApiResponse(description="没有这个行政区划"),
        },
        tags=["regions"],
    )
    def get(self, request: Request, adcode: str) -> Response:
        query = RegionDetailQuerySerializer(data=request.query_params)
        query.is_valid(raise_exception=True)
        with_boundary = bool(query.validated_data["geometry"])
        region = selectors.get_region(adcode, with_boundary=with_boundary)
        serializer = RegionWithBoundarySerializer if with_boundary else RegionDetailSerializer
        return Response(serializer(region).data)


class RegionLookupView(APIView):
    permission_classes = [permissions.AllowAny]

    @extend_schema(
        operation_id="regions_lookup",
        summary="坐标所在区县",
        description="返回包含该点（WGS-84）的区县及其所属市（州）；按边界包含关系判断，不取最近的区县。",
        parameters=[
            OpenApiParameter("lat", float, required=True, description="纬度（WGS-84）"),
            OpenApiParameter("lon", float, required=True, description="经度（WGS-84）"),
        ],
        responses={
            200: LookupResponseSerializer,
            400: _ERROR,
            404: OpenApiResponse(description="该点不在任何已导入的区县内"),
        },
        tags=["regions"],
    )
    def get(self, request: Request) -> Response:
        query = LookupQuerySerializer(data=request.query_params)
        query.is_valid(raise_exception=True)
        lat, lon = query.validated_data["lat"], query.validated_data["lon"]
        found = selectors.regions_at(lat, lon)
        if found is None:
            raise exceptions.NotFound(
                _("该位置不在任何已导入的区县范围内（%(lat)s, %(lon)s）。") % {"lat": lat, "lon": lon}
            )
        county, city = found
        return Response(
            {
                "lat": lat,
                "lon": lon,
                "county": RegionSerializer(county).data,
                "city": RegionSerializer(city).data if city is not None else None,
                "province": f"{county.adcode[:2]}0000",
            }
        )

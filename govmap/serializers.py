"""API shapes of the geographic core (see API.md: regions are `{adcode, name, level, parent}`)."""

from __future__ import annotations

from typing import Any

from django.utils.translation import gettext_lazy as _
from drf_spectacular.utils import extend_schema_field
from rest_framework import serializers

from govmap.models import Region, RegionLevel


class RegionSerializer(serializers.ModelSerializer[Region]):
    # DRF's metaclass moves declared fields off the class, so shadowing Field.parent is safe.
    parent = serializers.CharField(  # type: ignore[assignment]
        source="parent_id", allow_null=True, read_only=True, help_text=_("上级区划代码")
    )

    class Meta:
        model = Region
        fields = ["adcode", "name", "level", "parent"]
        read_only_fields = fields


class RegionDetailSerializer(RegionSerializer):
    lat = serializers.FloatField(read_only=True, allow_null=True, help_text=_("代表点纬度（WGS-84，保证在边界内）"))
    lon = serializers.FloatField(read_only=True, allow_null=True, help_text=_("代表点经度（WGS-84）"))
    area_km2 = serializers.FloatField(read_only=True, allow_null=True, help_text=_("椭球面面积，平方公里"))

    class Meta(RegionSerializer.Meta):
        fields = [*RegionSerializer.Meta.fields, "lat", "lon", "area_km2"]
        read_only_fields = fields


@extend_schema_field(
    {
        "type": "object",
        "description": "GeoJSON Polygon / MultiPolygon, WGS-84 [lon, lat]",
        "properties": {"type": {"type": "string", "enum": ["Polygon", "MultiPolygon"]}, "coordinates": {}},
        "nullable": True,
    }
)
class GeoJSONGeometryField(serializers.JSONField):
    pass


class RegionWithBoundarySerializer(RegionDetailSerializer):
    boundary = GeoJSONGeometryField(read_only=True, help_text=_("简化后的边界（GeoJSON，WGS-84）"))

    class Meta(RegionDetailSerializer.Meta):
        fields = [*RegionDetailSerializer.Meta.fields, "boundary"]
        read_only_fields = fields


class RegionListQuerySerializer(serializers.Serializer[Any]):
    level = serializers.ChoiceField(
        choices=RegionLevel.choices,
        required=False,
        error_messages={"invalid_choice": _("“{input}”不是有效的级别，可选：province、city、county。")},
    )
    parent = serializers.RegexField(  # type: ignore[assignment]  # see RegionSerializer.parent
        r"^\d{6}$",
        required=False,
        error_messages={"invalid": _("上级区划代码必须是 6 位数字。")},
    )


class RegionDetailQuerySerializer(serializers.Serializer[Any]):
    geometry = serializers.BooleanField(required=False, default=False, help_text=_("为 1 时返回边界 GeoJSON"))


class LookupQuerySerializer(serializers.Serializer[Any]):
    lat = serializers.FloatField(min_value=-90, max_value=90, help_text=_("纬度（WGS-84）"))
    lon = serializers.FloatField(min_value=-180, max_value=180, help_text=_("经度（WGS-84）"))

    def validate(self, attrs: dict[str, Any]) -> dict[str, Any]:
        import math

        for name in ("lat", "lon"):
            if not math.isfinite(attrs[name]):
                raise serializers.ValidationError({name: [_("必须是有限数值。")]})
        return attrs


class LookupResponseSerializer(serializers.Serializer[Any]):
    lat = serializers.FloatField()
    lon = serializers.FloatField()
    county = RegionSerializer()
    city = RegionSerializer(allow_null=True)
    province = serializers.CharField(allow_null=True, help_text=_("省级区划代码"))


__all__ = [
    "GeoJSONGeometryField",
    "LookupQuerySerializer",
    "LookupResponseSerializer",
    "RegionDetailQuerySerializer",
    "RegionDetailSerializer",
    "RegionListQuerySerializer",
    "RegionSerializer",
    "RegionWithBoundarySerializer",
]

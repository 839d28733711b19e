"""Serializers of the hall registry API (shapes fixed by API.md; extra fields are additive)."""

from __future__ import annotations

from typing import Any

from drf_spectacular.utils import extend_schema_field
from rest_framework import serializers

from halls.categories import categories_for_windows
from halls.models import Hall, HallType, Window, WindowKind


class WindowSerializer(serializers.ModelSerializer[Window]):
    kinds = serializers.SerializerMethodField(help_text="窗口类别（通办收件、综合收件、出件、咨询）")

    class Meta:
        model = Window
        fields = ["id", "number", "kinds"]

    @extend_schema_field(serializers.ListField(child=serializers.ChoiceField(choices=WindowKind.choices)))
    def get_kinds(self, window: Window) -> list[str]:
        return window.kinds


class HallSerializer(serializers.ModelSerializer[Hall]):
    region = serializers.CharField(source="region_id", help_text="所在区县的行政区划代码（6位）")
    windows = WindowSerializer(many=True, read_only=True)

    class Meta:
        model = Hall
        fields = [
            "code",
            "name",
            "type",
            "level",
            "region",
            "address",
            "lat",
            "lon",
            "opening_hours",
            "phone",
            "is_synthetic",
            "windows",
        ]
        read_only_fields = fields


class QueueCategorySerializer(serializers.Serializer[Any]):
    code = serializers.CharField()
    name = serializers.CharField()


class HallDetailSerializer(HallSerializer):
    """One hall with its live figures; the view passes ``stats`` (halls.hall_stats) in the context."""

    is_active = serializers.BooleanField(read_only=True)
    queue_categories = serializers.SerializerMethodField()
    queue_waiting = serializers.SerializerMethodField()
    appointments_today = serializers.SerializerMethodField()
    rating_avg = serializers.SerializerMethodField()
    rating_count = serializers.SerializerMethodField()
    bad_count = serializers.SerializerMethodField()

    class Meta(HallSerializer.Meta):
        fields = [
            *HallSerializer.Meta.fields,
            "is_active",
            "queue_categories",
            "queue_waiting",
            "appointments_today",
            "rating_avg",
            "rating_count",
            "bad_count",
        ]
        read_only_fields = fields

    def _stat(self, hall: Hall, key: str) -> Any:
        stats = self.context.get("stats", {}).get(hall.pk, {})
        return stats.get(key)

    @extend_schema_field(QueueCategorySerializer(many=True))
    def get_queue_categories(self, hall: Hall) -> list[dict[str, str]]:
        categories = categories_for_windows(hall.windows.all(), hall_type=hall.type)
        return [{"code": c.code, "name": str(c.name)} for c in categories]

    @extend_schema_field(serializers.IntegerField())
    def get_queue_waiting(self, hall: Hall) -> int:
        return int(self._stat(hall, "queue_waiting") or 0)

    @extend_schema_field(serializers.IntegerField())
    def get_appointments_today(self, hall: Hall) -> int:
        return int(self._stat(hall, "appointments_today") or 0)

    @extend_schema_field(serializers.FloatField(allow_null=True))
    def get_rating_avg(self, hall: Hall) -> float | None:
        avg = self._stat(hall, "rating_avg")
        return None if avg is None else round(float(avg), 2)

    @extend_schema_field(serializers.IntegerField())
    def get_rating_count(self, hall: Hall) -> int:
        return int(self._stat(hall, "rating_count") or 0)

    @extend_schema_field(serializers.IntegerField())
    def get_bad_count(self, hall: Hall) -> int:
        return int(self._stat(hall, "bad_count") or 0)


class HallFilterSerializer(serializers.Serializer[Any]):
    """Query parameters of GET /api/v1/halls/ (validated by halls.selectors for clear messages)."""

    region = serializers.CharField(required=False, help_text="任意级别的行政区划代码：返回其下所有场所")
    type = serializers.ChoiceField(choices=HallType.choices, required=False)
    item = serializers.CharField(required=False, help_text="事项编码：返回有窗口可收该事项的场所")

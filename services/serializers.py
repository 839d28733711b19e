"""Shapes of the public catalog API (see /api/schema/ and API.md: items, departments)."""

from __future__ import annotations

from rest_framework import serializers

from services.models import Department, Item, MaterialRequirement, Mode


class MaterialSerializer(serializers.ModelSerializer[MaterialRequirement]):
    class Meta:
        model = MaterialRequirement
        fields = ["code", "name", "required", "original_needed", "e_license_type", "min_grade", "pledge_allowed"]


class ItemSerializer(serializers.ModelSerializer[Item]):
    department_kind = serializers.CharField(source="department_kind_id", help_text="部门类别代码，如 public_security")
    department_kind_name = serializers.CharField(source="department_kind.name")
    modes = serializers.ListField(child=serializers.ChoiceField(choices=Mode.choices), help_text="办理模式")
    zones = serializers.SerializerMethodField(help_text="行业专区代码")
    co_department_kinds = serializers.SerializerMethodField(help_text="联办部门类别代码（多地联办 / 一件事）")
    materials = MaterialSerializer(many=True)

    class Meta:
        model = Item
        fields = [
            "code",
            "name",
            "item_type",
            "department_kind",
            "department_kind_name",
            "handling_level",
            "modes",
            "legal_days",
            "committed_days",
            "fee",
            "visits_required",
            "result_type",
            "result_name",
            "deemed_acceptance",
            "zones",
            "co_department_kinds",
            "materials",
        ]

    def get_zones(self, obj: Item) -> list[str]:
        # .all() reuses the prefetch; sorting in Python keeps it query-free.
        return sorted(z.code for z in obj.zones.all())

    def get_co_department_kinds(self, obj: Item) -> list[str]:
        return sorted(k.code for k in obj.co_department_kinds.all())


class ItemFilterSerializer(serializers.Serializer[dict[str, str]]):
    q = serializers.CharField(required=False, allow_blank=True, max_length=100, help_text="名称、编码或关键词")
    mode = serializers.ChoiceField(choices=Mode.choices, required=False, allow_blank=True)
    department = serializers.CharField(required=False, allow_blank=True, max_length=32, help_text="部门类别代码")
    zone = serializers.CharField(required=False, allow_blank=True, max_length=32, help_text="行业专区代码")


class DepartmentSerializer(serializers.ModelSerializer[Department]):
    kind = serializers.CharField(source="kind_id")
    region = serializers.CharField(source="region_id", help_text="行政区划代码（adcode）")

    class Meta:
        model = Department
        fields = ["code", "name", "kind", "region"]


class DepartmentFilterSerializer(serializers.Serializer[dict[str, str]]):
    region = serializers.RegexField(r"^\d{6}$", required=False, allow_blank=True, help_text="行政区划代码（6 位）")
    kind = serializers.CharField(required=False, allow_blank=True, max_length=32, help_text="部门类别代码")

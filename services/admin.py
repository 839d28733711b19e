"""Catalog admin (Chinese): items with materials inline; CSV / Excel import and export."""

from __future__ import annotations

from django.contrib import admin
from django.http import HttpRequest
from django.utils.translation import gettext_lazy as _
from django.utils.translation import pgettext
from import_export.admin import ImportExportModelAdmin
from import_export.formats import base_formats
from import_export.forms import SelectableFieldsExportForm
from import_export.resources import ModelResource

from config.spreadsheet import SafeCSV, SafeXLSX
from services.models import Department, DepartmentKind, IndustryZone, Item, MaterialRequirement, Mode
from services.resources import DepartmentKindResource, IndustryZoneResource, ItemResource

# Escaping formats (config.spreadsheet): no exported cell is a live formula.
CATALOG_FORMATS: list[type[base_formats.Format]] = [SafeCSV, SafeXLSX]


class ChineseExportForm(SelectableFieldsExportForm):
    """Column checkboxes labelled with the spreadsheet headers (事项编码 …), not English field names."""

    def _get_field_label(self, resource: ModelResource, field_name: str) -> str:
        field = resource.fields.get(field_name)
        return str(field.column_name) if field and field.column_name else field_name


class MaterialRequirementInline(admin.TabularInline):
    model = MaterialRequirement
    extra = 0
    fields = [
        "position",
        "code",
        "name",
        "required",
        "original_needed",
        "e_license_type",
        "min_grade",
        "pledge_allowed",
    ]
    ordering = ["position", "code"]


@admin.register(Item)
class ItemAdmin(ImportExportModelAdmin):
    resource_classes = [ItemResource]
    formats = CATALOG_FORMATS
    export_form_class = ChineseExportForm
    list_display = [
        "code",
        "name",
        "department_kind",
        "handling_level",
        "modes_display",
        "legal_days",
        "committed_days",
        "is_active",
    ]
    list_filter = ["department_kind", "handling_level", "item_type", "online", "proxy", "joint", "zones", "is_active"]
    search_fields = ["code", "name", "keywords"]
    filter_horizontal = ["zones", "co_department_kinds"]
    inlines = [MaterialRequirementInline]
    list_select_related = ["department_kind"]
    fieldsets = [
        (None, {"fields": ["code", "name", "item_type", "department_kind", "handling_level", "is_active"]}),
        (
            _("办理"),
            {"fields": ["online", "proxy", "joint", "co_department_kinds", "visits_required", "deemed_acceptance"]},
        ),
        (_("时限与收费"), {"fields": ["legal_days", "committed_days", "fee"]}),
        (_("结果"), {"fields": ["result_type", "result_name"]}),
        (_("检索与专区"), {"fields": ["zones", "keywords"]}),
        (_("依据"), {"fields": ["legal_basis"]}),
    ]

    @admin.display(description=_("办理模式"))
    def modes_display(self, obj: Item) -> str:
        return pgettext("list separator", "、").join(str(Mode(m).label) for m in obj.modes) or "—"


@admin.register(DepartmentKind)
class DepartmentKindAdmin(ImportExportModelAdmin):
    resource_classes = [DepartmentKindResource]
    formats = CATALOG_FORMATS
    list_display = ["code", "name"]
    search_fields = ["code", "name"]


@admin.register(IndustryZone)
class IndustryZoneAdmin(ImportExportModelAdmin):
    resource_classes = [IndustryZoneResource]
    formats = CATALOG_FORMATS
    list_display = ["code", "name"]
    search_fields = ["code", "name"]


@admin.register(Department)
class DepartmentAdmin(admin.ModelAdmin):
    list_display = ["code", "name", "kind", "region"]
    list_filter = ["kind", "region__level"]
    search_fields = ["code", "name", "region__name", "region__adcode"]
    list_select_related = ["kind", "region"]
    raw_id_fields = ["region"]

    def has_delete_permission(self, request: HttpRequest, obj: Department | None = None) -> bool:
        # Cases, results and staff point at departments; retire them by renaming, never delete.
        return False

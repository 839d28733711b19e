"""Admin (Chinese) for the hall registry: halls with their windows, windows, staff posts."""

from __future__ import annotations

from typing import Any

from django.contrib import admin
from django.db.models import QuerySet
from django.http import HttpRequest
from django.utils.translation import gettext_lazy as _

from halls.models import Hall, StaffPost, Window


class CityListFilter(admin.SimpleListFilter):
    """Filter by city/prefecture: halls point at counties, whose adcodes share the city's prefix."""

    title = _("所在市（州）")
    parameter_name = "city"

    def lookups(self, request: HttpRequest, model_admin: Any) -> list[tuple[str, str]]:
        from govmap.models import Region, RegionLevel

        return [(a, n) for a, n in Region.objects.filter(level=RegionLevel.CITY).values_list("adcode", "name")]

    def queryset(self, request: HttpRequest, queryset: QuerySet[Any]) -> QuerySet[Any]:
        value = self.value()
        if not value or not value.isdigit():
            return queryset
        field = "hall__region__adcode" if queryset.model is not Hall else "region__adcode"
        return queryset.filter(**{f"{field}__startswith": value[:4]})


class CountyListFilter(admin.SimpleListFilter):
    """Filter by county, listing names only (the Region rows carry large boundaries)."""

    title = _("所在区县")
    parameter_name = "county"

    def lookups(self, request: HttpRequest, model_admin: Any) -> list[tuple[str, str]]:
        from govmap.models import Region, RegionLevel

        qs = Region.objects.filter(level=RegionLevel.COUNTY)
        city = request.GET.get("city")
        if city and city.isdigit():
            qs = qs.filter(adcode__startswith=city[:4])
        return [(a, n) for a, n in qs.values_list("adcode", "name")]

    def queryset(self, request: HttpRequest, queryset: QuerySet[Any]) -> QuerySet[Any]:
        value = self.value()
        if not value:
            return queryset
        field = "hall__region__adcode" if queryset.model is not Hall else "region__adcode"
        return queryset.filter(**{field: value})


class WindowInline(admin.TabularInline):
    model = Window
    extra = 0
    fields = ["number", "tongban_intake", "general_intake", "issuing", "consultation", "items"]
    raw_id_fields = ["items"]
    ordering = ["number"]


@admin.register(Hall)
class HallAdmin(admin.ModelAdmin):
    list_display = ["code", "name", "type", "level", "region_id", "opening_hours", "is_synthetic", "is_active"]
    list_filter = ["type", "level", CityListFilter, CountyListFilter, "is_synthetic", "is_active"]
    search_fields = ["code", "name", "address"]
    raw_id_fields = ["region"]
    list_per_page = 50
    show_full_result_count = False  # 20,000 rows: skip the second COUNT(*) on every page
    inlines = [WindowInline]
    fieldsets = [
        (None, {"fields": ["code", "name", "type", "level", "region", "is_active"]}),
        (_("位置与联系"), {"fields": ["address", "lat", "lon", "opening_hours", "phone", "is_synthetic"]}),
    ]

    @admin.display(description=_("所在区县"), ordering="region_id")
    def region_id(self, obj: Hall) -> str:
        return str(obj.region_id)


@admin.register(Window)
class WindowAdmin(admin.ModelAdmin):
    list_display = ["hall", "number", "tongban_intake", "general_intake", "issuing", "consultation"]
    list_filter = ["tongban_intake", "general_intake", "issuing", "consultation", "hall__type", CityListFilter]
    search_fields = ["hall__code", "hall__name", "number"]
    raw_id_fields = ["hall", "items"]
    list_select_related = ["hall"]
    show_full_result_count = False


@admin.register(StaffPost)
class StaffPostAdmin(admin.ModelAdmin):
    list_display = ["user", "hall", "window", "is_active"]
    list_filter = ["is_active", "hall__type", CityListFilter]
    search_fields = ["user__username", "user__real_name", "hall__code", "hall__name"]
    raw_id_fields = ["user", "hall", "window"]
    list_select_related = ["user", "hall", "window"]

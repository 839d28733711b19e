"""Admin for regions: read-mostly, because rows come from `import_regions` / `load_shipped_regions`.

Only the name can be corrected by hand (a renamed county before the next import); codes, levels,
parents and boundaries are data of record and change only through an import.
"""

from __future__ import annotations

from django.contrib import admin
from django.db.models import Count, QuerySet
from django.http import HttpRequest
from django.utils.translation import gettext_lazy as _

from govmap.models import Region


def _vertex_count(geojson: object) -> int:
    if isinstance(geojson, list):
        if geojson and isinstance(geojson[0], int | float):
            return 1
        return sum(_vertex_count(x) for x in geojson)
    if isinstance(geojson, dict):
        return _vertex_count(geojson.get("coordinates", []))
    return 0


@admin.register(Region)
class RegionAdmin(admin.ModelAdmin):
    list_display = ("adcode", "name", "level", "parent", "area_km2", "children_count")
    list_filter = ("level",)
    search_fields = ("adcode", "name", "parent__name")
    list_select_related = ("parent",)
    ordering = ("adcode",)
    readonly_fields = ("adcode", "level", "parent", "lat", "lon", "area_km2", "boundary_summary", "source")
    fields = ("adcode", "name", "level", "parent", "lat", "lon", "area_km2", "boundary_summary", "source")
    list_per_page = 100

    def get_queryset(self, request: HttpRequest) -> QuerySet[Region]:
        # The boundary is large; the list never shows it.
        return super().get_queryset(request).defer("boundary").annotate(n_children=Count("children"))

    def get_readonly_fields(self, request: HttpRequest, obj: Region | None = None) -> tuple[str, ...]:
        return self.readonly_fields

    def has_add_permission(self, request: HttpRequest) -> bool:
        return False

    def has_delete_permission(self, request: HttpRequest, obj: Region | None = None) -> bool:
        # Halls, departments and cases point at regions (PROTECT); an abolished county stays.
        return False

    @admin.display(description=_("下级数"), ordering="n_children")
    def children_count(self, obj: Region) -> int:
        return int(getattr(obj, "n_children", 0))

    @admin.display(description=_("边界"))
    def boundary_summary(self, obj: Region) -> str:
        if not obj.boundary:
            return str(_("无"))
        kind = obj.boundary.get("type", "?") if isinstance(obj.boundary, dict) else "?"
        return str(_("%(kind)s，%(n)d 个顶点（WGS-84，已简化）")) % {"kind": kind, "n": _vertex_count(obj.boundary)}

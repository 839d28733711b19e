"""`manage.py export_points`: every service point (halls, stations, kiosks) as a GIS layer.

    python manage.py export_points --format gpkg --out service-points.gpkg
    python manage.py export_points --format geojson --out service-points.geojson --include-inactive

For GIS users (QGIS, ArcGIS): one point layer ``service_points`` in WGS-84 (EPSG:4326), with the
hall's code, name, type, level, county (adcode and name), address, opening hours, phone and whether
it is open; written by geopandas through pyogrio (GDAL). An existing file at --out is replaced.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

from django.core.management.base import BaseCommand, CommandError, CommandParser

from halls.models import Hall

LAYER = "service_points"
DRIVERS = {"gpkg": "GPKG", "geojson": "GeoJSON"}
COLUMNS = (
    "code",
    "name",
    "type",
    "level",
    "region",
    "region_name",
    "address",
    "opening_hours",
    "phone",
    "is_active",
    "is_synthetic",
)


def points_frame(*, include_inactive: bool = False) -> Any:
    """The service points as a GeoDataFrame (EPSG:4326), ordered by code."""
    import geopandas as gpd

    halls = Hall.objects.order_by("code")
    if not include_inactive:
        halls = halls.filter(is_active=True)
    rows = list(
        halls.values_list(
            "code",
            "name",
            "type",
            "level",
            "region_id",
            "region__name",
            "address",
            "opening_hours",
            "phone",
            "is_active",
            "is_synthetic",
            "lon",
            "lat",
        )
    )
    data = {col: [r[i] for r in rows] for i, col in enumerate(COLUMNS)}
    lons = [r[-2] for r in rows]
    lats = [r[-1] for r in rows]
    return gpd.GeoDataFrame(data, geometry=gpd.points_from_xy(lons, lats), crs="EPSG:4326")


class Command(BaseCommand):
    help = "把全部服务点（大厅、便民服务站、自助站点）导出为 GeoPackage 或 GeoJSON（WGS-84），供 GIS 使用。"

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("--format", choices=sorted(DRIVERS), help="gpkg 或 geojson；默认按 --out 的扩展名")
        parser.add_argument("--out", type=Path, required=True, help="输出文件（已存在则覆盖）")
        parser.add_argument("--include-inactive", action="store_true", help="也导出已停用的场所")

    def handle(self, *args: Any, **opts: Any) -> None:
        out: Path = opts["out"]
        fmt = opts["format"] or {".gpkg": "gpkg", ".geojson": "geojson", ".json": "geojson"}.get(out.suffix.lower())
        if fmt is None:
            raise CommandError("请用 --format 指定 gpkg 或 geojson（无法从文件扩展名判断）。")
        frame = points_frame(include_inactive=opts["include_inactive"])
        out.parent.mkdir(parents=True, exist_ok=True)
        # GPKG would add a layer to an existing file (and GeoJSON refuse it): replace it whole.
        out.unlink(missing_ok=True)
        frame.to_file(out, driver=DRIVERS[fmt], layer=LAYER if fmt == "gpkg" else None, engine="pyogrio")
        self.stdout.write(self.style.SUCCESS(f"已导出 {len(frame)} 个服务点到 {out}（{DRIVERS[fmt]}，EPSG:4326）。"))

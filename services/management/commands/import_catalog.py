"""python manage.py import_catalog <file.csv|file.xlsx> [--dry-run]

Imports items (with their materials) in the catalog exchange format (services/data/README.md).
All or nothing: any bad row aborts the import with every problem listed, and nothing is written.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

from django.core.management.base import BaseCommand, CommandError, CommandParser

from services.resources import CatalogImportError, import_catalog_file


class Command(BaseCommand):
    help = "从 CSV 或 Excel（.xlsx）文件导入政务服务事项及其申请材料；任何一行有误则整体不写入。"

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("file", help="事项目录文件（.csv 或 .xlsx），格式见 services/data/README.md")
        parser.add_argument("--dry-run", action="store_true", help="只校验，不写入数据库")

    def handle(self, *args: Any, **options: Any) -> None:
        path = Path(options["file"])
        try:
            content = path.read_bytes()
        except OSError as e:
            raise CommandError(f"无法读取文件 {path}：{e.strerror or e}") from None
        try:
            result = import_catalog_file(path.name, content, dry_run=options["dry_run"])
        except CatalogImportError as e:
            raise CommandError(
                f"导入失败，未写入任何数据（共 {len(e.messages)} 处问题）：\n" + "\n".join(e.messages)
            ) from None
        totals = result.totals
        summary = f"新增 {totals['new']} 项，更新 {totals['update']} 项，共 {result.total_rows} 行"
        if options["dry_run"]:
            self.stdout.write(self.style.SUCCESS(f"校验通过（未写入）：{summary}。"))
        else:
            self.stdout.write(self.style.SUCCESS(f"导入完成：{summary}。"))

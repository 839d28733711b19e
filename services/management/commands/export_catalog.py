"""python manage.py export_catalog <file.csv|file.xlsx>

Writes every item (inactive ones included) with its materials in the catalog exchange format, the
same format import_catalog and the admin read back.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

from django.core.management.base import BaseCommand, CommandError, CommandParser

from services.models import Item
from services.resources import CatalogImportError, export_catalog_bytes


class Command(BaseCommand):
    help = "把政务服务事项及其申请材料导出为 CSV 或 Excel（.xlsx）文件。"

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("file", help="输出文件（.csv 或 .xlsx）")

    def handle(self, *args: Any, **options: Any) -> None:
        path = Path(options["file"])
        try:
            data = export_catalog_bytes(path.name)
        except CatalogImportError as e:
            raise CommandError("\n".join(e.messages)) from None
        try:
            path.write_bytes(data)
        except OSError as e:
            raise CommandError(f"无法写入文件 {path}：{e.strerror or e}") from None
        self.stdout.write(self.style.SUCCESS(f"已导出 {Item.objects.count()} 项事项到 {path}。"))

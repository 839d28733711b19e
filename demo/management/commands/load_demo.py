"""python manage.py load_demo [--size default|large] — the Guizhou demo data, idempotent.

Order follows the app layers: regions → catalog and departments → halls → staff → history.
The demo app sits above every domain app, so it calls each loader directly.
"""

from __future__ import annotations

import time
from collections.abc import Callable
from typing import Any

from django.core.management.base import BaseCommand, CommandError, CommandParser


class Command(BaseCommand):
    help = "加载贵州演示数据（行政区划、事项目录、部门、服务场所、工作人员），可重复执行。"

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument(
            "--size",
            choices=["default", "large"],
            default="default",
            help="large 增加约17,000个村级便民服务站（约20,000个点位）",
        )
        parser.add_argument("--seed", type=int, default=52, help="合成点位的随机种子（可复现）")

    def handle(self, *args: Any, **options: Any) -> None:
        from demo.hall_registry import load_halls
        from demo.portal import load_portal
        from demo.ratings import load_ratings
        from demo.staff import DEMO_PASSWORD, load_staff
        from govmap.loaders import load_shipped_regions
        from halls import coverage
        from services.catalog_data import load_catalog, load_departments

        steps: list[tuple[str, Callable[[], Any]]] = [
            ("行政区划", lambda: load_shipped_regions("520000")),
            ("事项目录", load_catalog),
            ("部门", load_departments),
            ("服务场所", lambda: load_halls(size=options["size"], seed=options["seed"])),
            # Bulk writes skip the hall signals: the map's coverage layer is filled here.
            ("服务覆盖", coverage.refresh),
            ("工作人员", load_staff),
            ("好差评", load_ratings),
            ("市州站点与政策文件", load_portal),
        ]

        total = time.perf_counter()
        for label, step in steps:
            started = time.perf_counter()
            try:
                result = step()
            except Exception as exc:
                raise CommandError(f"加载{label}失败：{exc}") from exc
            self.stdout.write(f"{label}: {result} ({time.perf_counter() - started:.1f}s)")
        self.stdout.write(
            self.style.SUCCESS(
                f"演示数据已就绪，用时 {time.perf_counter() - total:.1f}s。演示账号密码：{DEMO_PASSWORD}"
            )
        )

"""`manage.py coverage`: the "15-minute service circle" per county, and the largest uncovered gaps.

For every county: the share of its area within DISTANCE of a comprehensive hall or a station
(configurable), written to halls.CountyCoverage for the map's coverage layer, then a report.
"""

from __future__ import annotations

import json
from typing import Any, cast

from django.core.management.base import BaseCommand, CommandError, CommandParser

from govmap.models import Region
from halls import coverage
from halls.models import HallType


class Command(BaseCommand):
    help = "按区县计算服务半径覆盖率（15分钟政务服务圈），列出最大的未覆盖区域，并保存供地图图层使用。"

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("--distance-km", type=float, default=5.0, help="服务半径（公里），默认 5")
        parser.add_argument(
            "--types",
            default=f"{HallType.COMPREHENSIVE},{HallType.STATION}",
            help="计入覆盖的场所类型（逗号分隔），默认 comprehensive,station",
        )
        parser.add_argument("--region", default="", help="只计算该行政区划（省/市/县 adcode）下的区县")
        parser.add_argument("--gaps", type=int, default=10, help="列出最大的未覆盖区域个数")
        parser.add_argument("--json", action="store_true", help="以 JSON 输出结果")
        parser.add_argument("--dry-run", action="store_true", help="只计算不保存")

    def handle(self, *args: Any, **opts: Any) -> None:
        distance_m = opts["distance_km"] * 1000
        if not 0 < distance_m <= 200_000:
            raise CommandError("--distance-km 应在 0 到 200 之间")
        types = [t.strip() for t in opts["types"].split(",") if t.strip()]
        unknown = [t for t in types if t not in HallType.values]
        if unknown or not types:
            raise CommandError(f"未知的场所类型：{', '.join(unknown) or '（空）'}；可选：{', '.join(HallType.values)}")
        prefix = opts["region"].strip()
        if prefix and not Region.objects.filter(adcode=prefix).exists():
            raise CommandError(f"未知的行政区划代码：{prefix}")
        try:
            run = coverage.compute(distance_m=round(distance_m), types=types, region=prefix, save=not opts["dry_run"])
        except ValueError as exc:
            raise CommandError(str(exc)) from exc
        results, names, elapsed = run.results, run.names, run.seconds
        points = run.points
        gaps: list[dict[str, Any]] = sorted(
            ({"adcode": r.adcode, "name": names[r.adcode], **g} for r in results for g in r.gaps),
            key=lambda g: cast(float, g["area_km2"]),
            reverse=True,
        )[: opts["gaps"]]
        total_area = sum(r.area_km2 for r in results)
        covered = sum(r.area_km2 * r.covered_share for r in results)
        summary = {
            "distance_m": round(distance_m),
            "types": types,
            "counties": len(results),
            "points": points,
            "covered_share": round(covered / total_area, 4) if total_area else 0.0,
            "seconds": round(elapsed, 2),
            "by_county": [
                {
                    "adcode": r.adcode,
                    "name": names[r.adcode],
                    "covered_share": r.covered_share,
                    "uncovered_km2": r.uncovered_km2,
                    "points": r.points,
                }
                for r in results
            ],
            "largest_gaps": gaps,
        }
        if opts["json"]:
            self.stdout.write(json.dumps(summary, ensure_ascii=False, indent=2))
            return
        self.stdout.write(
            f"服务半径 {opts['distance_km']:g} 公里，场所类型 {', '.join(types)}，{points} 个服务点，"
            f"{len(results)} 个区县，用时 {elapsed:.1f} 秒"
        )
        self.stdout.write(f"全省（所选范围）面积覆盖率：{summary['covered_share']:.1%}")
        self.stdout.write("覆盖率最低的区县：")
        for r in sorted(results, key=lambda r: r.covered_share)[:10]:
            self.stdout.write(
                f"  {names[r.adcode]}（{r.adcode}）{r.covered_share:.1%}，未覆盖 {r.uncovered_km2:.0f} 平方公里，"
                f"{r.points} 个服务点"
            )
        self.stdout.write("最大的未覆盖区域：")
        for g in gaps:
            self.stdout.write(
                f"  {g['name']}（{g['adcode']}）{g['area_km2']:.1f} 平方公里，中心约 {g['lat']}, {g['lon']}"
            )
        if not opts["dry_run"]:
            self.stdout.write(self.style.SUCCESS(f"已保存 {len(results)} 个区县的覆盖率。"))

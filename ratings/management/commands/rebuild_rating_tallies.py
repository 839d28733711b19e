"""python manage.py rebuild_rating_tallies — recompute the rating tallies from the ratings.

The tallies are kept in step by every rating and appeal action; this is for bulk imports and
repairs (e.g. after restoring ratings from a backup). One transaction, set-based.
"""

from __future__ import annotations

from typing import Any

from django.core.management.base import BaseCommand


class Command(BaseCommand):
    help = "按评价明细重算好差评统计表（批量导入或修复后使用）。"

    def handle(self, *args: Any, **options: Any) -> None:
        from ratings.tally import rebuild

        counts = rebuild()
        self.stdout.write(self.style.SUCCESS("已重算：" + "，".join(f"{k} {v} 行" for k, v in counts.items())))

"""Run the outbox sweep by hand, once or in a loop (the embedded default has no Celery beat)."""

from __future__ import annotations

import time
from typing import Any

from django.core.management.base import BaseCommand, CommandParser

from notifications.actions import dispatch_due


class Command(BaseCommand):
    help = "发送到期的待发短信，并恢复卡在“发送中”的消息（无 Celery beat 时使用）。"

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("--loop", type=float, default=0, help="每隔多少秒重复一次（默认只运行一次）")

    def handle(self, *args: Any, **options: Any) -> None:
        interval: float = options["loop"]
        while True:
            report = dispatch_due()
            self.stdout.write(f"queued={len(report.queued)} recovered={report.recovered} given_up={report.given_up}")
            if interval <= 0:
                return
            time.sleep(interval)

"""Run the Celery beat schedule in-process: the embedded default's stand-in for `celery beat`.

`make run` has no broker (Celery is eager), so periodic work — the SMS outbox sweep that retries
deferred messages, the case-clock sweep, rating invitations — would never run. This command applies
every beat entry in-process when it is due. Production runs `celery -A config beat` instead.
"""

from __future__ import annotations

import logging
import signal
import time
from datetime import datetime
from typing import Any

from celery.schedules import maybe_schedule
from django.core.management.base import BaseCommand, CommandParser
from django.db import close_old_connections
from django.utils import timezone

logger = logging.getLogger(__name__)


class Command(BaseCommand):
    help = "在进程内按 Celery beat 计划执行周期任务（仅用于内嵌默认模式，生产环境请运行 celery beat）。"

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("--once", action="store_true", help="把所有周期任务各执行一次后退出")
        parser.add_argument("--tick", type=float, default=5.0, help="检查间隔（秒）")

    def handle(self, *args: Any, **options: Any) -> None:
        from config.celery import app

        app.loader.import_default_modules()
        entries = {
            name: (entry["task"], maybe_schedule(entry["schedule"], app=app))
            for name, entry in app.conf.beat_schedule.items()
        }
        last_run: dict[str, datetime] = {}
        stop = {"flag": False}
        signal.signal(signal.SIGTERM, lambda *_: stop.update(flag=True))
        self.stdout.write(f"周期任务：{', '.join(sorted(entries)) or '无'}")
        while not stop["flag"]:
            for name, (task_name, sched) in entries.items():
                now = timezone.now()
                due = options["once"] or name not in last_run or sched.is_due(last_run[name]).is_due
                if not due:
                    continue
                last_run[name] = now
                task = app.tasks.get(task_name)
                if task is None:
                    logger.warning("beat entry %s names unknown task %s", name, task_name)
                    continue
                try:
                    task.apply(throw=True)
                except Exception:  # one failing sweep must not stop the others; the next tick retries
                    logger.exception("periodic task %s failed", task_name)
                finally:
                    close_old_connections()
            if options["once"]:
                return
            time.sleep(options["tick"])

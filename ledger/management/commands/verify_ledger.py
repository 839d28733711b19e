"""python manage.py verify_ledger — recompute the whole ledger; exit 0 when intact, 1 naming the
first bad entry (subject, seq, id, what is wrong)."""

from __future__ import annotations

import json
import sys
from typing import Any

from django.core.management.base import BaseCommand, CommandParser

from ledger.verify import verify_ledger


class Command(BaseCommand):
    help = "Recompute every hash chain, Merkle root and signature of the ledger (exit 1 on the first bad entry)."

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument(
            "--sources",
            action="store_true",
            help="also compare every entry with its source row (case events, materials, results)",
        )
        parser.add_argument("--json", action="store_true", help="print the report as JSON")

    def handle(self, *args: Any, **options: Any) -> None:
        report = verify_ledger(check_sources=options["sources"])
        if options["json"]:
            self.stdout.write(json.dumps(report.as_dict(), ensure_ascii=False, indent=2))
        if report.ok:
            if not options["json"]:
                self.stdout.write(
                    self.style.SUCCESS(
                        f"ledger intact: {report.entries} entries in {report.subjects} chains, "
                        f"{report.batches} signed batches ({report.unsealed} not sealed yet), "
                        f"root {report.root or '-'}, {report.seconds:.2f}s"
                    )
                )
            return
        first = report.first
        assert first is not None
        self.stderr.write(f"LEDGER BROKEN: first bad entry: {first.describe()}")
        if len(report.problems) > 1:
            self.stderr.write(f"({len(report.problems)}{'+' if report.truncated else ''} problems in total)")
        sys.exit(1)

"""python manage.py seal_ledger — seal pending entries now (what the beat task does every minute)."""

from __future__ import annotations

from typing import Any

from django.core.management.base import BaseCommand, CommandParser

from ledger.actions import seal_pending


class Command(BaseCommand):
    help = "Seal every pending ledger entry into signed Merkle batches."

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("--batch-size", type=int, default=None)

    def handle(self, *args: Any, **options: Any) -> None:
        batches = seal_pending(limit=options["batch_size"])
        self.stdout.write(f"sealed {len(batches)} batches, {sum(b.size for b in batches)} entries")

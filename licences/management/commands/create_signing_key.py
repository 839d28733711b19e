"""python manage.py create_signing_key [--dir DIR] [--activate] — a new Ed25519 province key.

Writes ``<timestamp>-<kid>.key`` (PKCS#8 PEM, mode 0600) and ``.pub`` into RESULT_SIGNING_KEYS_DIR.
The newest key file signs unless RESULT_SIGNING_ACTIVE_KID pins another; older keys keep verifying
what they signed (rotation). To retire a key, keep only its ``.pub``.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

from django.core.management.base import BaseCommand, CommandParser

from licences import conf
from licences.keys import reset_keyring, write_key_file


class Command(BaseCommand):
    help = "Create a new Ed25519 signing key for result QR payloads and ledger roots."

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("--dir", default=None, help="key directory (default RESULT_SIGNING_KEYS_DIR)")

    def handle(self, *args: Any, **options: Any) -> None:
        directory = Path(options["dir"]) if options["dir"] else conf.signing_keys_dir()
        info = write_key_file(directory)
        reset_keyring()
        self.stdout.write(self.style.SUCCESS(f"created signing key {info.kid}: {info.source} (mode 0600)"))
        self.stdout.write(f"public key:\n{info.public_pem}")

"""Ledger settings (declared with their defaults in config/settings/base.py; LEDGER_KEYRING is not a tunable)."""

from __future__ import annotations

from django.conf import settings


def batch_size() -> int:
    """Most entries one signed Merkle batch covers (the batcher seals several when more wait)."""
    return int(settings.LEDGER_BATCH_SIZE)


def keyring_path() -> str:
    """Dotted path of a zero-argument callable returning the signing keyring (see licences.keys).

    A setting rather than an import: the ledger sits below the apps that own the province's keys.
    """
    return str(getattr(settings, "LEDGER_KEYRING", "licences.keys.get_keyring"))


def verify_chunk_rows() -> int:
    """Rows fetched per round trip when verify_ledger streams the log (server-side cursor)."""
    return int(settings.LEDGER_VERIFY_CHUNK)

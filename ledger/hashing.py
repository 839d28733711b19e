"""Canonical encodings and the hashes that chain the ledger. Pure functions, no database.

Everything an auditor needs to recompute an entry is here: the canonical JSON of a payload, its
digest, and the entry hash over (subject, seq, kind, payload digest, previous hash, time).
"""

from __future__ import annotations

import datetime as dt
import hashlib
import json
import uuid
from decimal import Decimal
from typing import Any

GENESIS = "0" * 64
ENTRY_DOMAIN = b"tongban-ledger-entry-v1"
ROOT_DOMAIN = b"tongban-ledger-root-v1\x00"
_EPOCH = dt.datetime(1970, 1, 1, tzinfo=dt.UTC)
_US = dt.timedelta(microseconds=1)


def _default(value: Any) -> Any:
    if isinstance(value, dt.datetime):
        if value.tzinfo is None:
            raise ValueError("naive datetime in a ledger payload")
        return value.astimezone(dt.UTC).isoformat()
    if isinstance(value, dt.date):
        return value.isoformat()
    if isinstance(value, (uuid.UUID, Decimal)):
        return str(value)
    if isinstance(value, (set, frozenset)):
        return sorted(value)
    raise TypeError(f"{type(value).__name__} is not allowed in a ledger payload")


def canonical_json(payload: Any) -> str:
    """Sorted keys, no whitespace, UTF-8 text kept as is: one byte string per logical payload."""
    return json.dumps(
        payload, sort_keys=True, separators=(",", ":"), ensure_ascii=False, allow_nan=False, default=_default
    )


def sha256_hex(data: bytes) -> str:
    return hashlib.sha256(data).hexdigest()


def timestamp_us(when: dt.datetime) -> int:
    """Microseconds since the epoch: identical whatever the database returns (SQLite or PostgreSQL)."""
    return (when - _EPOCH) // _US


def entry_preimage(subject: str, seq: int, kind: str, payload_digest: str, prev_hash: str, ts_us: int) -> bytes:
    # "|" never occurs in subjects or kinds (validated on append), so the fields cannot be shifted.
    return b"|".join(
        (
            ENTRY_DOMAIN,
            subject.encode(),
            str(seq).encode(),
            kind.encode(),
            payload_digest.encode(),
            prev_hash.encode(),
            str(ts_us).encode(),
        )
    )


def entry_hash(subject: str, seq: int, kind: str, payload_digest: str, prev_hash: str, ts_us: int) -> str:
    return hashlib.sha256(entry_preimage(subject, seq, kind, payload_digest, prev_hash, ts_us)).hexdigest()


def root_message(statement: str) -> bytes:
    """What the province key signs for a batch: a domain tag, then the statement's bytes."""
    return ROOT_DOMAIN + statement.encode()

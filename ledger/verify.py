"""Recompute the whole ledger: every payload digest, every chain link, every Merkle root, every
signature, the batches' own chain and the subject heads.

One pass over the entries in id order through a server-side cursor (PostgreSQL) or chunked reads:
memory holds one (seq, hash) per subject and the leaves of the batches still being collected.
Within a subject, id order equals seq order (the head lock is held while the id is drawn), and
within a batch, id order equals leaf order (the batcher assigns leaves in id order) — so both
checks are streaming comparisons.
"""

from __future__ import annotations

import datetime as dt
import hashlib
import json
import time
from collections.abc import Iterator
from dataclasses import asdict, dataclass, field
from typing import Any

from django.db import connection, transaction
from django.utils.dateparse import parse_datetime

from ledger import conf, extensions, merkle
from ledger.hashing import ENTRY_DOMAIN, GENESIS, canonical_json, timestamp_us
from ledger.models import Batch, Entry, SubjectHead
from ledger.signing import KeyringLike, keyring, statement_signature_ok

MAX_PROBLEMS = 1000


@dataclass
class Problem:
    what: str
    entry_id: int | None = None
    subject: str = ""
    seq: int | None = None
    batch: int | None = None

    def describe(self) -> str:
        where = []
        if self.entry_id is not None:
            where.append(f"entry id={self.entry_id}")
        if self.subject:
            where.append(f"subject={self.subject}")
        if self.seq is not None:
            where.append(f"seq={self.seq}")
        if self.batch is not None:
            where.append(f"batch={self.batch}")
        return f"{', '.join(where)}: {self.what}"


@dataclass
class Report:
    ok: bool = True
    entries: int = 0
    batches: int = 0
    unsealed: int = 0
    subjects: int = 0
    root: str | None = None
    head: str | None = None
    seconds: float = 0.0
    problems: list[Problem] = field(default_factory=list)
    truncated: bool = False

    @property
    def first(self) -> Problem | None:
        if not self.problems:
            return None
        return min(self.problems, key=lambda p: (p.entry_id is None, p.entry_id or 0, p.batch or 0))

    def as_dict(self) -> dict[str, Any]:
        data = asdict(self)
        data["first_problem"] = self.first.describe() if self.first else None
        data["problems"] = [p.describe() for p in self.problems[:50]]
        return data


class _Collector:
    def __init__(self, report: Report) -> None:
        self.report = report

    def add(self, problem: Problem) -> None:
        self.report.ok = False
        if len(self.report.problems) < MAX_PROBLEMS:
            self.report.problems.append(problem)
        else:
            self.report.truncated = True


_COLUMNS = (
    "id, subject, seq, kind, ref, payload, payload_digest, prev_hash, entry_hash, created_at, batch_id, leaf_index"
)


def _rows(chunk: int) -> Iterator[tuple[Any, ...]]:
    """Stream every entry in id order. PostgreSQL: a server-side cursor (Django's chunked cursor,
    inside a transaction so it is not WITH HOLD); other databases: keyset pages by id."""
    table = Entry._meta.db_table
    sql = f"SELECT {_COLUMNS} FROM {table}"  # noqa: S608 - constant identifiers only
    if connection.vendor == "postgresql":
        with transaction.atomic(), connection.chunked_cursor() as cur:
            cur.execute(sql + " ORDER BY id")
            while rows := cur.fetchmany(chunk):
                yield from rows
        return
    last = 0
    while True:
        with connection.cursor() as cur:
            cur.execute(sql + " WHERE id > %s ORDER BY id LIMIT %s", [last, chunk])
            page = cur.fetchall()
        if not page:
            return
        yield from page
        last = page[-1][0]


def _to_datetime(value: Any) -> dt.datetime:
    # Raw cursors: PostgreSQL gives aware datetimes; SQLite gives the UTC text Django stored.
    if isinstance(value, str):
        parsed = parse_datetime(value)
        if parsed is None:
            raise ValueError(f"unreadable timestamp {value!r}")
        value = parsed
    if value.tzinfo is None:
        value = value.replace(tzinfo=dt.UTC)
    return value


def verify_ledger(*, check_sources: bool = False, ring: KeyringLike | None = None) -> Report:
    """Recompute everything; ``check_sources`` also compares entries with their source rows
    (case events, materials, results) through the resolvers registered in ``ledger.extensions.sources``."""
    started = time.perf_counter()
    report = Report()
    out = _Collector(report)
    ring = ring or keyring()
    batches = {b.pk: b for b in Batch.objects.all()}
    collecting: dict[int, list[bytes]] = {}
    first_entry: dict[int, tuple[int, str, int]] = {}
    chains: dict[str, tuple[int, str]] = {}
    recomputed_roots: dict[int, str] = {}
    pending_sources: list[tuple[int, str, int, str, str]] = []
    sha = hashlib.sha256
    leaf_prefix = merkle.LEAF_PREFIX
    domain = ENTRY_DOMAIN + b"|"

    def flush_sources() -> None:
        by_prefix: dict[str, list[tuple[int, str, int, str, str]]] = {}
        for item in pending_sources:
            by_prefix.setdefault(item[3].split(":", 1)[0], []).append(item)
        for items in by_prefix.values():
            resolver = extensions.resolver_for(items[0][3])
            if resolver is None:
                continue
            found = resolver([i[3] for i in items])
            for entry_id, subject, seq, ref, payload in items:
                expected = found.get(ref)
                if expected is None:
                    out.add(Problem(f"source row {ref} is missing", entry_id, subject, seq))
                elif canonical_json(expected) != payload:
                    out.add(Problem(f"source row {ref} no longer matches the ledger", entry_id, subject, seq))
        pending_sources.clear()

    for row in _rows(conf.verify_chunk_rows()):
        entry_id, subject, seq, kind, ref, payload, payload_digest, prev_hash, stored_hash, created, batch_id, leaf = (
            row
        )
        report.entries += 1
        what: list[str] = []
        if sha(payload.encode()).hexdigest() != payload_digest:
            what.append("payload does not match its digest (content changed)")
        last = chains.get(subject)
        expected_seq = last[0] + 1 if last else 1
        if seq != expected_seq:
            what.append(f"sequence {seq} where {expected_seq} was expected (entry deleted or reordered)")
        if prev_hash != (last[1] if last else GENESIS):
            what.append("prev_hash does not match the previous entry of the chain")
        try:
            ts = timestamp_us(_to_datetime(created))
        except (ValueError, TypeError, AttributeError):
            ts = -1
            what.append("unreadable timestamp")
        preimage = domain + f"{subject}|{seq}|{kind}|{payload_digest}|{prev_hash}|{ts}".encode()
        if sha(preimage).hexdigest() != stored_hash:
            what.append("entry hash does not match its fields (entry changed)")
        chains[subject] = (seq, stored_hash)
        if batch_id is not None:
            leaves = collecting.get(batch_id)
            if leaves is None:
                if batch_id not in batches:
                    what.append(f"sealed into batch id {batch_id}, which does not exist")
                leaves = collecting[batch_id] = []
                first_entry[batch_id] = (entry_id, subject, seq)
            if leaf != len(leaves):
                what.append(f"leaf index {leaf} where {len(leaves)} was expected (entries reordered or removed)")
            leaves.append(sha(leaf_prefix + bytes.fromhex(stored_hash)).digest())
            b = batches.get(batch_id)
            if b is not None and len(leaves) == b.size:
                recomputed_roots[batch_id] = merkle.root_from_leaf_hashes(leaves).hex()
                del collecting[batch_id]
        else:
            report.unsealed += 1
        if what:
            out.add(Problem("; ".join(what), entry_id, subject, seq))
        if check_sources and ref and extensions.resolver_for(ref) is not None:
            pending_sources.append((entry_id, subject, seq, ref, payload))
            if len(pending_sources) >= 2000:
                flush_sources()
    if pending_sources:
        flush_sources()

    _check_batches(batches, collecting, first_entry, recomputed_roots, ring, out, report)
    _check_heads(chains, out)
    report.subjects = len(chains)
    report.seconds = round(time.perf_counter() - started, 3)
    return report


def _check_batches(
    batches: dict[int, Batch],
    collecting: dict[int, list[bytes]],
    first_entry: dict[int, tuple[int, str, int]],
    recomputed: dict[int, str],
    ring: KeyringLike,
    out: _Collector,
    report: Report,
) -> None:
    prev_hash = GENESIS
    expected_seq = 1
    for b in sorted(batches.values(), key=lambda b: b.seq):
        report.batches += 1
        entry_id, subject, seq = first_entry.get(b.pk, (None, "", None))
        # Batch-level findings come after any finding on a specific entry: when an entry was
        # deleted or edited, the entry (or its successor) is the first bad entry, the root second.
        at = {"subject": subject, "seq": seq, "batch": b.seq}
        first_id = b.first_entry_id if entry_id is None else entry_id
        what: list[str] = []
        if b.seq != expected_seq:
            what.append(f"batch sequence {b.seq} where {expected_seq} was expected (batch deleted)")
        if b.prev_hash != prev_hash:
            what.append("prev does not match the previous batch's statement")
        if hashlib.sha256(b.statement.encode()).hexdigest() != b.statement_hash:
            what.append("statement hash does not match the statement")
        try:
            signed = json.loads(b.statement)
        except ValueError:
            signed = {}
        for key, value in (("root", b.root), ("size", b.size), ("prev", b.prev_hash), ("batch", b.seq)):
            if signed.get(key) != value:
                what.append(f"stored {key} differs from the signed statement")
        if not statement_signature_ok(b.statement, b.kid, b.signature, ring):
            what.append(f"signature does not verify with key {b.kid}")
        if b.pk in collecting:
            what.append(f"{len(collecting[b.pk])} of {b.size} sealed entries present (entries deleted or moved)")
        elif b.pk not in recomputed:
            what.append(f"none of its {b.size} sealed entries present")
        elif recomputed[b.pk] != b.root or recomputed[b.pk] != signed.get("root"):
            what.append("Merkle root recomputed from the entries differs from the signed root")
        if what:
            out.add(Problem(f"signed batch (first entry id={first_id}): " + "; ".join(what), **at))  # type: ignore[arg-type]
        prev_hash = b.statement_hash
        expected_seq = b.seq + 1
        report.root = b.root
        report.head = b.statement_hash


def _check_heads(chains: dict[str, tuple[int, str]], out: _Collector) -> None:
    seen: set[str] = set()
    for head in SubjectHead.objects.all().iterator(chunk_size=5000):
        seen.add(head.subject)
        tip = chains.get(head.subject)
        if tip is None:
            if head.seq:
                what = f"chain head records seq {head.seq} but no entry is present (entries deleted)"
                out.add(Problem(what, subject=head.subject, seq=head.seq))
        elif tip[0] != head.seq or tip[1] != head.head_hash:
            out.add(
                Problem(
                    f"chain ends at seq {tip[0]} but its head records seq {head.seq} (last entries deleted or changed)",
                    subject=head.subject,
                    seq=head.seq,
                )
            )
    for subject in chains.keys() - seen:
        out.add(Problem("chain has no head record", subject=subject))

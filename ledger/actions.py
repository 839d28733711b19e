"""Writes to the ledger: append one entry (inside the caller's transaction), seal pending entries.

``append`` is called once per recorded fact — per CaseEvent, per Material, per Result document —
in the SAME transaction that writes the fact, so the ledger and the data commit or roll back
together (no signal receiver, no second transaction, nothing to reconcile after a crash).
"""

from __future__ import annotations

import logging
import re
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

from django.db import IntegrityError, connection, transaction
from django.utils import timezone

from ledger import conf, merkle
from ledger.hashing import GENESIS, canonical_json, entry_hash, sha256_hex, timestamp_us
from ledger.models import Batch, Entry, Kind, SubjectHead
from ledger.signing import sign_statement

logger = logging.getLogger(__name__)

_NAME = re.compile(r"^[A-Za-z0-9_.:\-]{1,96}$")
# pg_advisory_xact_lock key of the batcher ("TBLEDGER" in ASCII): batchers never run two at a time;
# appenders never take it.
_SEAL_LOCK = 0x54424C4544474552


class LedgerError(ValueError):
    """Bad input to the ledger (a programming error in the caller, never user input)."""


def _head_for_update(subject: str) -> SubjectHead:
    head = SubjectHead.objects.select_for_update().filter(subject=subject).first()
    if head is not None:
        return head
    try:
        # The savepoint keeps a lost creation race from aborting the caller's transaction (PostgreSQL).
        with transaction.atomic():
            return SubjectHead.objects.create(subject=subject, seq=0, head_hash=GENESIS)
    except IntegrityError:
        return SubjectHead.objects.select_for_update().get(subject=subject)


def _checked(subject: str, kind: str, ref: str | None, payload: dict[str, Any]) -> None:
    if not _NAME.match(subject or ""):
        raise LedgerError(f"invalid ledger subject {subject!r}")
    if kind not in Kind.values:
        raise LedgerError(f"unknown ledger kind {kind!r}")
    if ref is not None and not _NAME.match(ref):
        raise LedgerError(f"invalid ledger ref {ref!r}")
    if not isinstance(payload, dict):
        raise LedgerError("ledger payload must be a JSON object")


def _entry_text(subject: str, kind: str, ref: str | None, payload: dict[str, Any]) -> tuple[str, str]:
    """The checked payload's canonical text and its digest, as every entry stores them."""
    _checked(subject, kind, ref, payload)
    text = canonical_json(payload)
    return text, sha256_hex(text.encode())


def _cte_head(
    guard: tuple[str, Sequence[Any]] | None, also: Sequence[tuple[str, Sequence[Any]]]
) -> tuple[str, list[Any]]:
    """The leading CTEs of a fused insert, ``guard AS (...), also0 AS (...), ...`` (each followed by
    ", "), and their parameters: the guard runs first; the ``also`` writes select from it."""
    head, params = (f"guard AS ({guard[0]}), ", list(guard[1])) if guard is not None else ("", [])
    for index, (also_sql, also_params) in enumerate(also):
        head += f"also{index} AS ({also_sql}), "
        params.extend(also_params)
    return head, params


def append(*, subject: str, kind: str, payload: dict[str, Any], ref: str | None = None) -> Entry:
    """Append one fact to ``subject``'s hash chain.

    ``subject`` is the chain key (``case:<number>`` for everything about a case); ``kind`` one of
    ``ledger.models.Kind``; ``payload`` JSON-able (datetimes with a time zone, UUIDs, dates are
    encoded canonically); ``ref`` an optional unique source reference (``case_event:<pk>``) that
    makes re-recording the same fact an error instead of a duplicate.

    Call it inside the transaction that writes the fact. Locks only this subject's head row until
    that transaction ends. Side effects: one Entry row, the subject's head moves; the entry is
    sealed into a signed batch later by ``seal_pending`` (Celery beat).
    """
    text, digest = _entry_text(subject, kind, ref, payload)
    now = timezone.now()
    if connection.vendor == "postgresql":
        return _append_postgresql(subject, kind, ref, text, digest, now)
    if connection.vendor == "sqlite":
        return _append_sqlite(subject, kind, ref, text, digest, now)
    return _append_python(subject, kind, ref, text, digest, now)


def _append_postgresql(subject: str, kind: str, ref: str | None, text: str, digest: str, now: datetime) -> Entry:
    # One round trip: the ledger_append() function (migration 0005) locks and moves the head while
    # hashing the entry in one upsert, then inserts the entry.
    # Without a surrounding transaction it still runs atomically (one statement).
    with connection.cursor() as cur:
        cur.execute(
            "SELECT * FROM ledger_append(%s, %s, %s, %s, %s, %s, %s)",
            [subject, kind, ref, text, digest, timestamp_us(now), now],
        )
        entry_id, seq, prev, digest_entry = cur.fetchone()
    return _built(entry_id, subject, seq, kind, ref, text, digest, prev, digest_entry, now)


def insert_and_append(
    *,
    insert_sql: str,
    params: Sequence[Any],
    subject: str,
    kind: str,
    payload: dict[str, Any],
    ref_prefix: str,
    guard: tuple[str, Sequence[Any]] | None = None,
    also: Sequence[tuple[str, Sequence[Any]]] = (),
) -> tuple[int, Entry] | None:
    """Insert a fact row and append its ledger entry (ref ``<ref_prefix><new id>``) together.

    ``insert_sql`` is one ``INSERT ... RETURNING id`` of exactly one row (placeholders ``%s``,
    values in ``params``); the entry is what ``append`` would write for it. Returns the new id
    and the entry. PostgreSQL: ONE statement (the INSERT in a CTE feeding ``ledger_append()``),
    so a transition pays one round trip for its event and ledger entry; elsewhere the INSERT,
    then ``append``. Call it inside the transaction that writes the fact, as ``append``; if either
    write fails, neither happens.

    ``guard`` (PostgreSQL only): ``(sql, params)`` of a data-modifying statement with RETURNING,
    run first in the same statement as a CTE named ``guard``; ``insert_sql`` then selects
    ``FROM guard`` (``INSERT ... SELECT ... FROM guard RETURNING id``). When the guard returns no
    row, nothing is inserted or appended and None is returned (e.g. a conditional UPDATE that
    lost a race: the caller raises).

    ``also`` (PostgreSQL only): more data-modifying statements ``(sql, params)`` of the caller's
    transaction, each run as a CTE after the guard (selecting ``FROM guard``, they are written
    only when it returns a row): e.g. the SMS a transition sends. PostgreSQL runs every
    data-modifying CTE exactly once, whether or not the query reads it.
    """
    if (guard is not None or also) and connection.vendor != "postgresql":
        raise LedgerError("a guarded insert needs PostgreSQL")
    if connection.vendor != "postgresql":
        _checked(subject, kind, f"{ref_prefix}1", payload)  # before the fact is written
        with connection.cursor() as cur:
            cur.execute(insert_sql, list(params))
            fact_id = cur.fetchone()[0]
        return fact_id, append(subject=subject, kind=kind, payload=payload, ref=f"{ref_prefix}{fact_id}")
    text, digest = _entry_text(subject, kind, f"{ref_prefix}1", payload)
    now = timezone.now()
    # The data-modifying CTE runs once; LATERAL makes ledger_append() wait for the new id.
    head, head_params = _cte_head(guard, also)
    sql = (
        f"WITH {head}fact AS ({insert_sql}) SELECT fact.id, l.* FROM fact CROSS JOIN LATERAL "  # noqa: S608
        "ledger_append(%s, %s, %s || fact.id::text, %s, %s, %s, %s) AS l"
    )
    with connection.cursor() as cur:
        cur.execute(sql, [*head_params, *params, subject, kind, ref_prefix, text, digest, timestamp_us(now), now])
        row = cur.fetchone()
    if row is None:
        return None
    fact_id, entry_id, seq, prev, digest_entry = row
    entry = _built(entry_id, subject, seq, kind, f"{ref_prefix}{fact_id}", text, digest, prev, digest_entry, now)
    return fact_id, entry


@dataclass(frozen=True)
class Fact:
    """One fact row of ``insert_all_and_append``: ``(sql, params)`` of an ``INSERT ... SELECT ...
    FROM __prev__ RETURNING id`` of one row, and the entry ``append`` would write for it (ref
    ``<ref_prefix><new id>``). ``__prev__`` is replaced by the guard for the first fact and by the
    fact before it for the others: each row is inserted after the one before it (PostgreSQL runs
    the data-modifying CTEs of a statement in no set order), so their ids follow the order given."""

    insert_sql: str
    params: Sequence[Any]
    kind: str
    payload: dict[str, Any]
    ref_prefix: str
    at: datetime


def insert_all_and_append(
    *,
    subject: str,
    facts: Sequence[Fact],
    guard: tuple[str, Sequence[Any]],
    also: Sequence[tuple[str, Sequence[Any]]] = (),
) -> list[tuple[int, Entry]] | None:
    """PostgreSQL: ``insert_and_append`` for several fact rows of ONE subject in one statement; their
    entries are appended in the order given (``ledger_append_many()``, migration 0007, calls
    ``ledger_append()`` for each in turn), each stamped with its fact's ``at``. ``guard`` and
    ``also`` as for ``insert_and_append``; here the guard is required (the first fact selects from
    it): when it returns no row nothing is written and None is returned. Returns ``(fact id,
    entry)`` per fact, in order."""
    if connection.vendor != "postgresql":
        raise LedgerError("inserting several facts in one statement needs PostgreSQL")
    if not facts:
        raise LedgerError("no facts")
    head, head_params = _cte_head(guard, also)
    texts: list[tuple[str, str]] = []
    for i, fact in enumerate(facts):
        texts.append(_entry_text(subject, fact.kind, f"{fact.ref_prefix}1", fact.payload))
        head += f"f{i} AS ({fact.insert_sql.replace('__prev__', f'f{i - 1}' if i else 'guard')}), "
        head_params.extend(fact.params)
    n = range(len(facts))
    ids = ", ".join(f"f{i}.id" for i in n)
    refs = ", ".join(f"%s || f{i}.id::text" for i in n)
    many = ", ".join(["%s"] * len(facts))
    sql = (
        f"WITH {head.rstrip(', ')} SELECT {ids}, l.* FROM {' CROSS JOIN '.join(f'f{i}' for i in n)} "  # noqa: S608
        f"CROSS JOIN LATERAL ledger_append_many(%s, ARRAY[{many}]::text[], ARRAY[{refs}]::text[], "
        f"ARRAY[{many}]::text[], ARRAY[{many}]::text[], ARRAY[{many}]::bigint[], ARRAY[{many}]::timestamptz[]) AS l"
    )
    call_params: list[Any] = [subject, *(f.kind for f in facts), *(f.ref_prefix for f in facts)]
    call_params += [t for t, _d in texts] + [d for _t, d in texts]
    call_params += [timestamp_us(f.at) for f in facts] + [f.at for f in facts]
    with connection.cursor() as cur:
        cur.execute(sql, [*head_params, *call_params])
        rows = cur.fetchall()
    if not rows:
        return None
    fact_ids = rows[0][: len(facts)]
    by_index = {r[len(facts)]: r[len(facts) + 1 :] for r in rows}
    written: list[tuple[int, Entry]] = []
    for i, fact in enumerate(facts):
        entry_id, seq, prev, digest_entry = by_index[i + 1]
        text, digest = texts[i]
        ref = f"{fact.ref_prefix}{fact_ids[i]}"
        entry = _built(entry_id, subject, seq, fact.kind, ref, text, digest, prev, digest_entry, fact.at)
        written.append((fact_ids[i], entry))
    return written


@dataclass(frozen=True)
class NewSubjectFact:
    """The first fact of a new row, for ``insert_new_and_append``: ``row`` is ``(sql, params)`` of
    an ``INSERT ... RETURNING id`` (the row, e.g. a new case), ``fact`` of an ``INSERT ... SELECT
    ... FROM g<i> RETURNING id`` (its fact, e.g. the case's create event, reading the new row's id
    from the CTE ``g<i>``, ``i`` its index in the list); the entry is what ``append`` would write
    for the fact (ref ``<ref_prefix><fact id>``)."""

    row: tuple[str, Sequence[Any]]
    fact: tuple[str, Sequence[Any]]
    subject: str
    kind: str
    payload: dict[str, Any]
    ref_prefix: str


def insert_new_and_append(facts: Sequence[NewSubjectFact]) -> list[tuple[int, int, Entry]]:
    """PostgreSQL: write several new rows, each with its first fact and that fact's ledger entry,
    in ONE statement (a joint case's sub-cases with their create events: one round trip instead of
    two per sub-case). Returns ``(row id, fact id, entry)`` per fact, in order. Each INSERT
    writes one row; if any wrote none, LedgerError (the caller's transaction must roll back).
    Call it inside the transaction that writes the rows, as ``append``."""
    if connection.vendor != "postgresql":
        raise LedgerError("inserting several facts in one statement needs PostgreSQL")
    now = timezone.now()
    ctes: list[str] = []
    joins: list[str] = []
    cte_params: list[Any] = []
    call_params: list[Any] = []
    texts: list[tuple[str, str]] = []
    for i, fact in enumerate(facts):
        text, digest = _entry_text(fact.subject, fact.kind, f"{fact.ref_prefix}1", fact.payload)
        texts.append((text, digest))
        ctes.append(f"g{i} AS ({fact.row[0]}), f{i} AS ({fact.fact[0]})")
        cte_params.extend([*fact.row[1], *fact.fact[1]])
        joins.append(
            f"g{i} CROSS JOIN f{i} CROSS JOIN LATERAL "
            f"ledger_append(%s, %s, %s || f{i}.id::text, %s, %s, %s, %s) AS l{i}"
        )
        call_params.extend([fact.subject, fact.kind, fact.ref_prefix, text, digest, timestamp_us(now), now])
    columns = ", ".join(f"g{i}.id, f{i}.id, l{i}.*" for i in range(len(facts)))
    sql = f"WITH {', '.join(ctes)} SELECT {columns} FROM {' CROSS JOIN '.join(joins)}"  # noqa: S608
    with connection.cursor() as cur:
        cur.execute(sql, [*cte_params, *call_params])
        row = cur.fetchone()
    if row is None:
        raise LedgerError("a new row's INSERT wrote nothing")
    written: list[tuple[int, int, Entry]] = []
    for i, fact in enumerate(facts):
        row_id, fact_id, entry_id, seq, prev, digest_entry = row[6 * i : 6 * i + 6]
        text, digest = texts[i]
        ref = f"{fact.ref_prefix}{fact_id}"
        entry = _built(entry_id, fact.subject, seq, fact.kind, ref, text, digest, prev, digest_entry, now)
        written.append((row_id, fact_id, entry))
    return written


def _built(
    entry_id: int,
    subject: str,
    seq: int,
    kind: str,
    ref: str | None,
    text: str,
    digest: str,
    prev: str,
    digest_entry: str,
    now: datetime,
) -> Entry:
    entry = Entry(
        id=entry_id,
        subject=subject,
        seq=seq,
        kind=kind,
        ref=ref,
        payload=text,
        payload_digest=digest,
        prev_hash=prev,
        entry_hash=digest_entry,
        created_at=now,
    )
    entry._state.adding = False
    entry._state.db = "default"
    return entry


def _append_sqlite(subject: str, kind: str, ref: str | None, text: str, digest: str, now: datetime) -> Entry:
    # The embedded default: SQLite runs one writer at a time (IMMEDIATE transactions), so the upsert
    # that bumps the head and returns the previous hash needs no row lock; plain SQL keeps the
    # per-transition cost to three short statements.
    head_table, entry_table = SubjectHead._meta.db_table, Entry._meta.db_table
    stamp = now.astimezone(UTC).replace(tzinfo=None).isoformat(sep=" ")
    with transaction.atomic(savepoint=False), connection.cursor() as cur:
        cur.execute(
            f"INSERT INTO {head_table} (subject, seq, prev_hash, head_hash, updated_at) VALUES (%s, 1, %s, %s, %s) "  # noqa: S608
            "ON CONFLICT (subject) DO UPDATE SET seq = seq + 1, prev_hash = head_hash, "
            "updated_at = excluded.updated_at RETURNING seq, head_hash",
            [subject, GENESIS, GENESIS, stamp],
        )
        seq, prev = cur.fetchone()
        digest_entry = entry_hash(subject, seq, kind, digest, prev, timestamp_us(now))
        cur.execute(
            f"INSERT INTO {entry_table} (subject, seq, kind, ref, payload, payload_digest, prev_hash, entry_hash, "  # noqa: S608
            "created_at) VALUES (%s, %s, %s, %s, %s, %s, %s, %s, %s)",
            [subject, seq, kind, ref, text, digest, prev, digest_entry, stamp],
        )
        entry_id = cur.lastrowid
        cur.execute(f"UPDATE {head_table} SET head_hash = %s WHERE subject = %s", [digest_entry, subject])  # noqa: S608
    return _built(entry_id, subject, seq, kind, ref, text, digest, prev, digest_entry, now)


def _append_python(subject: str, kind: str, ref: str | None, text: str, digest: str, now: datetime) -> Entry:
    with transaction.atomic(savepoint=False):
        head = _head_for_update(subject)
        seq = head.seq + 1
        digest_entry = entry_hash(subject, seq, kind, digest, head.head_hash, timestamp_us(now))
        entry = Entry.objects.create(
            subject=subject,
            seq=seq,
            kind=kind,
            ref=ref,
            payload=text,
            payload_digest=digest,
            prev_hash=head.head_hash,
            entry_hash=digest_entry,
            created_at=now,
        )
        SubjectHead.objects.filter(subject=subject).update(
            seq=seq, prev_hash=head.head_hash, head_hash=digest_entry, updated_at=now
        )
    return entry


def _lock_batchers() -> None:
    if connection.vendor == "postgresql":
        with connection.cursor() as cur:
            cur.execute("SELECT pg_advisory_xact_lock(%s)", [_SEAL_LOCK])
    # SQLite: the project opens IMMEDIATE transactions, which already serialise writers.


def statement_for(*, seq: int, size: int, root: str, prev: str, first: int, last: int, at: str) -> str:
    return canonical_json(
        {
            "log": "tongban-ledger",
            "v": 1,
            "batch": seq,
            "size": size,
            "root": root,
            "prev": prev,
            "first": first,
            "last": last,
            "at": at,
        }
    )


def seal_batch(*, limit: int | None = None) -> Batch | None:
    """Seal up to ``limit`` pending entries (oldest id first) into one signed Merkle batch.

    Entries that committed late (a lower id than entries already sealed) simply land in the next
    batch: membership is recorded per entry, never inferred from id ranges.
    Side effects: one Batch row; ``batch``/``leaf_index`` set on its entries. Returns None when
    nothing is pending.
    """
    limit = limit or conf.batch_size()
    with transaction.atomic():
        _lock_batchers()
        rows = list(Entry.objects.filter(batch__isnull=True).order_by("id").values_list("id", "entry_hash")[:limit])
        if not rows:
            return None
        leaves = [merkle.leaf_hash(bytes.fromhex(h)) for _id, h in rows]
        root = merkle.root_from_leaf_hashes(leaves).hex()
        prev = Batch.objects.order_by("-seq").first()
        seq = prev.seq + 1 if prev else 1
        prev_hash = prev.statement_hash if prev else GENESIS
        now = timezone.now()
        statement = statement_for(
            seq=seq, size=len(rows), root=root, prev=prev_hash, first=rows[0][0], last=rows[-1][0], at=now.isoformat()
        )
        kid, signature = sign_statement(statement)
        batch = Batch.objects.create(
            seq=seq,
            size=len(rows),
            first_entry_id=rows[0][0],
            last_entry_id=rows[-1][0],
            root=root,
            prev_hash=prev_hash,
            statement=statement,
            statement_hash=sha256_hex(statement.encode()),
            kid=kid,
            signature=signature,
            created_at=now,
        )
        _assign(batch, [entry_id for entry_id, _h in rows])
    logger.info("ledger: sealed batch %s with %s entries, root %s", batch.seq, batch.size, batch.root)
    return batch


def _assign(batch: Batch, ids: list[int]) -> None:
    if connection.vendor == "postgresql":
        # One statement for the whole batch: unnest the ids with their ordinal (= leaf index).
        with connection.cursor() as cur:
            cur.execute(
                f"UPDATE {Entry._meta.db_table} AS e SET batch_id = %s, leaf_index = v.ord - 1 "  # noqa: S608
                "FROM unnest(%s::bigint[]) WITH ORDINALITY AS v(id, ord) WHERE e.id = v.id",
                [batch.pk, ids],
            )
        return
    objs = [Entry(id=entry_id, batch_id=batch.pk, leaf_index=index) for index, entry_id in enumerate(ids)]
    Entry.objects.bulk_update(objs, ["batch", "leaf_index"], batch_size=500)


def seal_pending(*, limit: int | None = None, max_batches: int = 1000) -> list[Batch]:
    """Seal everything pending, one batch of at most ``limit`` entries at a time."""
    sealed: list[Batch] = []
    for _i in range(max_batches):
        batch = seal_batch(limit=limit)
        if batch is None:
            break
        sealed.append(batch)
    return sealed

"""Reconciling the database with the demo hall plan: multi-row inserts and bulk updates per batch."""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from enum import Enum
from typing import Any

from django.db import connection, models, transaction

from demo.hall_specs import BATCH_SIZE, HALL_FIELDS, KIND_FIELDS, HallSpec
from halls.models import Hall, Window

# --------------------------------------------------------------------------------------------
# Reconciling the database with the plan
# --------------------------------------------------------------------------------------------


def _counter() -> dict[str, int]:
    return {"created": 0, "updated": 0, "unchanged": 0}


@dataclass
class _Existing:
    """What the database holds before the run, read once with three plain queries.

    Reading everything up front (tens of thousands of small tuples) is far cheaper than asking
    per batch with long ``IN (...)`` lists, and it makes an idempotent re-run almost read-only.
    """

    halls: dict[str, tuple[Any, ...]]  # code -> (id, *HALL_FIELDS)
    windows: dict[tuple[int, str], tuple[Any, ...]]  # (hall_id, number) -> (id, *KIND_FIELDS)
    links: dict[int, dict[int, int]]  # window_id -> {item_id: through row id}

    @classmethod
    def read(cls) -> _Existing:
        halls = {row[0]: row[1:] for row in Hall.objects.values_list("code", "id", *HALL_FIELDS).iterator(2000)}
        windows = {
            (row[1], row[2]): (row[0], *row[3:])
            for row in Window.objects.values_list("id", "hall_id", "number", *KIND_FIELDS).iterator(2000)
        }
        links: dict[int, dict[int, int]] = {}
        for pk, window_id, item_id in Window.items.through.objects.values_list("id", "window_id", "item_id").iterator(
            5000
        ):
            links.setdefault(window_id, {})[item_id] = pk
        return cls(halls, windows, links)


def reconcile(specs: list[HallSpec]) -> dict[str, Any]:
    halls, windows = _counter(), _counter()
    links = {"added": 0, "removed": 0, "total": 0}
    existing = _Existing.read()
    for start in range(0, len(specs), BATCH_SIZE):
        with transaction.atomic():
            _reconcile_batch(specs[start : start + BATCH_SIZE], existing, halls, windows, links)
    return {"halls": halls, "windows": windows, "window_items": links}


def _chunks(values: list[Any], n: int = 900) -> Iterable[list[Any]]:
    # Keep every IN (...) below SQLite's bound-parameter limit, whatever it was compiled with.
    for i in range(0, len(values), n):
        yield values[i : i + n]


def _max_id(model: type[models.Model]) -> int:
    return int(model._default_manager.aggregate(m=models.Max("id"))["m"] or 0)


def _insert(model: type[models.Model], fields: Sequence[str], rows: Sequence[tuple[Any, ...]]) -> None:
    """Plain multi-row INSERTs: no model instances and no per-row value preparation.

    ``bulk_create`` spends most of its time building and preparing 25,000 model instances; the
    values here are already plain str/float/bool/int, valid for SQLite and PostgreSQL alike.
    Rows are chunked so a statement never exceeds SQLite's bound-parameter limit.
    """
    if not rows:
        return
    qn = connection.ops.quote_name
    concrete = {f.name: f for f in model._meta.concrete_fields}
    concrete.update({f.attname: f for f in model._meta.concrete_fields})
    given = [concrete[f] for f in fields]
    # Every other concrete column gets its model default (e.g. is_active=True), as the ORM would:
    # Django sets no database defaults, so a column left out would be NULL.
    names = {f.name for f in given}
    rest = [f for f in model._meta.concrete_fields if f.name not in names and not f.primary_key]
    tail = tuple(f.get_db_prep_save(f.get_default(), connection) for f in rest)
    columns = ", ".join(qn(str(f.column)) for f in (*given, *rest))
    width = len(given) + len(rest)
    one = "(" + ", ".join(["%s"] * width) + ")"
    per_statement = max(1, 900 // width)
    table = qn(model._meta.db_table)
    with connection.cursor() as cursor:
        for i in range(0, len(rows), per_statement):
            chunk = rows[i : i + per_statement]
            sql = f"INSERT INTO {table} ({columns}) VALUES " + ", ".join([one] * len(chunk))  # noqa: S608
            # Choices are str enums: bind their plain value (sqlite3 refuses str subclasses).
            params = [v.value if isinstance(v, Enum) else v for row in chunk for v in (*row, *tail)]
            cursor.execute(sql, params)


def _reconcile_batch(
    specs: list[HallSpec],
    existing: _Existing,
    halls: dict[str, int],
    windows: dict[str, int],
    links: dict[str, int],
) -> None:
    # Halls: insert the new, update the changed (is_active is the operator's and left alone).
    new_halls: list[tuple[Any, ...]] = []
    changed_halls: list[Hall] = []
    ids: dict[str, int] = {}
    for s in specs:
        values = tuple(getattr(s, f) for f in HALL_FIELDS)
        row = existing.halls.get(s.code)
        if row is None:
            new_halls.append((s.code, *values))
            continue
        ids[s.code] = row[0]
        if row[1:] != values:
            changed_halls.append(Hall(id=row[0], code=s.code, **dict(zip(HALL_FIELDS, values, strict=True))))
        else:
            halls["unchanged"] += 1
    if new_halls:
        # Ids of rows inserted now are all above the largest id seen before (autoincrement and
        # sequences only grow), so one range query maps the new codes to ids without an IN list.
        floor = _max_id(Hall)
        _insert(Hall, ("code", *HALL_FIELDS), new_halls)
        wanted_codes = {r[0] for r in new_halls}
        for code, pk in Hall.objects.filter(id__gt=floor).values_list("code", "id"):
            if code in wanted_codes:
                ids[code] = pk
    Hall.objects.bulk_update(changed_halls, list(HALL_FIELDS), batch_size=500)
    halls["created"] += len(new_halls)
    halls["updated"] += len(changed_halls)

    # Windows: insert missing numbers, correct kinds; never delete (posts and tickets point at them).
    new_windows: list[tuple[Any, ...]] = []
    changed_windows: list[Window] = []
    window_ids: dict[tuple[int, str], int] = {}
    for s in specs:
        hid = ids[s.code]
        for ws in s.windows:
            flags = tuple(k in ws.kinds for k in KIND_FIELDS)
            current = existing.windows.get((hid, ws.number))
            if current is None:
                new_windows.append((hid, ws.number, *flags))
                continue
            window_ids[(hid, ws.number)] = current[0]
            if tuple(current[1:]) != flags:
                changed_windows.append(
                    Window(id=current[0], hall_id=hid, number=ws.number, **dict(zip(KIND_FIELDS, flags, strict=True)))
                )
            else:
                windows["unchanged"] += 1
    if new_windows:
        floor = _max_id(Window)
        _insert(Window, ("hall_id", "number", *KIND_FIELDS), new_windows)
        for pk, hid, number in Window.objects.filter(id__gt=floor).values_list("id", "hall_id", "number"):
            window_ids.setdefault((hid, number), pk)
    Window.objects.bulk_update(changed_windows, list(KIND_FIELDS), batch_size=500)
    windows["created"] += len(new_windows)
    windows["updated"] += len(changed_windows)

    # Window items: make each planned window's set exactly the plan's (other windows untouched).
    add: list[tuple[int, int]] = []
    remove: list[int] = []
    for s in specs:
        hid = ids[s.code]
        for ws in s.windows:
            wid = window_ids[(hid, ws.number)]
            have = existing.links.get(wid, {})
            add.extend((wid, item_id) for item_id in ws.items if item_id not in have)
            if have:
                wanted = set(ws.items)
                remove.extend(pk for item_id, pk in have.items() if item_id not in wanted)
            links["total"] += len(ws.items)
    through = Window.items.through
    _insert(through, ("window_id", "item_id"), add)
    for chunk in _chunks(remove):
        through.objects.filter(id__in=chunk).delete()
    links["added"] += len(add)
    links["removed"] += len(remove)

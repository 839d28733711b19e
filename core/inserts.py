"""A model instance's ``INSERT`` as ``(sql, params)``, for statements that write several rows in one
round trip (a CTE of a transition's guarded UPDATE, a counter's UPDATE feeding the INSERT).

The values are prepared as ``Model.save()`` prepares them (``pre_save`` then ``get_db_prep_save``:
``auto_now_add``, defaults, JSON). A primary key the database assigns (an auto field) is left to it;
one Python assigns (a UUID default) is written. Model signals are not sent: callers use it only
for models without receivers. The SQL of each shape is built once per process.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from django.db import connection
from django.db.models import Field, Model

_SHAPES: dict[tuple[Any, ...], tuple[str, list[Field[Any, Any]]]] = {}


def insert_of(
    obj: Model,
    *,
    select_from: str | None = None,
    computed: Mapping[str, str] | None = None,
    returning: tuple[str, ...] = (),
    values: Mapping[str, Any] | None = None,
) -> tuple[str, list[Any]]:
    """``INSERT INTO <table> (...) VALUES (%s, ...)`` of the unsaved ``obj``; with ``select_from``,
    ``INSERT ... SELECT %s::<type>, ... FROM <select_from>`` (one row per row that CTE returns;
    typed placeholders, since an untyped NULL there would be text, PostgreSQL).

    ``computed``: field name → an SQL expression used instead of the field's value (it may read
    ``select_from``'s columns, e.g. ``"g0.id"``); one with a ``%s`` takes ``values[name]`` as its
    parameter. ``returning``: columns the statement returns.
    """
    model = type(obj)
    computed = computed or {}
    key = (model, connection.alias, select_from, tuple(sorted(computed.items())), returning)
    shape = _SHAPES.get(key)
    if shape is None:
        meta = model._meta
        fields = [f for f in meta.concrete_fields if not (f.primary_key and f.db_returning)]
        qn = connection.ops.quote_name
        placeholders = [
            computed.get(f.name) or (f"%s::{f.cast_db_type(connection)}" if select_from else "%s") for f in fields
        ]
        source = (
            f"SELECT {', '.join(placeholders)} FROM {select_from}"  # noqa: S608
            if select_from
            else f"VALUES ({', '.join(placeholders)})"
        )
        tail = f" RETURNING {', '.join(qn(c) for c in returning)}" if returning else ""
        sql = f"INSERT INTO {qn(meta.db_table)} ({', '.join(qn(str(f.column)) for f in fields)}) {source}{tail}"
        shape = _SHAPES.setdefault(key, (sql, fields))
    sql, fields = shape
    given = values or {}
    params: list[Any] = []
    for f in fields:
        if f.name not in computed:
            params.append(f.get_db_prep_save(f.pre_save(obj, True), connection))
        elif "%s" in computed[f.name]:
            params.append(given[f.name])
    return sql, params


def mark_saved(obj: Model) -> None:
    """``obj`` was written by a statement built with ``insert_of``: saved, as ``Model.save()`` leaves it."""
    obj._state.adding = False
    obj._state.db = connection.alias

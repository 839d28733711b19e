"""Baked queries: a queryset shape compiled to SQL once per process, then run with new values.

Django compiles a queryset to SQL on every execution. For the few lookups every API call makes (a
case's timeline, its materials, its results, the caller's token) that compilation costs more CPU
than PostgreSQL spends answering: ~0.5–2 ms each, several times per request. SQLAlchemy caches
compiled statements by shape for the same reason ("baked queries"); this is the small Django
equivalent, for querysets whose only parameters are the values they are called with.

    events_of = BakedQuery(lambda case_id: CaseEvent.objects.filter(case_id=case_id).order_by("seq"))
    events_of(case.pk)  # → list[CaseEvent], the same objects the queryset would give

Safety: the first call compiles the queryset built from its values and checks that the compiled
parameters ARE those values, in order, and that all are distinct; only then is the SQL kept, and
later calls bind their own values by position. Any shape whose SQL depends on a value (``None`` →
``IS NULL``, a list → ``IN (…)``), that prepares a value (a UUID on SQLite), or that uses
prefetching, annotations or a related manager's known objects is never baked: it just runs through
the ORM. Rows become objects exactly as Django's ModelIterable makes them (deferred fields,
select_related rows, converters), so callers cannot tell the difference — tests compare both.
"""

from __future__ import annotations

import threading
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import Any, Generic, TypeVar

from django.db import connections
from django.db.models import Model, QuerySet
from django.db.models.query import ModelIterable, get_related_populators

M = TypeVar("M", bound=Model)


@dataclass(frozen=True)
class _Baked:
    alias: str
    sql: str
    types: tuple[type, ...]
    model: type[Model]
    init_list: list[str]
    start: int
    end: int
    populators: list[Any]
    converters: list[tuple[int, tuple[list[Any], Any]]]


class BakedQuery(Generic[M]):
    """``build(*values)`` → the queryset; calling the BakedQuery returns its rows as a list."""

    def __init__(self, build: Callable[..., QuerySet[M]]) -> None:
        self.build = build
        self._baked: _Baked | None = None
        self._unbakeable = False
        self._lock = threading.Lock()

    def __call__(self, *values: Any) -> list[M]:
        baked = self._baked
        if baked is not None and tuple(map(type, values)) == baked.types:
            return self._run(baked, values)
        qs = self.build(*values)
        # Distinct values only: with two equal ones, "the parameters are the values in order" could
        # hold by accident while the SQL wants them the other way round.
        if baked is None and not self._unbakeable and values and len({(type(v), v) for v in values}) == len(values):
            made = self._bake(qs, values)
            with self._lock:
                if made is None:
                    self._unbakeable = True
                elif self._baked is None:
                    self._baked = made
        return list(qs)

    @staticmethod
    def _bake(qs: QuerySet[M], values: Sequence[Any]) -> _Baked | None:
        if (
            qs._iterable_class is not ModelIterable
            or qs._prefetch_related_lookups  # type: ignore[attr-defined]
            or qs._known_related_objects  # type: ignore[attr-defined]
            or qs.query.annotation_select
            or qs.query.extra_select
            or qs.query.select_for_update
            or qs.query.combinator
        ):
            return None
        compiler = qs.query.get_compiler(using=qs.db)
        sql, params = compiler.as_sql()
        if [(type(p), p) for p in params] != [(type(v), v) for v in values] or not compiler.klass_info:
            return None
        select, klass_info = compiler.select, compiler.klass_info
        fields = klass_info["select_fields"]
        start, end = fields[0], fields[-1] + 1
        converters = compiler.get_converters([s[0] for s in select[0 : compiler.col_count]])
        return _Baked(
            alias=qs.db,
            sql=sql,
            types=tuple(map(type, values)),
            model=klass_info["model"],
            init_list=[f[0].target.attname for f in select[start:end]],
            start=start,
            end=end,
            populators=get_related_populators(klass_info, select, qs.db),  # type: ignore[call-arg]
            converters=list(converters.items()),
        )

    @staticmethod
    def _run(baked: _Baked, values: Sequence[Any]) -> list[Any]:
        alias = baked.alias
        connection = connections[alias]
        with connection.cursor() as cursor:
            cursor.execute(baked.sql, list(values))
            rows = cursor.fetchall()
        out = []
        for fetched in rows:
            row = list(fetched)
            for pos, (convs, expression) in baked.converters:
                value = row[pos]
                for converter in convs:
                    value = converter(value, expression, connection)
                row[pos] = value
            obj = baked.model.from_db(alias, baked.init_list, row[baked.start : baked.end])
            for populator in baked.populators:
                populator.populate(row, obj)
            out.append(obj)
        return out

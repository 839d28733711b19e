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
later calls bind their own values by position. A shape may also compile constants of its own into
parameters (the ``1`` of an ``Exists`` subquery): then it is compiled a second time from probe
values (each int or str value changed), the SQL must be the same, each value must come back at the
same positions and every other parameter must be equal in both compilations (a constant of an
immutable type, bound as it is on every call). Any shape whose SQL depends on a value (``None`` →
``IS NULL``, a list → ``IN (…)``), that prepares a value (a UUID on SQLite), or that uses
prefetching, extra selects or a related manager's known objects is never baked: it just runs
through the ORM. Annotations are set on the objects as Django's ModelIterable sets them. Rows
become objects exactly as Django's ModelIterable makes them (deferred fields,
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
    # (attribute, column) of each annotation, as ModelIterable sets them.
    annotations: tuple[tuple[str, int], ...] = ()
    # Per parameter: the index of the value bound there, or None for a constant (``constants``).
    slots: tuple[int | None, ...] | None = None
    constants: tuple[Any, ...] = ()


# Constants a shape may compile into its parameters: immutable, so one object serves every call.
_CONSTANT_TYPES = (int, str, float, bool, bytes)


def _probe(value: Any) -> Any:
    """Another value of the same type (compiled only, never run), or None when there is none."""
    if type(value) is int:
        return value + 7919
    if type(value) is str:
        return value + "\u2603"
    return None


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
            made = self._bake(qs, values, self.build)
            with self._lock:
                if made is None:
                    self._unbakeable = True
                elif self._baked is None:
                    self._baked = made
        return list(qs)

    @staticmethod
    def _slots(
        build: Callable[..., QuerySet[M]], sql: str, params: Sequence[Any], values: Sequence[Any]
    ) -> tuple[tuple[int | None, ...], tuple[Any, ...]] | None:
        """Where each value is bound and which parameters are constants, from a probe compilation."""
        probes = [_probe(v) for v in values]
        if any(p is None for p in probes):
            return None
        probe_qs = build(*probes)
        sql2, params2 = probe_qs.query.get_compiler(using=probe_qs.db).as_sql()
        if sql2 != sql or len(params2) != len(params):
            return None
        slots: list[int | None] = []
        constants: list[Any] = []
        for p, p2 in zip(params, params2, strict=True):
            if (type(p), p) == (type(p2), p2):
                if not isinstance(p, _CONSTANT_TYPES):
                    return None
                slots.append(None)
                constants.append(p)
                continue
            found = [
                i
                for i, (v, pv) in enumerate(zip(values, probes, strict=True))
                if (type(p), p) == (type(v), v) and (type(p2), p2) == (type(pv), pv)
            ]
            if len(found) != 1:
                return None
            slots.append(found[0])
        if set(slots) - {None} != set(range(len(values))):
            return None
        return tuple(slots), tuple(constants)

    @staticmethod
    def _bake(qs: QuerySet[M], values: Sequence[Any], build: Callable[..., QuerySet[M]]) -> _Baked | None:
        if (
            qs._iterable_class is not ModelIterable
            or qs._prefetch_related_lookups  # type: ignore[attr-defined]
            or qs._known_related_objects  # type: ignore[attr-defined]
            or qs.query.extra_select
            or qs.query.select_for_update
            or qs.query.combinator
        ):
            return None
        compiler = qs.query.get_compiler(using=qs.db)
        sql, params = compiler.as_sql()
        if not compiler.klass_info:
            return None
        slots: tuple[int | None, ...] | None = None
        constants: tuple[Any, ...] = ()
        if [(type(p), p) for p in params] != [(type(v), v) for v in values]:
            found = BakedQuery._slots(build, sql, params, values)
            if found is None:
                return None
            slots, constants = found
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
            annotations=tuple(compiler.annotation_col_map.items()),
            slots=slots,
            constants=constants,
        )

    @staticmethod
    def _run(baked: _Baked, values: Sequence[Any]) -> list[Any]:
        alias = baked.alias
        connection = connections[alias]
        if baked.slots is None:
            params = list(values)
        else:
            constants = iter(baked.constants)
            params = [next(constants) if slot is None else values[slot] for slot in baked.slots]
        with connection.cursor() as cursor:
            cursor.execute(baked.sql, params)
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
            for attr, pos in baked.annotations:
                setattr(obj, attr, row[pos])
            out.append(obj)
        return out

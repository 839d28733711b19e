"""Extension points: the ONE way a lower app lets a higher app plug into it.

The layers (docs/ARCHITECTURE.md) forbid a lower app to import a higher one, yet ``workflows`` must
let ``licences`` render a result it issued, ``ledger`` must ask ``workflows`` who may read a case's
chain, ``halls`` shows ratings it cannot import. Each such seam is an :class:`ExtensionPoint`,
declared once in the lower app's ``extensions.py`` with its type and what it is for; the higher app
registers in its ``AppConfig.ready()``. There are no other cross-app seams: no custom
``django.dispatch.Signal``, no django-fsm ``post_transition`` receivers, no module-level registries
(``tests/core/test_extensions.py`` checks it, and that docs/EXTENSIONS.md lists exactly the points
declared here).

Three shapes, one mechanism:

- ``ExtensionPoint(..., kind=SINGLE)``: at most one implementation (a handler object); ``one()``
  returns it or None (the lower app's own behaviour applies without it);
- ``kind=MANY``: an ordered list of implementations, each registered once; ``all()``;
- ``kind=KEYED``: one implementation per key (a subject prefix, a template name); ``get(key)``.

An :class:`Event` is a MANY point of handlers that are told something happened, two ways:

- ``on_commit(...)`` calls each handler after the current transaction commits — never if it rolls
  back — and one failing handler neither stops the others nor reaches the caller (it is logged; the
  periodic sweep named in docs/EXTENSIONS.md picks up what it could not do). This is how a
  transition tells another app about itself: its row, event and outbox row are committed first.
- ``send(...)`` calls each handler at once, inside the caller's transaction, for a handler whose
  writes must stand or fall with the caller's (a real name bound → the window's cases claimed).
"""

from __future__ import annotations

import functools
import logging
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from enum import StrEnum
from typing import Any, Generic, TypeVar

from django.db import transaction

logger = logging.getLogger(__name__)

T = TypeVar("T")


class Kind(StrEnum):
    SINGLE = "single"
    MANY = "many"
    KEYED = "keyed"


SINGLE, MANY, KEYED = Kind.SINGLE, Kind.MANY, Kind.KEYED

_catalogue: dict[str, ExtensionPoint[Any]] = {}


class ExtensionPoint(Generic[T]):
    """A named seam of a lower app (see the module docstring). ``name`` is ``<app>.<point>``."""

    def __init__(self, name: str, doc: str, *, kind: Kind = MANY, unique_keys: bool = False) -> None:
        if name in _catalogue:
            raise ValueError(f"extension point {name!r} is declared twice")
        self.name = name
        self.doc = doc
        self.kind = kind
        # KEYED: refuse a second registration for a key (SMS templates: a name means one text).
        self.unique_keys = unique_keys
        self._many: list[T] = []
        self._keyed: dict[str, T] = {}
        _catalogue[name] = self

    def __repr__(self) -> str:
        return f"<ExtensionPoint {self.name} ({self.kind})>"

    def register(self, impl: T, *, key: str | None = None) -> T:
        """Add ``impl``; registering the same one (or, keyed, an equal one) again is a no-op.
        SINGLE: a new implementation replaces the old one."""
        if self.kind is Kind.KEYED:
            if key is None:
                raise TypeError(f"{self.name} is keyed: register(impl, key=...)")
            if self.unique_keys and key in self._keyed and self._keyed[key] != impl:
                raise ValueError(f"{self.name}: {key!r} is already registered")
            self._keyed[key] = impl
        elif key is not None:
            raise TypeError(f"{self.name} is not keyed")
        elif self.kind is Kind.SINGLE:
            self._many[:] = [impl]
        elif impl not in self._many:
            self._many.append(impl)
        return impl

    def unregister(self, impl: T) -> None:
        self._many[:] = [i for i in self._many if i is not impl]
        for key in [k for k, i in self._keyed.items() if i is impl]:
            del self._keyed[key]

    def one(self) -> T | None:
        if self.kind is not Kind.SINGLE:
            raise TypeError(f"{self.name} is {self.kind}, not single")
        return self._many[0] if self._many else None

    def all(self) -> list[T]:
        if self.kind is Kind.KEYED:
            return list(self._keyed.values())
        return list(self._many)

    def get(self, key: str) -> T | None:
        if self.kind is not Kind.KEYED:
            raise TypeError(f"{self.name} is {self.kind}, not keyed")
        return self._keyed.get(key)

    def items(self) -> dict[str, T]:
        if self.kind is not Kind.KEYED:
            raise TypeError(f"{self.name} is {self.kind}, not keyed")
        return dict(self._keyed)

    @contextmanager
    def registered(self, impl: T, *, key: str | None = None) -> Iterator[T]:
        """For tests: ``impl`` registered inside the block, the previous registrations after it."""
        saved_many, saved_keyed = list(self._many), dict(self._keyed)
        self.register(impl, key=key)
        try:
            yield impl
        finally:
            self._many[:] = saved_many
            self._keyed.clear()
            self._keyed.update(saved_keyed)


class Event(ExtensionPoint[Callable[..., None]]):
    """Handlers told that something happened; they receive the event's keyword arguments."""

    def __init__(self, name: str, doc: str) -> None:
        super().__init__(name, doc, kind=Kind.MANY)

    def on_commit(self, **payload: Any) -> None:
        """Call every handler once the current transaction commits (immediately outside one)."""
        for handler in self._many:
            transaction.on_commit(functools.partial(self._call, handler, payload))

    def send(self, **payload: Any) -> None:
        """Call every handler now, inside the caller's transaction: what a handler writes commits
        or rolls back with the caller's rows, and its exception is the caller's."""
        for handler in self._many:
            handler(**payload)

    def _call(self, handler: Callable[..., None], payload: dict[str, Any]) -> None:
        try:
            handler(**payload)
        except Exception:
            # The transaction that raised the event has committed; a handler's failure must not
            # reach the user who made it. Every handler has a sweep that retries (EXTENSIONS.md).
            logger.exception("handler %r of %s failed", handler, self.name)


def catalogue() -> dict[str, ExtensionPoint[Any]]:
    """Every declared extension point by name (their modules must have been imported: after
    ``django.setup()`` they have, since every registering ``ready()`` imports them)."""
    return dict(_catalogue)

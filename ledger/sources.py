"""Registry of source tables the verifier can compare the ledger with.

The ledger sits below the apps whose facts it records, so it cannot import their models. An app
above registers, per ``ref`` prefix (``case_event``, ``material``, ``result`` ...), a resolver that
takes a list of refs and returns ``{ref: payload dict, or None when the source row is gone}`` —
built with the same function that built the payload when the fact was appended.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

Resolver = Callable[[list[str]], dict[str, dict[str, Any] | None]]

_resolvers: dict[str, Resolver] = {}


def register(prefix: str, resolver: Resolver) -> None:
    _resolvers[prefix] = resolver


def resolver_for(ref: str) -> Resolver | None:
    return _resolvers.get(ref.split(":", 1)[0])


def registered() -> dict[str, Resolver]:
    return dict(_resolvers)

"""The ledger's extension points (core.extensions; catalogue: docs/EXTENSIONS.md).

The ledger sits below the apps whose facts it records, so it can neither import their models nor
ask them who may see what. The app that owns a subject or a ``ref`` prefix registers, in its
AppConfig.ready(), keyed by that prefix:

- ``subject_access``: ``check(user, rest) -> bool`` for subjects ``<prefix>:<rest>`` (``workflows``
  registers ``case``: the same scope as the case itself). A prefix nobody registered is readable
  only by a province-wide admin, so a new kind of subject is closed until its owner says otherwise;
- ``sources``: a resolver ``refs -> {ref: payload dict, or None when the source row is gone}``,
  built with the same function that built the payload when the fact was appended, so the verifier
  can compare the ledger with the rows (``case_event``, ``material``, ``result``, ...).
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from core.extensions import KEYED, ExtensionPoint

SubjectCheck = Callable[[Any, str], bool]
Resolver = Callable[[list[str]], dict[str, dict[str, Any] | None]]

subject_access: ExtensionPoint[SubjectCheck] = ExtensionPoint(
    "ledger.subject_access",
    "Keyed by subject prefix: `check(user, rest) -> bool`, may `user` read the entries of "
    "subject `<prefix>:<rest>`. Unregistered prefixes: province-wide admins only.",
    kind=KEYED,
)
sources: ExtensionPoint[Resolver] = ExtensionPoint(
    "ledger.sources",
    "Keyed by ref prefix: `resolver(refs) -> {ref: payload or None}`, the source rows the "
    "verifier (`verify_ledger`) compares each entry with.",
    kind=KEYED,
)


def may_read_subject(user: Any, subject: str) -> bool:
    prefix, _sep, rest = subject.partition(":")
    check = subject_access.get(prefix)
    if check is not None:
        return bool(check(user, rest))
    from accounts.scope import province_wide

    return province_wide(user)


def resolver_for(ref: str) -> Resolver | None:
    return sources.get(ref.split(":", 1)[0])

"""Who may read a ledger subject's entries: the apps that own the subjects decide.

The ledger sits below the apps whose facts it records, so it cannot ask ``workflows`` whether a
user may see case ``case:<number>``. The app that owns a subject prefix registers a check here
(``workflows`` registers ``case``: the same scope as the case itself). A prefix nobody registered
is readable only by a province-wide admin, so a new kind of subject is closed until its owner says
otherwise.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

SubjectCheck = Callable[[Any, str], bool]

_checks: dict[str, SubjectCheck] = {}


def register(prefix: str, check: SubjectCheck) -> None:
    """``check(user, rest)`` gets the subject without ``<prefix>:`` and says whether ``user`` may read it."""
    _checks[prefix] = check


def may_read_subject(user: Any, subject: str) -> bool:
    prefix, _sep, rest = subject.partition(":")
    check = _checks.get(prefix)
    if check is not None:
        return bool(check(user, rest))
    from accounts.scope import province_wide

    return province_wide(user)

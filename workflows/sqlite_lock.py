"""One writer at a time on SQLite, within a server process.

SQLite has a single writer. Under ASGI each request (and each WebSocket consumer's database call)
runs in its own thread, so a page that loads two watermarked previews at once, or two call pages
reporting "connected" together, start two write transactions in the same process; on the embedded
default that can fail with "database (table) is locked" instead of waiting. The threads of one
process take turns here instead. PostgreSQL (production) is never serialised.
"""

from __future__ import annotations

import functools
import threading
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from typing import ParamSpec, TypeVar

from django.db import connection

_lock = threading.RLock()
P = ParamSpec("P")
R = TypeVar("R")


@contextmanager
def sqlite_writer() -> Iterator[None]:
    if connection.vendor != "sqlite":
        yield
        return
    with _lock:
        yield


def serialised_on_sqlite(fn: Callable[P, R]) -> Callable[P, R]:
    @functools.wraps(fn)
    def wrapper(*args: P.args, **kwargs: P.kwargs) -> R:
        with sqlite_writer():
            return fn(*args, **kwargs)

    return wrapper

"""The domain's refusals, one hierarchy for every app: actions and selectors raise these, never an
HTTP exception. The API maps them to statuses in ONE place (config.api_errors.exception_handler):

| class | status | body |
| --- | --- | --- |
| Invalid | 400 | {"detail", "errors": {field: [messages]}} |
| Forbidden | 403 | {"detail"} |
| NotFound | 404 | {"detail"} |
| Conflict | 409 | {"detail", **extra} — e.g. "state" and "allowed" |
| TooLarge | 413 | {"detail"} |

HTML views catch them by class and render their own page. ``Forbidden`` is also Django's
``PermissionDenied`` (a view that does not catch it answers 403 the Django way), ``Invalid`` is not
Django's ``ValidationError`` (that one keeps meaning "the input did not validate").
"""

from __future__ import annotations

from typing import Any

from django.core.exceptions import PermissionDenied


class DomainError(Exception):
    """``detail``: one plain sentence to show; ``extra``: more fields of the API's error body."""

    status_code = 400

    def __init__(self, detail: Any = "", **extra: Any) -> None:
        self.detail = str(detail)
        self.extra: dict[str, Any] = extra
        super().__init__(self.detail)


class Invalid(DomainError):
    """400: the request cannot be done as asked. ``errors``: the messages by input field."""

    status_code = 400

    def __init__(self, detail: Any = "", *, errors: dict[str, list[str]] | None = None, **extra: Any) -> None:
        super().__init__(detail, **extra)
        self.errors = errors or {}


class Forbidden(DomainError, PermissionDenied):
    """403: the actor may not do this (an empty detail: the API's generic sentence)."""

    status_code = 403


class NotFound(DomainError):
    """404: nothing the actor may see by that name."""

    status_code = 404


class Conflict(DomainError):
    """409: not allowed from the current state, or a duplicate, or another writer came first.
    The API body carries ``extra`` after ``detail`` (``state`` and ``allowed`` by convention)."""

    status_code = 409


class TooLarge(DomainError):
    """413: a payload (an upload) over its limit."""

    status_code = 413

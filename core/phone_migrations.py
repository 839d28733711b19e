"""Data migrations of stored phones to the one form (E.164), shared by the apps' migrations.

Each app's migration runs these BEFORE its AlterField to core.phones.PhoneField (and so, reversed,
after the field is a plain CharField again): the historical model then writes exactly the value
given, not one PhoneField would normalise again.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from core.phones import national, stored_or_raw

Fields = tuple[tuple[str, str, str], ...]  # (app label, model name, field name)
RunPython = Callable[[Any, Any], None]


def rewrite(model: Any, field: str, convert: Callable[[str], str], batch: int = 2000) -> int:
    """Set ``field`` to ``convert(value)`` on every row where that changes it; returns how many.
    Blanks are skipped; streamed and written in batches (cases and tickets can be many)."""
    changed: list[Any] = []
    count = 0
    rows = model._default_manager.exclude(**{field: ""}).only("pk", field).iterator(chunk_size=batch)
    for row in rows:
        old = getattr(row, field)
        new = convert(old)
        if new != old:
            setattr(row, field, new)
            changed.append(row)
        if len(changed) >= batch:
            model._default_manager.bulk_update(changed, [field])
            count += len(changed)
            changed = []
    if changed:
        model._default_manager.bulk_update(changed, [field])
        count += len(changed)
    return count


def to_e164(*fields: tuple[str, str, str]) -> RunPython:
    """Forwards: every parseable phone becomes E.164; a value that never parsed stays as it was."""

    def run(apps: Any, schema_editor: Any) -> None:
        for app_label, model_name, field in fields:
            rewrite(apps.get_model(app_label, model_name), field, stored_or_raw)

    return run


def to_national(*fields: tuple[str, str, str]) -> RunPython:
    """Backwards, for fields that held the 11 mainland digits before: +86XXXXXXXXXXX → XXXXXXXXXXX."""

    def run(apps: Any, schema_editor: Any) -> None:
        for app_label, model_name, field in fields:
            rewrite(apps.get_model(app_label, model_name), field, national)

    return run

"""Spreadsheet exports that cannot carry a live formula (CSV/formula injection, OWASP).

A cell whose text starts with = + - @ (or a tab / carriage return, which Excel strips before reading
the rest as a formula) is run by Excel or WPS when the file is opened: a rating comment
`=cmd|' /C calc'!A0` would start a program on a supervisor's PC. Every text cell we export goes
through `neutralise`, which puts an apostrophe in front — spreadsheet programs show such a cell as
text. Numbers and dates are written as numbers and dates (a negative number is not a formula).
`restore` undoes it on import, so a catalog exported and re-imported keeps its values.
"""

from __future__ import annotations

from typing import Any

import tablib
from import_export.formats import base_formats

FORMULA_PREFIXES = ("=", "+", "-", "@", "\t", "\r")


def neutralise(value: Any) -> Any:
    """The value as a spreadsheet cell that is never a formula (non-text values unchanged)."""
    if isinstance(value, str) and value.startswith(FORMULA_PREFIXES):
        return "'" + value
    return value


def restore(value: Any) -> Any:
    """The original text of a cell `neutralise` escaped (anything else unchanged)."""
    if isinstance(value, str) and value.startswith("'") and value[1:].startswith(FORMULA_PREFIXES):
        return value[1:]
    return value


def neutralise_row(row: list[Any]) -> list[Any]:
    return [neutralise(v) for v in row]


def _map_dataset(dataset: tablib.Dataset, fn: Any) -> tablib.Dataset:
    out = tablib.Dataset(headers=[fn(h) for h in dataset.headers] if dataset.headers else None)
    for row in dataset:
        out.append([fn(v) for v in row])
    if getattr(dataset, "title", None):
        out.title = dataset.title
    return out


class _Escaping:
    """django-import-export format mixin: escape on export, un-escape on import."""

    def export_data(self, dataset: tablib.Dataset, **kwargs: Any) -> Any:
        return super().export_data(_map_dataset(dataset, neutralise), **kwargs)  # type: ignore[misc]

    def create_dataset(self, in_stream: Any, **kwargs: Any) -> tablib.Dataset:
        return _map_dataset(super().create_dataset(in_stream, **kwargs), restore)  # type: ignore[misc]


class SafeCSV(_Escaping, base_formats.CSV):
    pass


class SafeXLSX(_Escaping, base_formats.XLSX):
    pass

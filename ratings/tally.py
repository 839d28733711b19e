"""Keeping the tally tables (see ratings.models) equal to the counted ratings.

``apply(rating, delta)`` runs inside the caller's transaction: one ``INSERT … ON CONFLICT DO
UPDATE SET c<level> = c<level> + delta`` per table, which SQLite (3.24+) and PostgreSQL both
execute atomically per row, so concurrent ratings of one hall on one day never lose a count.
``rebuild()`` recomputes every tally from the ratings with four set-based statements (bulk loads,
repairs).
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from django.db import connection, transaction

from ratings.models import HallDayTally, HallTally, Rating, RegionDayTally, WindowDayTally


def _upsert(table: str, keys: Mapping[str, Any], extra: Mapping[str, Any], level: int, delta: int) -> None:
    if level not in (1, 2, 3, 4, 5):
        raise ValueError("level must be 1..5")
    column = f"c{level}"
    cols = [*keys, *extra, column]
    values: list[Any] = [*keys.values(), *extra.values(), delta]
    placeholders = ", ".join(["%s"] * len(cols))
    conflict = ", ".join(keys)
    # Table and column names come from our own models, never from input; values are parameters.
    sql = (
        f"INSERT INTO {table} ({', '.join(cols)}) VALUES ({placeholders}) "  # noqa: S608
        f"ON CONFLICT ({conflict}) DO UPDATE SET {column} = {table}.{column} + excluded.{column}"
    )
    with connection.cursor() as cursor:
        cursor.execute(sql, values)


def apply(rating: Rating, delta: int) -> None:
    """Add (delta=+1) or remove (delta=-1) one rating from every tally it belongs to.

    Must run in the transaction that inserts the rating or changes its ``counted`` flag.
    """
    if not transaction.get_connection().in_atomic_block:
        raise RuntimeError("tally.apply() must run inside the rating's transaction")
    zero = {"c1": 0, "c2": 0, "c3": 0, "c4": 0, "c5": 0}
    region = {"province_code": rating.province_code, "city_code": rating.city_code}
    _upsert(
        RegionDayTally._meta.db_table,
        {"day": rating.rated_on, "county_code": rating.county_code},
        {**region, **{k: 0 for k in zero if k != f"c{rating.level}"}},
        rating.level,
        delta,
    )
    if rating.hall_id is None:
        return
    others = {k: 0 for k in zero if k != f"c{rating.level}"}
    _upsert(
        HallDayTally._meta.db_table,
        {"hall_id": rating.hall_id, "day": rating.rated_on},
        {**region, "county_code": rating.county_code, **others},
        rating.level,
        delta,
    )
    _upsert(HallTally._meta.db_table, {"hall_id": rating.hall_id}, others, rating.level, delta)
    if rating.window_id is not None:
        _upsert(
            WindowDayTally._meta.db_table,
            {"window_id": rating.window_id, "day": rating.rated_on},
            {"hall_id": rating.hall_id, **others},
            rating.level,
            delta,
        )


def _sums() -> str:
    return ", ".join(f"SUM(CASE WHEN level = {n} THEN 1 ELSE 0 END)" for n in (1, 2, 3, 4, 5))


def rebuild() -> dict[str, int]:
    """Recompute all four tallies from the counted ratings (one transaction). Returns row counts."""
    r = Rating._meta.db_table
    counts = "c1, c2, c3, c4, c5"
    statements: list[tuple[type[RegionDayTally | HallDayTally | WindowDayTally | HallTally], str]] = [
        (
            RegionDayTally,
            f"INSERT INTO {RegionDayTally._meta.db_table} (day, province_code, city_code, county_code, {counts}) "  # noqa: S608
            f"SELECT rated_on, MIN(province_code), MIN(city_code), county_code, {_sums()} FROM {r} "
            "WHERE counted GROUP BY rated_on, county_code",
        ),
        (
            HallDayTally,
            f"INSERT INTO {HallDayTally._meta.db_table} "  # noqa: S608
            f"(day, hall_id, province_code, city_code, county_code, {counts}) "
            f"SELECT rated_on, hall_id, MIN(province_code), MIN(city_code), MIN(county_code), {_sums()} FROM {r} "
            "WHERE counted AND hall_id IS NOT NULL GROUP BY hall_id, rated_on",
        ),
        (
            WindowDayTally,
            f"INSERT INTO {WindowDayTally._meta.db_table} (day, window_id, hall_id, {counts}) "  # noqa: S608
            f"SELECT rated_on, window_id, MIN(hall_id), {_sums()} FROM {r} "
            "WHERE counted AND window_id IS NOT NULL AND hall_id IS NOT NULL GROUP BY window_id, rated_on",
        ),
        (
            HallTally,
            f"INSERT INTO {HallTally._meta.db_table} (hall_id, {counts}) "  # noqa: S608
            f"SELECT hall_id, {_sums()} FROM {r} WHERE counted AND hall_id IS NOT NULL GROUP BY hall_id",
        ),
    ]
    result: dict[str, int] = {}
    with transaction.atomic(), connection.cursor() as cursor:
        for model, sql in statements:
            model.objects.all().delete()
            cursor.execute(sql)
            result[model.__name__] = model.objects.count()
    return result

"""Live per-hall figures shown by the hall API, the map and the nearest-hall answer.

The queue and appointment figures come from the live side of this app; ratings from the ratings
app through the ``halls.extensions.rating_providers`` point (a lower app never imports a higher one).
"""

from __future__ import annotations

from collections.abc import Iterable
from typing import TypedDict

from halls.extensions import rating_providers


class HallStats(TypedDict):
    queue_waiting: int
    appointments_today: int
    rating_avg: float | None
    rating_count: int
    bad_count: int


def stats_for_halls(hall_ids: Iterable[int]) -> dict[int, HallStats]:
    """Live figures per hall: people waiting now, bookings today, ratings (one query each)."""
    from halls.live_selectors import appointments_today_counts
    from halls.queue import waiting_counts

    ids = list(hall_ids)
    waiting = waiting_counts(ids)
    booked = appointments_today_counts(ids)
    stats: dict[int, HallStats] = {
        hid: {
            "queue_waiting": waiting.get(hid, 0),
            "appointments_today": booked.get(hid, 0),
            "rating_avg": None,
            "rating_count": 0,
            "bad_count": 0,
        }
        for hid in ids
    }
    for provider in rating_providers.all():
        for hid, (avg, count, bad) in provider(ids).items():
            if hid in stats:
                stats[hid]["rating_avg"] = avg
                stats[hid]["rating_count"] = count
                stats[hid]["bad_count"] = bad
    return stats


def rating_stats(hall_ids: Iterable[int]) -> dict[int, tuple[float | None, int, int]]:
    """{hall_id: (avg, count, bad_count)} from the registered rating providers (sparse)."""
    ids = list(hall_ids)
    out: dict[int, tuple[float | None, int, int]] = {}
    for provider in rating_providers.all():
        out.update(provider(ids))
    return out

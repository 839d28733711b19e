"""The halls app's extension point (core.extensions; catalogue: docs/EXTENSIONS.md)."""

from __future__ import annotations

from collections.abc import Callable

from core.extensions import ExtensionPoint

# hall ids → {hall_id: (average, count, bad count)}, sparse.
RatingProvider = Callable[[list[int]], dict[int, tuple[float | None, int, int]]]

rating_providers: ExtensionPoint[RatingProvider] = ExtensionPoint(
    "halls.rating_providers",
    "`provider(hall_ids) -> {hall_id: (avg, count, bad_count)}`: the 好差评 figures the hall "
    "API, the nearest-hall answer and the map show (ratings registers it; halls never imports "
    "ratings).",
)

"""The Guizhou demo hall registry: real province/city/county centres plus seeded synthetic points.

``load_halls()`` is called by ``manage.py load_demo`` after the regions and the catalog. It builds
the full desired registry in memory ("the plan"), then reconciles the database with it in
batches: one transaction per batch, a constant number of statements per batch (multi-row inserts,
bulk_update), so 20,000 points load in seconds on SQLite.

What is real and what is not:

* real (``is_synthetic=False``): the province centre, the 9 city/prefecture centres and the Gui'an
  New Area centre (``demo/data/guizhou_halls.json``), and one comprehensive hall per county.
  Their names follow the real naming; locations are approximate: a known point for the
  province/city centres, the county's representative point plus a small seeded offset for the
  counties (addresses then only name the county, never a made-up street). Every point is checked
  with ``govmap.geo.county_at`` and moved inside its county if it falls outside.
* synthetic (``is_synthetic=True``): department branch halls, township centres, kiosks and (size
  "large") village stations, with names from ``demo/data/place_names.json``. They are sampled
  uniformly inside their real county with ``govmap.geo.random_points_in``, seeded per county and
  per kind, so the same seed gives the same codes, names and coordinates on any database.

Hall codes (stable, readable, unique):

* ``520000-C01`` province centre, ``520000-C02`` Gui'an New Area (no GB/T 2260 code of its own);
* ``<city adcode>-C01`` city centres, ``<county adcode>-C01`` county centres;
* ``<city or county adcode>-B01..B04`` branch halls (B01 出入境, B02 车管, B03 不动产, B04 社保医保);
* ``<county adcode>-S0001`` township centres, ``-K001`` kiosks, ``-V00001`` village stations.

Window items: comprehensive halls' windows keep an empty item set, which means "every item the
window's kinds allow" (see ``halls.selectors.window_takes_item_q``); branch windows list their
department's items; stations, kiosks and villages list a few high-frequency items. That keeps the
window-item rows to about 10 per point for size "default" (~19,500) and ~5.5 for "large" (~110,000).
"""

from __future__ import annotations

import logging
import time
from typing import Any

from demo.hall_plan import plan_halls
from demo.hall_specs import SIZES, TOWNSHIP_STATIONS
from demo.hall_store import reconcile

# The registry's public face: the loader, the pure plan behind it, and the count tests check.
__all__ = ["TOWNSHIP_STATIONS", "load_halls", "plan_halls"]

log = logging.getLogger(__name__)


# --------------------------------------------------------------------------------------------
# Public entry point
# --------------------------------------------------------------------------------------------


def load_halls(*, size: str = "default", seed: int = 52) -> dict[str, Any]:
    """Create or update the demo hall registry of Guizhou (idempotent upsert by hall code).

    Side effects: writes Hall, Window and window-item rows, one transaction per batch of
    ``BATCH_SIZE`` halls. Halls and windows are never deleted (staff posts, tickets and cases may
    point at them) and ``is_active`` is left as an operator set it; a window's item list is reset
    to the plan. Requires the regions (``govmap.loaders.load_shipped_regions``) and the catalog
    (``services.catalog_data.load_catalog``) to be loaded first.

    Returns counts (created / updated / unchanged per table, totals by type and level), the
    points that had to be moved inside their county, and timings in seconds.
    """
    if size not in SIZES:
        raise ValueError(f"未知的规模 {size!r}，可选：{', '.join(SIZES)}")
    started = time.perf_counter()
    plan = plan_halls(size=size, seed=seed)
    planned = time.perf_counter()
    counts = reconcile(plan.halls)
    finished = time.perf_counter()
    by_type: dict[str, int] = {}
    by_level: dict[str, int] = {}
    for h in plan.halls:
        # str(): plain values ("station"), not the choice enums, in the printed/JSON summary.
        by_type[str(h.type)] = by_type.get(str(h.type), 0) + 1
        by_level[str(h.level)] = by_level.get(str(h.level), 0) + 1
    result: dict[str, Any] = {
        "size": size,
        "seed": seed,
        "total": len(plan.halls),
        "by_type": by_type,
        "by_level": by_level,
        **counts,
        "moved_inside_county": plan.moved,
        "skipped": plan.skipped,
        "seconds": {
            "plan": round(planned - started, 3),
            "write": round(finished - planned, 3),
            "total": round(finished - started, 3),
        },
    }
    log.info(
        "load_halls size=%s: %d halls (%d created, %d updated) in %.2fs",
        size,
        len(plan.halls),
        counts["halls"]["created"],
        counts["halls"]["updated"],
        finished - started,
    )
    if counts["halls"]["created"] or counts["halls"]["updated"]:
        # Bulk writes skip model signals: tell every ASGI worker to rebuild its nearest-hall index now.
        from halls.live_selectors import bump_hall_index_version

        bump_hall_index_version()
    return result

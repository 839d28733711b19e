"""The "15-minute service circle" per county, kept current for the map's coverage layer.

Written by three callers: ``manage.py coverage`` (an operator's choice of distance and types),
``manage.py load_demo`` (right after the halls, so a fresh demo map is never empty), and hall
changes through the ORM (a signal → after commit → one debounced Celery task). The refresh reuses
the distance of the last saved figures, so an operator's ``--distance-km`` survives later edits.
"""

from __future__ import annotations

import logging
import time
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

from django.conf import settings
from django.core.cache import cache
from django.db import transaction
from django.db.models.signals import post_delete, post_save

from govmap.models import Region, RegionLevel
from govmap.spatial import CoverageResult, compute_coverage
from halls import actions
from halls.models import CountyCoverage, Hall, HallType

log = logging.getLogger(__name__)

DEFAULT_TYPES: tuple[str, ...] = (HallType.COMPREHENSIVE.value, HallType.STATION.value)
PENDING_KEY = "halls:coverage:refresh-pending"


def default_distance_m() -> int:
    return round(float(settings.COVERAGE_DISTANCE_KM) * 1000)


def debounce_seconds() -> float:
    return float(settings.COVERAGE_REFRESH_DEBOUNCE_SECONDS)


@dataclass(frozen=True)
class CoverageRun:
    distance_m: int
    types: tuple[str, ...]
    results: list[CoverageResult]
    names: dict[str, str]
    points: int
    seconds: float


def county_prefix(adcode: str) -> str:
    # GB/T 2260 is hierarchical: 52xxxx is the province, 5201xx a city, 520102 a county.
    if adcode.endswith("0000"):
        return adcode[:2]
    if adcode.endswith("00"):
        return adcode[:4]
    return adcode


def compute(
    *, distance_m: int, types: Sequence[str] = DEFAULT_TYPES, region: str = "", save: bool = True
) -> CoverageRun:
    """Coverage of every county with a boundary (under ``region`` if given); saved unless asked not
    to. Raises ValueError when there is no county boundary to measure."""
    counties = Region.objects.filter(level=RegionLevel.COUNTY, boundary__isnull=False)
    if region:
        counties = counties.filter(adcode__startswith=county_prefix(region))
    regions = list(counties.order_by("adcode").values_list("adcode", "name", "boundary"))
    if not regions:
        raise ValueError("没有带边界的区县数据，请先运行 import_regions 或 load_demo")
    points = list(Hall.objects.filter(is_active=True, type__in=list(types)).values_list("lat", "lon"))
    started = time.perf_counter()
    results = compute_coverage(
        [(adcode, boundary) for adcode, _n, boundary in regions if boundary], points, distance_m=distance_m, max_gaps=5
    )
    elapsed = time.perf_counter() - started
    if save:
        actions.save_coverage(
            rows=[
                {
                    "adcode": r.adcode,
                    "covered_share": r.covered_share,
                    "area_km2": r.area_km2,
                    "uncovered_km2": r.uncovered_km2,
                    "points": r.points,
                    "gaps": r.gaps,
                }
                for r in results
            ],
            distance_m=distance_m,
        )
    return CoverageRun(
        distance_m=distance_m,
        types=tuple(types),
        results=results,
        names={adcode: name for adcode, name, _b in regions},
        points=len(points),
        seconds=elapsed,
    )


def refresh() -> dict[str, Any]:
    """Recompute every county with the distance of the figures on record (else the default).

    Returns a summary; ``{"skipped": ...}`` when there are no county boundaries yet."""
    cache.delete(PENDING_KEY)  # changes made from now on ask for another run
    last = CountyCoverage.objects.order_by("-computed_at").values_list("distance_m", flat=True).first()
    distance_m = int(last or default_distance_m())
    try:
        run = compute(distance_m=distance_m)
    except ValueError as exc:
        return {"skipped": str(exc)}
    log.info("coverage refreshed: %d counties, %d points in %.2fs", len(run.results), run.points, run.seconds)
    return {"counties": len(run.results), "points": run.points, "distance_m": distance_m}


def request_refresh() -> None:
    """Ask for one refresh soon. Bursts of hall edits (an import, an admin bulk edit) collapse into
    one run: the first request schedules the task ``debounce_seconds()`` ahead, later ones find
    the pending mark and do nothing. With an eager Celery (embedded default, tests) it runs now."""
    from halls.tasks import refresh_coverage

    delay = debounce_seconds()
    if not cache.add(PENDING_KEY, 1, timeout=int(delay) + 600):
        return
    try:
        refresh_coverage.apply_async(countdown=delay)
    except Exception:
        # No broker: let the next change try again rather than leave the mark set for ten minutes.
        cache.delete(PENDING_KEY)
        log.exception("could not schedule the coverage refresh")


def _hall_changed(**kwargs: Any) -> None:
    if kwargs.get("raw"):
        return  # fixtures being loaded: whoever loads them decides
    # Any saved hall may matter (a station turned kiosk, a point moved, a hall closed): the debounce,
    # not a guess about what changed, keeps this cheap.
    transaction.on_commit(request_refresh)


post_save.connect(_hall_changed, sender=Hall, dispatch_uid="halls-coverage-save")
post_delete.connect(_hall_changed, sender=Hall, dispatch_uid="halls-coverage-delete")

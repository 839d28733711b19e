"""In-memory spatial indexes of points (halls, service points) and the service-coverage geometry.

Part of the geographic core: it imports no other app of ours. A higher app supplies the points
and a cheap "version" of them through `VersionedIndex`; every worker process rebuilds its own copy
when the version changes, so several ASGI workers answer consistently.

Nearest neighbours on the sphere: points become 3-D unit vectors, where straight-line (chord)
distance grows monotonically with the great-circle distance, so a k-d tree (scipy's cKDTree)
answers exact great-circle k-nearest queries; distances are then reported by haversine.
"""

from __future__ import annotations

import logging
import math
import threading
import time
from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

import numpy as np
import numpy.typing as npt
from scipy.spatial import cKDTree

logger = logging.getLogger(__name__)

# The IUGG mean Earth radius, the usual choice for a spherical great-circle distance.
EARTH_RADIUS_M = 6_371_008.8

FloatArray = npt.NDArray[np.float64]
IntArray = npt.NDArray[np.int64]
BoolArray = npt.NDArray[np.bool_]

# Below this many candidates a vectorised scan beats walking the tree with a filter.
_BRUTE_FORCE_BELOW = 4096


def unit_vectors(lat: npt.ArrayLike, lon: npt.ArrayLike) -> FloatArray:
    la = np.radians(np.asarray(lat, dtype=np.float64))
    lo = np.radians(np.asarray(lon, dtype=np.float64))
    cos_la = np.cos(la)
    return np.column_stack((cos_la * np.cos(lo), cos_la * np.sin(lo), np.sin(la)))


def haversine_m(lat1: npt.ArrayLike, lon1: npt.ArrayLike, lat2: npt.ArrayLike, lon2: npt.ArrayLike) -> Any:
    """Great-circle distance in metres (vectorised; scalars in, float out)."""
    p1, p2 = np.radians(lat1), np.radians(lat2)
    dphi = p2 - p1
    dlmb = np.radians(np.asarray(lon2, dtype=np.float64) - np.asarray(lon1, dtype=np.float64))
    a = np.sin(dphi / 2) ** 2 + np.cos(p1) * np.cos(p2) * np.sin(dlmb / 2) ** 2
    return 2 * EARTH_RADIUS_M * np.arcsin(np.sqrt(np.clip(a, 0.0, 1.0)))


def validate_lat_lon(lat: float, lon: float) -> None:
    if not (math.isfinite(lat) and math.isfinite(lon)) or not (-90 <= lat <= 90 and -180 <= lon <= 180):
        raise ValueError("lat must be within [-90, 90] and lon within [-180, 180]")


@dataclass(frozen=True)
class Neighbour:
    id: int
    distance_m: float
    position: int  # row in the index (for looking up the point's attributes)


@dataclass
class PointIndex:
    """Points with integer ids and optional per-point labels (e.g. hall type) to filter on."""

    ids: IntArray
    lat: FloatArray
    lon: FloatArray
    labels: Mapping[str, npt.NDArray[Any]] = field(default_factory=dict)
    version: str = ""

    def __post_init__(self) -> None:
        self.ids = np.asarray(self.ids, dtype=np.int64)
        self.lat = np.asarray(self.lat, dtype=np.float64)
        self.lon = np.asarray(self.lon, dtype=np.float64)
        if not (len(self.ids) == len(self.lat) == len(self.lon)):
            raise ValueError("ids, lat and lon must have the same length")
        self.xyz = unit_vectors(self.lat, self.lon) if len(self.ids) else np.zeros((0, 3))
        self.tree = cKDTree(self.xyz) if len(self.ids) else None
        self._position = {int(i): p for p, i in enumerate(self.ids)}

    def __len__(self) -> int:
        return len(self.ids)

    def position_of(self, point_id: int) -> int | None:
        return self._position.get(int(point_id))

    def mask_for(self, *, ids: Iterable[int] | None = None, **labels: Any) -> BoolArray | None:
        """Rows allowed by an id set and/or label equality (None: every row)."""
        mask: BoolArray | None = None
        for name, value in labels.items():
            if value is None:
                continue
            column = self.labels[name]
            m = column == value
            mask = m if mask is None else (mask & m)
        if ids is not None:
            allowed = np.fromiter((int(i) for i in ids), dtype=np.int64)
            m = np.isin(self.ids, allowed)
            mask = m if mask is None else (mask & m)
        return mask

    def nearest(self, lat: float, lon: float, k: int = 5, *, mask: BoolArray | None = None) -> list[Neighbour]:
        """The k points nearest to (lat, lon) by great-circle distance, nearest first.

        `mask` restricts the candidates. Ties are broken by id so answers are deterministic.
        """
        validate_lat_lon(lat, lon)
        n = len(self.ids)
        if k <= 0 or n == 0 or self.tree is None:
            return []
        q = unit_vectors([lat], [lon])[0]
        if mask is not None:
            candidates = np.flatnonzero(mask)
            if len(candidates) == 0:
                return []
            if len(candidates) <= _BRUTE_FORCE_BELOW:
                return self._finish(lat, lon, candidates, k)
            # Walk the tree with a growing k until enough allowed points turn up.
            want = min(n, max(k * 8, 64))
            while True:
                _d, pos = self.tree.query(q, k=want)
                pos = np.atleast_1d(pos)
                pos = pos[pos < n]
                allowed = pos[mask[pos]]
                if len(allowed) >= k or want >= n:
                    return self._finish(lat, lon, allowed, k, extra_ring=True, mask=mask)
                want = min(n, want * 8)
        want = min(n, k)
        _d, pos = self.tree.query(q, k=want)
        return self._finish(lat, lon, np.atleast_1d(pos), k, extra_ring=True)

    def _finish(
        self,
        lat: float,
        lon: float,
        positions: npt.NDArray[Any],
        k: int,
        *,
        extra_ring: bool = False,
        mask: BoolArray | None = None,
    ) -> list[Neighbour]:
        positions = np.asarray(positions, dtype=np.int64)
        if extra_ring and len(positions):
            # Chord and haversine orders agree, but floating point may not at exact ties: take every
            # point within the k-th chord distance (plus an epsilon) so ties at the boundary are
            # resolved by id, exactly like a brute-force sort.
            assert self.tree is not None
            q = unit_vectors([lat], [lon])[0]
            chords = np.sort(np.linalg.norm(self.xyz[positions] - q, axis=1))
            kth = float(chords[min(k, len(chords)) - 1])
            ring = np.asarray(self.tree.query_ball_point(q, kth + 1e-9), dtype=np.int64)
            if mask is not None and len(ring):
                ring = ring[mask[ring]]
            positions = np.union1d(positions, ring)
        dist = haversine_m(lat, lon, self.lat[positions], self.lon[positions])
        order = np.lexsort((self.ids[positions], np.round(dist, 6)))[:k]
        return [
            Neighbour(id=int(self.ids[positions[i]]), distance_m=float(dist[i]), position=int(positions[i]))
            for i in order
        ]


class VersionedIndex:
    """A per-process PointIndex kept in step with its source.

    `version()` must be cheap (a cache read, an aggregate checked every few seconds); `load()`
    builds the index. Requests read the current index lock-free; one thread rebuilds on change.
    """

    def __init__(self, name: str, load: Callable[[str], PointIndex], version: Callable[[], str]) -> None:
        self.name = name
        self._load = load
        self._version = version
        self._index: PointIndex | None = None
        self._lock = threading.Lock()
        self.builds = 0

    def get(self) -> PointIndex:
        token = self._version()
        index = self._index
        if index is not None and index.version == token:
            return index
        with self._lock:
            index = self._index
            if index is None or index.version != token:
                started = time.perf_counter()
                index = self._load(token)
                index.version = token
                self._index = index
                self.builds += 1
                logger.info(
                    "spatial index %s rebuilt: %d points in %.0f ms",
                    self.name,
                    len(index),
                    (time.perf_counter() - started) * 1000,
                )
        return index

    def clear(self) -> None:
        with self._lock:
            self._index = None


# --- coverage: the share of each county within a distance of a service point -----------------------


@dataclass(frozen=True)
class CoverageResult:
    adcode: str
    area_km2: float
    covered_share: float
    uncovered_km2: float
    points: int
    gaps: list[dict[str, float]]


def metric_crs(center_lat: float, center_lon: float) -> str:
    """An equal-area plane centred on the data (metres), as a PROJ string for geopandas' to_crs.

    Albers equal-area with standard parallels around the data: areas are exact and distances are
    within a fraction of a percent over a province, good enough for a service radius.
    """
    return (
        f"+proj=aea +lat_0={center_lat:.4f} +lon_0={center_lon:.4f} "
        f"+lat_1={center_lat - 2:.4f} +lat_2={center_lat + 2:.4f} +datum=WGS84 +units=m +no_defs"
    )


def compute_coverage(
    regions: Sequence[tuple[str, Mapping[str, Any]]],
    points: Sequence[tuple[float, float]],
    *,
    distance_m: float,
    max_gaps: int = 5,
    min_gap_km2: float = 0.5,
    resolution: int = 8,
) -> list[CoverageResult]:
    """Per region (adcode, GeoJSON geometry in WGS-84): the share of its area within `distance_m`
    of any point (lat, lon), and its largest uncovered patches (centre lat/lon, km²).

    Points outside a region still cover its border areas. Geometry is projected to an equal-area
    plane; circles are buffered with `resolution` segments per quarter (≤ 2 % area error).
    """
    import geopandas as gpd
    import shapely
    from shapely.geometry import shape

    if distance_m <= 0:
        raise ValueError("distance_m must be positive")
    geoms_ll = [(adcode, shape(geom)) for adcode, geom in regions if geom]
    if not geoms_ll:
        return []
    counties = gpd.GeoSeries([g for _a, g in geoms_ll], crs="EPSG:4326")
    west, south, east, north = counties.total_bounds
    crs = metric_crs(float((south + north) / 2), float((west + east) / 2))
    projected = counties.to_crs(crs).make_valid()
    pts = np.asarray(points, dtype=np.float64).reshape(-1, 2)
    if len(pts):
        centres = gpd.GeoSeries.from_xy(pts[:, 1], pts[:, 0], crs="EPSG:4326").to_crs(crs)
        px, py = centres.x.to_numpy(), centres.y.to_numpy()
        circles = centres.buffer(distance_m, quad_segs=resolution).to_numpy()
        circle_tree = shapely.STRtree(circles)
    else:
        circles = np.array([], dtype=object)
        circle_tree = None
    results: list[CoverageResult] = []
    gaps_found: list[tuple[int, list[Any]]] = []  # (result position, its largest patches)
    for (adcode, _g), geom in zip(geoms_ll, projected.to_numpy(), strict=True):
        area = float(geom.area)
        if area <= 0:
            continue
        if circle_tree is not None:
            hits = circle_tree.query(geom, predicate="intersects")
            inside = int(np.count_nonzero(shapely.contains_xy(geom, px[hits], py[hits])))
            covered_union = shapely.union_all(circles[hits]) if len(hits) else None
        else:
            hits, inside, covered_union = np.array([], dtype=np.int64), 0, None
        uncovered = geom.difference(covered_union) if covered_union is not None else geom
        uncovered_area = float(uncovered.area)
        patches = sorted(shapely.get_parts(uncovered), key=lambda g: g.area, reverse=True) if uncovered_area else []
        kept = []
        for patch in patches[:max_gaps]:
            if float(patch.area) / 1e6 < min_gap_km2:
                break
            kept.append(patch)
        gaps_found.append((len(results), kept))
        results.append(
            CoverageResult(
                adcode=adcode,
                area_km2=round(area / 1e6, 2),
                covered_share=round(max(0.0, min(1.0, 1 - uncovered_area / area)), 4),
                uncovered_km2=round(uncovered_area / 1e6, 2),
                points=inside,
                gaps=[],
            )
        )
    # Every gap's centre back to WGS-84 in one to_crs.
    patches_all = [p for _i, kept in gaps_found for p in kept]
    if patches_all:
        centres_ll = gpd.GeoSeries([p.representative_point() for p in patches_all], crs=crs).to_crs("EPSG:4326")
        lons, lats = centres_ll.x.tolist(), centres_ll.y.tolist()
        n = 0
        for i, kept in gaps_found:
            for patch in kept:
                results[i].gaps.append(
                    {"lat": round(lats[n], 5), "lon": round(lons[n], 5), "area_km2": round(float(patch.area) / 1e6, 2)}
                )
                n += 1
    return results

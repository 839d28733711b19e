"""The demo hall registry's fixed choices: sizes, counts, opening hours, window layouts, specs.

Shared by the plan (demo.hall_plan) and the writer (demo.hall_store); see demo.hall_registry.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass, field
from pathlib import Path

from halls.models import HallLevel, WindowKind

log = logging.getLogger(__name__)

DATA_DIR = Path(__file__).resolve().parent / "data"
PROVINCE = "520000"

SIZES = ("default", "large")
TOWNSHIP_STATIONS = 1_500
KIOSKS = 300
# Published: 17,000-19,000 village (community) service points; with the ~2,000 other points the
# map then holds ~20,000 points.
VILLAGE_STATIONS = 18_000
MIN_TOWNSHIPS_PER_COUNTY = 6
MIN_KIOSKS_PER_COUNTY = 2
MIN_VILLAGES_PER_COUNTY = 40

BATCH_SIZE = 2_000

HOURS_COMPREHENSIVE = "工作日 09:00-12:00，13:00-17:00"
HOURS_BRANCH = "工作日 09:00-12:00，13:00-17:00"
HOURS_TOWNSHIP = "工作日 09:00-12:00，14:00-17:30"
HOURS_KIOSK = "24小时"
HOURS_VILLAGE = "工作日 09:00-17:00（村（社区）干部轮流值守）"

TB, GI, IS, CO = (
    WindowKind.TONGBAN_INTAKE.value,
    WindowKind.GENERAL_INTAKE.value,
    WindowKind.ISSUING.value,
    WindowKind.CONSULTATION.value,
)
KIND_FIELDS = (TB, GI, IS, CO)

# Windows of comprehensive halls, in number order: (count, kinds). Every one has 通办 intake
# windows (also general intake), issuing windows that print results, and consultation.
COMPREHENSIVE_LAYOUT: dict[str, list[tuple[int, frozenset[str]]]] = {
    HallLevel.PROVINCE: [(6, frozenset({TB, GI})), (10, frozenset({GI})), (4, frozenset({IS})), (2, frozenset({CO}))],
    HallLevel.CITY: [(4, frozenset({TB, GI})), (8, frozenset({GI})), (3, frozenset({IS})), (2, frozenset({CO}))],
    HallLevel.COUNTY: [(2, frozenset({TB, GI})), (4, frozenset({GI})), (2, frozenset({IS})), (1, frozenset({CO}))],
}


@dataclass(frozen=True)
class BranchTemplate:
    suffix: str
    name: str
    # A department kind matches when its code or name contains one of these.
    kind_keywords: tuple[str, ...]
    # An item matches when its name contains one of these.
    item_keywords: tuple[str, ...]
    # Chance that a county (not a city seat) has this branch as well.
    county_share: float


BRANCH_TEMPLATES: tuple[BranchTemplate, ...] = (
    BranchTemplate(
        "B01",
        "公安出入境分厅",
        ("公安", "police", "public_security"),
        ("出入境", "护照", "港澳", "台湾", "签证", "通行证"),
        0.0,
    ),
    BranchTemplate(
        "B02", "公安车管分厅", ("公安", "police", "public_security"), ("机动车", "驾驶", "车辆", "号牌", "驾照"), 0.25
    ),
    BranchTemplate(
        "B03",
        "不动产登记分厅",
        ("自然资源", "不动产", "国土", "natural_resources", "land"),
        ("不动产", "房屋", "土地"),
        0.5,
    ),
    BranchTemplate(
        "B04",
        "社保医保分厅",
        ("人力资源", "社会保障", "医疗保障", "医保", "social", "medical", "hrss"),
        ("社会保险", "养老", "医疗保险", "医保", "社保", "失业", "工伤", "生育保险"),
        0.3,
    ),
)
MAX_BRANCH_ITEMS = 60

# What township/village centres handle most (帮办代办): social insurance, social assistance,
# household and civil affairs, rural housing. Order is priority.
HIGH_FREQUENCY_KEYWORDS = (
    "养老保险",
    "医疗保险",
    "医保",
    "社会保险",
    "社保卡",
    "最低生活保障",
    "低保",
    "残疾",
    "高龄",
    "老年",
    "生育",
    "户籍",
    "户口",
    "居住证",
    "临时救助",
    "特困",
    "婚姻",
    "就业",
    "宅基地",
    "农村",
)
STATION_ITEMS = 10
VILLAGE_ITEMS = 5
KIOSK_ITEMS = 8


@dataclass(frozen=True)
class WindowSpec:
    number: str
    kinds: frozenset[str]
    items: tuple[int, ...] = ()  # item ids; empty = every item the kinds allow


@dataclass
class HallSpec:
    code: str
    name: str
    type: str
    level: str
    region_id: str
    address: str
    lat: float
    lon: float
    opening_hours: str
    phone: str
    is_synthetic: bool
    windows: list[WindowSpec] = field(default_factory=list)


HALL_FIELDS = ("name", "type", "level", "region_id", "address", "lat", "lon", "opening_hours", "phone", "is_synthetic")


@dataclass
class County:
    adcode: str
    name: str
    city_adcode: str
    city_name: str
    lat: float
    lon: float
    area_km2: float
    is_district: bool

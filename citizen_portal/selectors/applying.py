"""Applying online: the jurisdictions (属地) to name, the delivery halls to choose (就近打证)."""

from __future__ import annotations

from dataclasses import dataclass

from django.db.models import QuerySet

from govmap.models import Region
from halls.models import Hall, HallType
from services.models import Item


@dataclass(frozen=True)
class RegionGroup:
    """A city/prefecture and the regions under it that can be chosen (an <optgroup>)."""

    city: Region
    options: list[Region]


_REGION_FIELDS = ("adcode", "name", "level", "parent_id")


def _light_regions() -> QuerySet[Region]:
    # Never load the boundaries (large GeoJSON documents) for a picker.
    return Region.objects.only(*_REGION_FIELDS).order_by("adcode")


def jurisdiction_groups(item: Item, province: str = "520000") -> tuple[list[Region], list[RegionGroup]]:
    """The jurisdictions (属地) an applicant can name for ``item``, grouped by city.

    A county-level item is decided by a county's department: only counties can name it. A city-level
    item accepts the city itself or any of its counties (routing climbs to the city); a province-level
    item also accepts the province. Returns (top-level options, groups).
    """
    regions = list(_light_regions().filter(adcode__startswith=province[:2]))
    cities = [r for r in regions if r.level == "city"]
    counties: dict[str, list[Region]] = {}
    for r in regions:
        if r.level == "county" and r.parent_id:
            counties.setdefault(r.parent_id, []).append(r)
    top = [r for r in regions if r.level == "province"] if item.handling_level == "province" else []
    with_city = item.handling_level in ("province", "city")
    groups = [
        RegionGroup(city=c, options=([c] if with_city else []) + counties.get(c.adcode, []))
        for c in cities
        if with_city or counties.get(c.adcode)
    ]
    return top, groups


def county_groups(province: str = "520000") -> list[RegionGroup]:
    """Every county grouped by its city: where to look for a delivery hall."""
    regions = list(_light_regions().filter(adcode__startswith=province[:2], level__in=["city", "county"]))
    by_city: dict[str, list[Region]] = {}
    for r in regions:
        if r.level == "county" and r.parent_id:
            by_city.setdefault(r.parent_id, []).append(r)
    return [RegionGroup(city=c, options=by_city.get(c.adcode, [])) for c in regions if c.level == "city"]


def region_by_code(adcode: str) -> Region | None:
    return _light_regions().filter(adcode=(adcode or "").strip()).first() if adcode else None


def home_region(user: object) -> Region | None:
    """The county of the citizen's household registration as the ID number records it (its first six
    digits): a sensible default 属地. An ID keeps the code of first registration, so this is only a
    default the applicant can change; None when the code is unknown or the account has no ID."""
    from accounts.protect import reveal

    protected = getattr(user, "id_number_protected", "")
    if not protected:
        return None
    try:
        number = reveal(protected)
    except Exception:  # a key rotation or a corrupt value must not break the form
        return None
    return region_by_code(number[:6]) if len(number) == 18 else None


_HALL_TYPE_RANK = {
    HallType.COMPREHENSIVE.value: 0,
    HallType.BRANCH.value: 1,
    HallType.STATION.value: 2,
    HallType.KIOSK.value: 3,
}
_HALL_LEVEL_RANK = {"province": 0, "city": 1, "county": 2, "township": 3, "village": 4}


def delivery_halls(region: Region | str | None) -> list[Hall]:
    """Halls under ``region`` with an issuing window (就近打证), the main service centres first."""
    from halls.selectors import halls_with_issuing_window

    if region in (None, ""):
        return []
    halls = list(
        halls_with_issuing_window(region)
        .select_related("region")
        .only("code", "name", "type", "level", "address", "opening_hours", "region__adcode", "region__name")
    )
    # Centres before township stations; a county's own centre before a city's hall in that county.
    halls.sort(key=lambda h: (_HALL_TYPE_RANK.get(str(h.type), 9), _HALL_LEVEL_RANK.get(str(h.level), 9), h.code))
    return halls


def default_delivery_hall(region: Region | None) -> Hall | None:
    """Where a result is printed unless the applicant chooses otherwise: the first issuing hall of
    the jurisdiction's county (or, for a city / province jurisdiction, of that region)."""
    halls = delivery_halls(region) if region is not None else []
    return halls[0] if halls else None


_JURISDICTION_LEVELS = {"county": ("county",), "city": ("city", "county"), "province": ("province", "city", "county")}


def default_jurisdiction(item: Item, user: object, code: str = "") -> Region | None:
    """The 属地 the form shows: the one asked for, else the household registration's county when it
    can name the item's authority."""
    if code:
        return region_by_code(code)
    home = home_region(user)
    if home is None or home.level not in _JURISDICTION_LEVELS.get(item.handling_level, ()):
        return None
    return home


@dataclass(frozen=True)
class HallChoice:
    """The delivery-hall picker: the county searched, its issuing halls and the one selected."""

    region: Region | None
    halls: list[Hall]
    selected: str


def hall_choice(jurisdiction: Region | None, region_code: str = "", hall_code: str = "") -> HallChoice:
    """The county asked for, else the county of the jurisdiction's default hall (就近打证); the hall
    asked for if it is one of that county's issuing halls, else the first of them."""
    region = region_by_code(region_code)
    if region is None and jurisdiction is not None:
        default = default_delivery_hall(jurisdiction)
        if default is not None:
            region = region_by_code(str(default.region_id))
            hall_code = hall_code or default.code
    halls = delivery_halls(region) if region is not None else []
    if not any(h.code == hall_code for h in halls):
        hall_code = halls[0].code if halls else ""
    return HallChoice(region=region, halls=halls, selected=hall_code)

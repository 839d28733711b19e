"""Reads of the geographic core.

Administrative regions are public reference data (GB/T 2260 codes and boundaries), the same for
every caller, so these selectors are not narrowed by jurisdiction.
"""

from __future__ import annotations

from django.db.models import QuerySet
from django.http import Http404
from django.utils.translation import gettext as _

from govmap import geo
from govmap.models import Region, RegionLevel

# Everything but the (large) boundary: lists never need it.
_LIGHT_FIELDS = ("adcode", "name", "level", "parent_id", "lat", "lon", "area_km2", "source")


def list_regions(*, level: str | None = None, parent: str | None = None) -> QuerySet[Region]:
    """Regions ordered by adcode, optionally of one level and/or directly under one parent."""
    qs = Region.objects.only(*_LIGHT_FIELDS).order_by("adcode")
    if level:
        qs = qs.filter(level=RegionLevel(level))
    if parent:
        qs = qs.filter(parent_id=parent)
    return qs


def get_region(adcode: str, *, with_boundary: bool = False) -> Region:
    """One region; Http404 if unknown."""
    qs = Region.objects.all() if with_boundary else Region.objects.only(*_LIGHT_FIELDS)
    region = qs.filter(adcode=adcode).first()
    if region is None:
        raise Http404(_("没有这个行政区划。"))
    return region


def regions_at(lat: float, lon: float) -> tuple[Region, Region | None] | None:
    """(county, its city or None) containing the WGS-84 point, or None outside every county.

    Raises ValueError for coordinates out of range.
    """
    hit = geo.county_and_parent_at(lat, lon)
    if hit is None:
        return None
    county_code, parent_code = hit
    found = Region.objects.only(*_LIGHT_FIELDS).in_bulk([c for c in (county_code, parent_code) if c])
    county = found.get(county_code)
    if county is None:  # deleted since the index was built; the next lookup rebuilds it
        return None
    parent = found.get(parent_code) if parent_code else None
    # A county directly under a province (省直辖县) has no city.
    city = parent if parent is not None and parent.level == RegionLevel.CITY else None
    return county, city

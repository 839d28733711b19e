"""Reads for the citizens' site: city sites, zones, items and where to get them done."""

from __future__ import annotations

from dataclasses import dataclass

from django.db.models import Count, Q, QuerySet

from govmap.models import Region
from halls.models import Hall, HallType
from services.models import IndustryZone, Item


@dataclass(frozen=True)
class CitySite:
    """One of Guizhou's ten city sites: nine cities/prefectures plus 贵安新区 (a national new area
    that is not an administrative region of its own; its site shows its service centre)."""

    key: str
    name: str
    region: Region | None
    hall: Hall | None


GUIAN_KEY = "guian"


def city_sites(province: str = "520000") -> list[CitySite]:
    cities = list(Region.objects.filter(level="city", parent_id=province).order_by("adcode"))
    halls = {h.region.parent_id: h for h in Hall.objects.filter(level="city", type=HallType.COMPREHENSIVE)
             .select_related("region").order_by("code")}
    sites = [CitySite(key=c.adcode, name=c.name, region=c, hall=halls.get(c.adcode)) for c in cities]
    guian = Hall.objects.filter(name__startswith="贵安新区", type=HallType.COMPREHENSIVE).first()
    if guian is not None:
        sites.append(CitySite(key=GUIAN_KEY, name="贵安新区", region=None, hall=guian))
    return sites


def zones_with_counts() -> QuerySet[IndustryZone]:
    return IndustryZone.objects.annotate(n=Count("items", filter=Q(items__is_active=True))).order_by("code")


def halls_of_city(region: Region) -> QuerySet[Hall]:
    prefix = region.adcode[:4]
    return (
        Hall.objects.filter(region__adcode__startswith=prefix, type__in=[HallType.COMPREHENSIVE, HallType.BRANCH],
                            is_active=True)
        .select_related("region")
        .order_by("level", "code")
    )


def popular_items(limit: int = 12) -> QuerySet[Item]:
    return Item.objects.filter(is_active=True, proxy=True).select_related("department_kind").order_by("code")[:limit]

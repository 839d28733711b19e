"""The city sites and their front pages: halls, items, notices, zones; the item guide (办事指南)."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from django.db.models import Count, Q, QuerySet
from django.utils import timezone
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy

from citizen_portal.models import CitySite, SiteNotice
from govmap.models import Region
from halls.models import Hall, HallType
from services.models import IndustryZone, Item
from workflows.models import Case


def city_sites() -> QuerySet[CitySite]:
    """The ten city sites (nine cities/prefectures + 贵安新区), in the administrators' order."""
    return CitySite.objects.filter(is_active=True).select_related("region", "hall").order_by("position", "key")


def city_site(key: str) -> CitySite | None:
    return city_sites().filter(key=(key or "").strip()).first()


def site_for_host(host: str) -> CitySite | None:
    """The site that owns a host name (its own domain), if any: the port is ignored."""
    name = (host or "").split(":", 1)[0].strip().lower()
    return city_sites().filter(host=name).first() if name else None


def site_halls(site: CitySite) -> list[Hall]:
    if site.region is not None:
        return list(halls_of_city(site.region))
    return [site.hall] if site.hall is not None else []


def item_usage() -> dict[int, int]:
    """How often each item is used (cases of all time), for ranking. One GROUP BY."""
    return dict(Case.objects.values_list("item_id").annotate(n=Count("id")).values_list("item_id", "n"))


def site_items(site: CitySite, limit: int = 20) -> list[Item]:
    """Items decided by the city's (or its counties') own departments, the most used first."""
    usage = item_usage()
    items = list(
        Item.objects.filter(is_active=True, handling_level__in=["city", "county"]).select_related("department_kind")
    )
    items.sort(key=lambda i: (-usage.get(i.pk, 0), i.code))
    return items[:limit]


def site_notices(site: CitySite) -> QuerySet[SiteNotice]:
    return site.notices.filter(is_active=True, published_at__lte=timezone.now())


def zones_with_counts() -> QuerySet[IndustryZone]:
    return IndustryZone.objects.annotate(n=Count("items", filter=Q(items__is_active=True))).order_by("code")


def halls_of_city(region: Region) -> QuerySet[Hall]:
    prefix = region.adcode[:4]
    return (
        Hall.objects.filter(
            region__adcode__startswith=prefix, type__in=[HallType.COMPREHENSIVE, HallType.BRANCH], is_active=True
        )
        .select_related("region")
        .order_by("level", "code")
    )


def popular_items(limit: int = 12) -> QuerySet[Item]:
    return Item.objects.filter(is_active=True, proxy=True).select_related("department_kind").order_by("code")[:limit]


# --- the item guide (办事指南) ----------------------------------------------------------------------


@dataclass(frozen=True)
class Guide:
    who_may_apply: str
    conditions: str
    where: str
    samples: dict[int, Any]  # requirement pk → MaterialSample


_LEVEL_WHERE = {
    "province": gettext_lazy("省级%(kind)s政务服务窗口"),
    "city": gettext_lazy("属地市（州）%(kind)s政务服务窗口"),
    "county": gettext_lazy("属地县（市、区）%(kind)s政务服务窗口"),
}


def item_guide(item: Item) -> Guide:
    """Who may apply, conditions and where, as the administrators wrote them; where they wrote
    nothing, what the catalog itself says (handling level, 通办 windows) and the legal basis."""
    from citizen_portal.models import ItemGuide, MaterialSample

    guide = ItemGuide.objects.filter(item=item).first()
    where = str(_LEVEL_WHERE.get(item.handling_level, _LEVEL_WHERE["county"])) % {"kind": item.department_kind.name}
    if item.proxy:
        where += str(_("；也可在全省任一政务服务中心的“跨域通办”窗口异地提交"))
    if item.online:
        where += str(_("；可全程网上办理"))
    samples = {s.requirement_id: s for s in MaterialSample.objects.filter(requirement__item=item)}
    return Guide(
        who_may_apply=guide.who_may_apply if guide else str(_("符合设定依据所规定条件的申请人（详见下方设定依据）")),
        conditions=guide.conditions if guide else "",
        where=(guide.where if guide and guide.where else where),
        samples=samples,
    )

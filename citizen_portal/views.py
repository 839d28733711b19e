"""The citizens' site: home, city sites, zones, item search and item guides."""

from __future__ import annotations

from django.core.exceptions import ValidationError
from django.core.paginator import Paginator
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import get_object_or_404, render
from django.views.decorators.http import require_GET

from citizen_portal import selectors
from govmap.models import Region
from services.models import IndustryZone, Item
from services.selectors import search_items


@require_GET
def home(request: HttpRequest) -> HttpResponse:
    return render(request, "citizen_portal/home.html", {
        "sites": selectors.city_sites(),
        "zones": selectors.zones_with_counts(),
        "popular": selectors.popular_items(),
    })


@require_GET
def items(request: HttpRequest) -> HttpResponse:
    q = request.GET.get("q", "")
    zone = request.GET.get("zone") or None
    mode = request.GET.get("mode") or None
    error = ""
    try:
        qs = search_items(q, mode=mode, zone=zone)
    except ValidationError as exc:
        qs = Item.objects.none()
        error = "；".join(exc.messages)
    page = Paginator(qs, 20).get_page(request.GET.get("page"))
    zone_obj = IndustryZone.objects.filter(code=zone).first() if zone else None
    return render(request, "citizen_portal/items.html",
                  {"page": page, "q": q, "zone": zone_obj, "mode": mode, "error": error},
                  status=400 if error else 200)


@require_GET
def item_detail(request: HttpRequest, code: str) -> HttpResponse:
    item = get_object_or_404(
        Item.objects.select_related("department_kind").prefetch_related("materials", "zones"), code=code, is_active=True
    )
    return render(request, "citizen_portal/item.html", {"item": item})


@require_GET
def city_site(request: HttpRequest, key: str) -> HttpResponse:
    sites = {s.key: s for s in selectors.city_sites()}
    site = sites.get(key)
    if site is None:
        raise Http404
    halls = selectors.halls_of_city(site.region) if site.region else []
    counties = Region.objects.filter(parent=site.region).order_by("adcode") if site.region else []
    return render(request, "citizen_portal/city.html", {"site": site, "halls": halls, "counties": counties})


@require_GET
def zone(request: HttpRequest, code: str) -> HttpResponse:
    zone_obj = get_object_or_404(IndustryZone, code=code)
    items_qs = zone_obj.items.filter(is_active=True).select_related("department_kind").order_by("code")
    return render(request, "citizen_portal/zone.html", {"zone": zone_obj, "items": items_qs})

"""Endpoints behind the map page and the nearest-hall API (top layer: reads halls and ratings).

- GET /api/v1/halls/nearest/?lat=&lon=&k=5&type=&item= → nearest first, great-circle metres
- GET /api/v1/map/halls.geojson?bbox=&type=&item=    → every hall point with live figures
- GET /api/v1/map/counties.geojson                    → county boundaries with coverage / ratings
- GET /api/v1/map/halls/<code>/popup/                 → {"html"} of one hall's popup (escaped)
- GET /api/v1/map/labels.geojson                      → place names: cities, counties, townships

The GeoJSON is data, never markup: the page builds tooltips with escaping and popups come from a
Django template (autoescaped), so a hall named "<script>…" is shown, never run.
"""

from __future__ import annotations

import gzip
import json
import math
import threading
import time
from typing import Any

from django.core.exceptions import ValidationError
from django.db.models import Max
from django.http import Http404, HttpRequest, HttpResponse, JsonResponse
from django.shortcuts import get_object_or_404
from django.template.loader import render_to_string
from django.utils.cache import patch_vary_headers
from django.utils.translation import gettext as _
from django.views.decorators.gzip import gzip_page
from django.views.decorators.http import require_GET
from drf_spectacular.utils import OpenApiParameter, extend_schema, inline_serializer
from rest_framework import permissions, serializers
from rest_framework.request import Request
from rest_framework.response import Response
from rest_framework.views import APIView

from govmap.models import Region, RegionLevel
from halls import live_selectors
from halls.actions import booking_horizon_days
from halls.hall_stats import rating_stats, stats_for_halls
from halls.models import CountyCoverage, Hall, HallLevel, HallType, Window
from halls.queue import hall_categories, service_day, waiting_counts
from services.models import Item

MAX_K = 50


def _float_param(params: Any, name: str, lo: float, hi: float, errors: dict[str, list[str]]) -> float | None:
    raw = params.get(name)
    if raw in (None, ""):
        errors[name] = [_("必填。")]
        return None
    try:
        value = float(raw)
    except (TypeError, ValueError):
        errors[name] = [_("应为数字。")]
        return None
    if not math.isfinite(value) or not lo <= value <= hi:
        errors[name] = [_("应在 %(lo)s 到 %(hi)s 之间。") % {"lo": lo, "hi": hi}]
        return None
    return value


class NearestHallsView(APIView):
    """GET /api/v1/halls/nearest/ — the k nearest halls (optionally of a type / taking an item)."""

    permission_classes = [permissions.AllowAny]
    authentication_classes: list[Any] = []  # public and read-only: skip session/CSRF work

    @extend_schema(
        parameters=[
            OpenApiParameter("lat", float, required=True, description="WGS-84 latitude"),
            OpenApiParameter("lon", float, required=True, description="WGS-84 longitude"),
            OpenApiParameter("k", int, description=f"1–{MAX_K}, default 5"),
            OpenApiParameter("type", str, enum=list(HallType.values)),
            OpenApiParameter("item", str, description="item code: halls with a window that takes it"),
        ],
        responses={
            200: inline_serializer(
                "NearestHall",
                {
                    "code": serializers.CharField(),
                    "name": serializers.CharField(),
                    "type": serializers.CharField(),
                    "lat": serializers.FloatField(),
                    "lon": serializers.FloatField(),
                    "distance_m": serializers.FloatField(),
                    "queue_waiting": serializers.IntegerField(),
                },
                many=True,
            )
        },
        tags=["halls"],
    )
    def get(self, request: Request) -> Response:
        params = request.query_params
        errors: dict[str, list[str]] = {}
        lat = _float_param(params, "lat", -90, 90, errors)
        lon = _float_param(params, "lon", -180, 180, errors)
        k = 5
        if params.get("k") not in (None, ""):
            try:
                k = int(params["k"])
            except ValueError:
                errors["k"] = [_("应为整数。")]
            else:
                if not 1 <= k <= MAX_K:
                    errors["k"] = [_("应在 1 到 %(max)s 之间。") % {"max": MAX_K}]
        if errors:
            raise serializers.ValidationError(errors)
        assert lat is not None and lon is not None
        found = live_selectors.nearest_halls(
            lat=lat, lon=lon, k=k, type=params.get("type") or None, item=params.get("item") or None
        )
        return Response(found)


# --- GeoJSON of hall points ------------------------------------------------------------------------
#
# At 20,000 points the answer is ~6 MB of JSON. The static part of every feature (code, name,
# type, point) is serialised once per hall-index version; each request only appends the live
# figures, which are sparse (most halls have nobody waiting). Ratings change slowly and are read
# at most once a minute; whole answers are reused for GEOJSON_TTL seconds, so a crowd of open maps
# refreshing at once costs one build.

_base_lock = threading.Lock()
_base_cache: dict[str, Any] = {"version": None, "rows": [], "prefix": {}}
_ratings_cache: dict[str, Any] = {"at": -1e9, "data": {}}
_answer_lock = threading.Lock()
_answers: dict[tuple[Any, ...], tuple[float, bytes, bytes]] = {}
_ZERO_LIVE = '"queue_waiting":0,"appointments_today":0,"rating_avg":null,"rating_count":0,"bad_count":0}}'


def _geojson_ttl() -> float:
    from django.conf import settings

    return float(settings.MAP_GEOJSON_TTL_SECONDS)


def _base_rows(version: str) -> tuple[str, list[tuple[int, str, str, str, float, float]], dict[int, str]]:
    """(version, rows, per-hall JSON prefix) of every active hall, rebuilt when halls change.

    `version` is the caller's hall_index_version(), read once per request (a cache round trip).
    """
    if _base_cache["version"] != version:
        with _base_lock:
            if _base_cache["version"] != version:
                rows = list(
                    Hall.objects.filter(is_active=True)
                    .order_by("id")
                    .values_list("id", "code", "name", "type", "lat", "lon")
                )
                dumps = json.dumps
                prefix = {
                    hid: (
                        f'{{"type":"Feature","id":{dumps(code, ensure_ascii=False)},'
                        f'"geometry":{{"type":"Point","coordinates":[{round(lon, 5)},{round(lat, 5)}]}},'
                        f'"properties":{{"code":{dumps(code, ensure_ascii=False)},'
                        f'"name":{dumps(name, ensure_ascii=False)},"type":{dumps(htype)},'
                    )
                    for hid, code, name, htype, lat, lon in rows
                }
                _base_cache.update(version=version, rows=rows, prefix=prefix)
                _answers.clear()
    return _base_cache["version"], _base_cache["rows"], _base_cache["prefix"]


def _ratings(ids: list[int]) -> dict[int, tuple[float | None, int, int]]:
    from django.conf import settings

    now = time.monotonic()
    if now - _ratings_cache["at"] > float(settings.MAP_RATINGS_TTL_SECONDS):
        _ratings_cache.update(at=now, data=rating_stats(ids))
    return _ratings_cache["data"]  # type: ignore[no-any-return]


def _live_suffix(hid: int, waiting: dict[int, int], booked: dict[int, int], ratings: dict[int, Any]) -> str:
    w, b, r = waiting.get(hid, 0), booked.get(hid, 0), ratings.get(hid)
    if not (w or b or r):
        return _ZERO_LIVE
    avg, count, bad = r or (None, 0, 0)
    avg_json = "null" if avg is None else repr(round(float(avg), 2))
    return (
        f'"queue_waiting":{w},"appointments_today":{b},"rating_avg":{avg_json},'
        f'"rating_count":{int(count)},"bad_count":{int(bad)}}}}}'
    )


def _parse_bbox(raw: str) -> tuple[float, float, float, float]:
    try:
        parts = [float(p) for p in raw.split(",")]
    except ValueError:
        parts = []
    if len(parts) != 4 or not all(math.isfinite(p) for p in parts):
        raise ValidationError({"bbox": [_("格式应为 minlon,minlat,maxlon,maxlat。")]})
    minlon, minlat, maxlon, maxlat = parts
    if not (-180 <= minlon <= maxlon <= 180 and -90 <= minlat <= maxlat <= 90):
        raise ValidationError({"bbox": [_("范围无效：应满足 minlon ≤ maxlon、minlat ≤ maxlat。")]})
    return minlon, minlat, maxlon, maxlat


def _bad_request(exc: ValidationError) -> JsonResponse:
    errors = {k: [str(m) for m in v] for k, v in exc.message_dict.items()}
    first = next(iter(errors.values()))[0]
    return JsonResponse({"detail": first, "errors": errors}, status=400, json_dumps_params={"ensure_ascii": False})


def _build_geojson(
    version: str,
    bbox: tuple[float, float, float, float] | None,
    hall_type: str | None,
    allowed: frozenset[int] | None,
) -> bytes:
    _version, rows, prefix = _base_rows(version)
    if bbox is not None:
        minlon, minlat, maxlon, maxlat = bbox
        rows = [r for r in rows if minlon <= r[5] <= maxlon and minlat <= r[4] <= maxlat]
    if hall_type:
        rows = [r for r in rows if r[3] == hall_type]
    if allowed is not None:
        rows = [r for r in rows if r[0] in allowed]
    ids = [r[0] for r in rows]
    # Whole-day GROUP BYs (no IN list): cheaper than filtering by 20,000 ids.
    waiting = waiting_counts()
    booked = live_selectors.appointments_today_counts()
    ratings = _ratings([r[0] for r in _base_cache["rows"]]) if ids else {}
    parts = [prefix[hid] + _live_suffix(hid, waiting, booked, ratings) for hid in ids]
    return ('{"type":"FeatureCollection","features":[' + ",".join(parts) + "]}").encode()


@extend_schema(exclude=True)
@require_GET
def halls_geojson(request: HttpRequest) -> HttpResponse:
    """A FeatureCollection of hall points with live figures (queue, bookings, ratings)."""
    try:
        bbox = _parse_bbox(request.GET["bbox"]) if request.GET.get("bbox") else None
        hall_type = request.GET.get("type") or None
        if hall_type and hall_type not in HallType.values:
            raise ValidationError({"type": [_("未知的场所类型：%(v)s") % {"v": hall_type}]})
        item = request.GET.get("item") or None
        version = live_selectors.hall_index_version()
        allowed = live_selectors.hall_ids_for_item(item, version=version) if item else None
    except ValidationError as exc:
        return _bad_request(exc)
    key = (version, bbox, hall_type, item)
    now = time.monotonic()
    cached = _answers.get(key)
    if cached is None or now - cached[0] > _geojson_ttl():
        with _answer_lock:
            cached = _answers.get(key)
            if cached is None or now - cached[0] > _geojson_ttl():
                body = _build_geojson(version, bbox, hall_type, allowed)
                cached = (time.monotonic(), body, gzip.compress(body, compresslevel=5, mtime=0))
                if len(_answers) > 64:
                    _answers.clear()
                _answers[key] = cached
    _at, body, zipped = cached
    wants_gzip = "gzip" in request.headers.get("Accept-Encoding", "")
    response = HttpResponse(zipped if wants_gzip else body, content_type="application/geo+json; charset=utf-8")
    if wants_gzip:
        response["Content-Encoding"] = "gzip"
    patch_vary_headers(response, ["Accept-Encoding"])
    response["Cache-Control"] = "no-cache"
    return response


# --- county layer ----------------------------------------------------------------------------------

_county_lock = threading.Lock()
_county_cache: dict[str, Any] = {"key": None, "body": b"", "at": 0.0}


def _rating_by_county() -> dict[str, tuple[float | None, int]]:
    """Weighted rating average and count per county, from the rating provider (if any)."""
    halls = list(Hall.objects.filter(is_active=True).values_list("id", "region_id"))
    # Ratings only: stats_for_halls would also count queues and bookings this layer never shows.
    ratings = rating_stats([h for h, _r in halls])
    totals: dict[str, list[float]] = {}
    for hid, region in halls:
        avg, count, _bad = ratings.get(hid, (None, 0, 0))
        if count and avg is not None:
            t = totals.setdefault(region, [0.0, 0])
            t[0] += avg * count
            t[1] += count
    return {r: ((t[0] / t[1]) if t[1] else None, int(t[1])) for r, t in totals.items()}


@extend_schema(exclude=True)
@require_GET
@gzip_page
def counties_geojson(request: HttpRequest) -> HttpResponse:
    """County boundaries (the map's base layer) with coverage share and satisfaction."""
    counties = Region.objects.filter(level=RegionLevel.COUNTY, boundary__isnull=False)
    key = f"{counties.count()}:{CountyCoverage.objects.aggregate(m=Max('computed_at'))['m']}"
    now = time.monotonic()
    if _county_cache["key"] != key or now - _county_cache["at"] > 60:
        with _county_lock:
            coverage = {c.region_id: c for c in CountyCoverage.objects.all()}
            ratings = _rating_by_county()
            features = []
            for region in counties.only("adcode", "name", "parent_id", "boundary", "area_km2"):
                cov = coverage.get(region.adcode)
                avg, count = ratings.get(region.adcode, (None, 0))
                features.append(
                    {
                        "type": "Feature",
                        "id": region.adcode,
                        "geometry": region.boundary,
                        "properties": {
                            "adcode": region.adcode,
                            "name": region.name,
                            "parent": region.parent_id,
                            "coverage": None if cov is None else cov.covered_share,
                            "coverage_distance_m": None if cov is None else cov.distance_m,
                            "uncovered_km2": None if cov is None else cov.uncovered_km2,
                            "rating_avg": None if avg is None else round(avg, 2),
                            "rating_count": count,
                        },
                    }
                )
            body = json.dumps(
                {"type": "FeatureCollection", "features": features}, ensure_ascii=False, separators=(",", ":")
            ).encode()
            _county_cache.update(key=key, body=body, at=now)
    response = HttpResponse(_county_cache["body"], content_type="application/geo+json; charset=utf-8")
    response["Cache-Control"] = "max-age=60"
    return response


# --- place names (the offline reference layer) ----------------------------------------------------
#
# No tiles: without a tile server the only names on the map are ours. Cities and counties come
# from the shipped regions (their representative point is always inside the boundary), townships
# from the township service centres, whose names are "<township>便民服务中心". Each label carries
# the zoom from which the page shows it, so the province view is not buried under 1,500 names.

LABEL_MIN_ZOOM = {"city": 6, "county": 8, "township": 11}
# Close in, a city's name at its centre only hides the county and township names around it.
LABEL_MAX_ZOOM = {"city": 9, "county": 14, "township": 18}
TOWNSHIP_SUFFIX = "便民服务中心"
_labels_lock = threading.Lock()
_labels_cache: dict[str, Any] = {"key": None, "body": b""}


def township_name(hall_name: str) -> str:
    return hall_name[: -len(TOWNSHIP_SUFFIX)] if hall_name.endswith(TOWNSHIP_SUFFIX) else hall_name


def _label(name: str, kind: str, lat: float, lon: float, code: str) -> dict[str, Any]:
    return {
        "type": "Feature",
        "id": f"{kind}:{code}",
        "geometry": {"type": "Point", "coordinates": [round(lon, 5), round(lat, 5)]},
        "properties": {"name": name, "kind": kind, "min_zoom": LABEL_MIN_ZOOM[kind], "max_zoom": LABEL_MAX_ZOOM[kind]},
    }


@extend_schema(exclude=True)
@require_GET
@gzip_page
def labels_geojson(request: HttpRequest) -> HttpResponse:
    """Place-name points: cities and counties (shipped regions) and townships (township centres)."""
    key = f"{live_selectors.hall_index_version()}:{Region.objects.filter(lat__isnull=False).count()}"
    if _labels_cache["key"] != key:
        with _labels_lock:
            if _labels_cache["key"] != key:
                features = [
                    _label(name, level, lat, lon, adcode)
                    for adcode, name, level, lat, lon in Region.objects.filter(
                        level__in=[RegionLevel.CITY, RegionLevel.COUNTY], lat__isnull=False, lon__isnull=False
                    )
                    .order_by("adcode")
                    .values_list("adcode", "name", "level", "lat", "lon")
                    if lat is not None and lon is not None  # filtered above; narrows the type
                ]
                features += [
                    _label(township_name(name), "township", lat, lon, code)
                    for code, name, lat, lon in Hall.objects.filter(
                        is_active=True, type=HallType.STATION, level=HallLevel.TOWNSHIP
                    )
                    .order_by("code")
                    .values_list("code", "name", "lat", "lon")
                ]
                body = json.dumps(
                    {"type": "FeatureCollection", "features": features}, ensure_ascii=False, separators=(",", ":")
                ).encode()
                _labels_cache.update(key=key, body=body)
    response = HttpResponse(_labels_cache["body"], content_type="application/geo+json; charset=utf-8")
    response["Cache-Control"] = "max-age=300"
    return response


# --- popup -----------------------------------------------------------------------------------------


def _items_received(hall: Hall, limit: int = 8) -> tuple[list[str], int, list[str]]:
    """Names of items the hall lists explicitly (first `limit`, total) and blanket scopes."""
    intake = Window.objects.filter(hall=hall).filter(general_intake=True) | Window.objects.filter(
        hall=hall, tongban_intake=True
    )
    listed = Item.objects.filter(windows__in=intake, is_active=True).distinct().order_by("name")
    total = listed.count()
    names = list(listed.values_list("name", flat=True)[:limit])
    blanket: list[str] = []
    for w in intake.prefetch_related("items"):
        if not w.items.all():
            if w.general_intake and _("全部事项（综合收件）") not in blanket:
                blanket.append(_("全部事项（综合收件）"))
            elif w.tongban_intake and _("全部通办事项（异地代收）") not in blanket:
                blanket.append(_("全部通办事项（异地代收）"))
    return names, total, blanket


@extend_schema(exclude=True)
@require_GET
def hall_popup(request: HttpRequest, code: str) -> JsonResponse:
    hall = get_object_or_404(Hall.objects.select_related("region"), code=code)
    if not hall.is_active:
        raise Http404
    stats = stats_for_halls([hall.pk])[hall.pk]
    names, total, blanket = _items_received(hall)
    html = render_to_string(
        "mapview/popup.html",
        {
            "hall": hall,
            "stats": stats,
            "items": names,
            "items_more": max(0, total - len(names)),
            "blanket": blanket,
            # Taking a number and booking need a queue; kiosks have none.
            "categories": hall_categories(hall),
            # Booking looks for free slots from the server's service day, not the browser's clock.
            "today": service_day(),
            "horizon": booking_horizon_days(),
        },
        request=request,
    )
    return JsonResponse(
        {"code": hall.code, "html": html, **stats},
        json_dumps_params={"ensure_ascii": False},
    )

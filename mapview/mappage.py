"""The government-service map page (政务数字地图) at /map/, built with folium.

Top layer: it shows halls, queues and ratings, so it lives apart from the geographic core.

The page carries no hall data: points come from /api/v1/map/halls.geojson and county boundaries
from /api/v1/map/counties.geojson, so its size does not grow with the number of halls. Every
script and stylesheet is served from our static files — folium's CDN defaults are replaced per
element (`default_js` / `default_css` on the instance; `add_js_link` would change the class for
the whole process). No tiles unless MAP_TILE_URL is set: county boundaries are the base layer.
"""

from __future__ import annotations

import base64
import hashlib
import json
import re
from typing import Any

import folium
from branca.element import Element, Figure
from django.conf import settings
from django.http import HttpRequest, HttpResponse
from django.template.loader import render_to_string
from django.templatetags.static import static
from django.urls import reverse
from django.utils.translation import gettext as _
from django.views.decorators.http import require_GET
from folium.elements import JSCSSMixin
from folium.plugins import MarkerCluster
from folium.template import Template

from halls.models import HallType

# Guizhou's centre and a zoom that shows the whole province.
GUIZHOU_CENTER = (26.82, 106.7)
GUIZHOU_ZOOM = 7

# The static files keep their govmap/ prefix (mapview/static/govmap/): their URLs predate the
# split and are referenced from outside the page (tests, cached pages, the offline bundle check).
LEAFLET_JS = "govmap/vendor/leaflet/leaflet.js"
LEAFLET_CSS = "govmap/vendor/leaflet/leaflet.css"
CLUSTER_JS = "govmap/vendor/leaflet.markercluster/leaflet.markercluster.js"
CLUSTER_CSS = "govmap/vendor/leaflet.markercluster/MarkerCluster.css"
CLUSTER_DEFAULT_CSS = "govmap/vendor/leaflet.markercluster/MarkerCluster.Default.css"
# Our client code, split by responsibility (govmap/<name>.js, loaded in this order).
MAP_SCRIPTS = ("map", "map-layers", "map-halls", "map-popup", "map-panel")


class TongbanMapApp(JSCSSMixin):  # type: ignore[misc]
    """Our client code: loads the layers, popups, live refresh, item filter and nearest search."""

    _template = Template(
        """
        {% macro script(this, kwargs) %}
        TongbanMap.init({
            map: {{ this._parent.get_name() }},
            clusters: { {%- for t, c in this.clusters.items() %}{{ t|tojson }}: {{ c.get_name() }},{% endfor -%} },
            layerControl: {{ this.layer_control.get_name() }},
            config: {{ this.config|tojson }}
        });
        {% endmacro %}
        """
    )

    def __init__(
        self, *, clusters: dict[str, MarkerCluster], layer_control: folium.LayerControl, config: dict[str, Any]
    ):
        super().__init__()
        self._name = "TongbanMapApp"
        self.clusters = clusters
        self.layer_control = layer_control
        self.config = config
        # Plain scripts sharing window.TongbanMap, in this order: map.js (helpers, App, init) first,
        # then the modules that add their methods to App (see map.js's header); all 'self' for the CSP.
        self.default_js = [
            (f"tongban_{name.replace('-', '_')}_js", static(f"govmap/{name}.js")) for name in MAP_SCRIPTS
        ]
        self.default_css = [("tongban_map_css", static("govmap/map.css"))]


def map_config() -> dict[str, Any]:
    return {
        "hallsUrl": reverse("mapview:map-halls-geojson"),
        "countiesUrl": reverse("mapview:map-counties-geojson"),
        "nearestUrl": reverse("mapview:halls-nearest"),
        "popupUrl": "/api/v1/map/halls/{code}/popup/",
        "labelsUrl": reverse("mapview:map-labels-geojson"),
        "ticketUrl": "/api/v1/halls/{code}/tickets/",
        "slotsUrl": "/api/v1/halls/{code}/slots/",
        "appointmentsUrl": reverse("halls:appointments"),
        "loginUrl": reverse("accounts:sms-login"),
        "itemsUrl": "/api/v1/items/",
        "refreshMs": int(settings.MAP_REFRESH_SECONDS) * 1000,
        "types": {t.value: str(t.label) for t in HallType},
        "labels": {
            "waiting": _("等候"),
            "people": _("人"),
            "coverage": _("服务覆盖（%(km)s 公里圈）"),
            "satisfaction": _("满意度"),
            "noCoverage": _("未计算"),
            "nearestTitle": _("最近的场所"),
            "none": _("附近没有符合条件的场所。"),
            "locating": _("正在定位…"),
            "noGeo": _("无法获取您的位置，请在地图上点选。"),
            "pickPoint": _("请在地图上点击一个位置"),
            "metres": _("米"),
            "km": _("公里"),
            "you": _("查询位置"),
            "count": _("共 %(n)s 个服务场所"),
            "onlyItem": _("只显示可办理“%(item)s”的场所"),
            "placeNames": _("地名标注"),
            "legendCoverage": _("服务覆盖率"),
            "legendSatisfaction": _("满意度（平均分，满分 5）"),
            "noData": _("无数据"),
            "ticketTaken": _("已取号 %(number)s，前面还有 %(ahead)s 人，预计等候约 %(min)s 分钟。"),
            "loadingSlots": _("正在查询可预约时段…"),
            "noSlots": _("近期没有可预约的时段。"),
            "slotsOn": _("%(date)s 可预约："),
            "booked": _("已预约 %(date)s %(start)s-%(end)s。请按时到场签到。"),
            "signInToBook": _("预约需要先登录。"),
            "signIn": _("短信登录"),
            "routeNeedsPoint": _("请先点“我附近的场所”或“在地图上点选”确定出发位置。"),
            "route": _("直线距离 %(d)s（未考虑道路）"),
            "collapse": _("收起"),
            "expand": _("展开"),
        },
    }


def build_map(*, config: dict[str, Any] | None = None) -> folium.Map:
    """The folium Map object of the page (no data inside; assets all local)."""
    m = folium.Map(
        location=list(GUIZHOU_CENTER),
        zoom_start=GUIZHOU_ZOOM,
        tiles=None,
        prefer_canvas=False,
        control_scale=True,
        width="100%",
        height="100%",
        # Without a tile layer Leaflet knows no zoom range, and marker clustering needs one.
        maxZoom=18,
        minZoom=5,
    )
    m.default_js = [("leaflet", static(LEAFLET_JS))]
    m.default_css = [("leaflet_css", static(LEAFLET_CSS))]
    tile_url = settings.MAP_TILE_URL
    if tile_url:
        folium.TileLayer(
            tiles=tile_url, attr=settings.MAP_TILE_ATTRIBUTION or " ", name=_("底图"), overlay=False
        ).add_to(m)
    clusters: dict[str, MarkerCluster] = {}
    for hall_type in HallType:
        cluster = MarkerCluster(
            name=str(hall_type.label),
            overlay=True,
            control=True,
            show=True,
            options={"chunkedLoading": True, "showCoverageOnHover": False, "maxClusterRadius": 60},
        )
        cluster.default_js = [("markerclusterjs", static(CLUSTER_JS))]
        cluster.default_css = [
            ("markerclustercss", static(CLUSTER_CSS)),
            ("markerclusterdefaultcss", static(CLUSTER_DEFAULT_CSS)),
        ]
        cluster.add_to(m)
        clusters[hall_type.value] = cluster
    layer_control = folium.LayerControl(collapsed=True, position="topright")
    layer_control.add_to(m)
    m.add_child(TongbanMapApp(clusters=clusters, layer_control=layer_control, config=config or map_config()))
    return m


@require_GET
def map_page(request: HttpRequest) -> HttpResponse:
    m = build_map()
    root = m.get_root()
    assert isinstance(root, Figure)
    root.title = _("政务数字地图 · 通办")
    # The side panel (filters, nearest results) is a Django template: autoescaped, translated.
    root.html.add_child(Element(render_to_string("mapview/map_panel.html", request=request)))
    html = root.render()
    response = HttpResponse(html, content_type="text/html; charset=utf-8")
    # folium writes its set-up as inline <script>/<style> blocks. Rather than 'unsafe-inline', the
    # policy (django-csp, settings.CONTENT_SECURITY_POLICY) allows exactly these blocks by hash:
    # injected markup cannot run, and the blocks carry no request data, so the hashes only change
    # with the code (and the language of the labels).
    update: dict[str, list[str]] = {
        "script-src": inline_hashes(html, "script"),
        "style-src": inline_hashes(html, "style"),
    }
    if settings.MAP_TILE_URL:
        update["img-src"] = ["*"]
    response._csp_update = update  # type: ignore[attr-defined]
    return response


_INLINE = {
    tag: re.compile(rf"<{tag}>(.*?)</{tag}>", re.DOTALL)  # attribute-less blocks: folium's own
    for tag in ("script", "style")
}


def inline_hashes(html: str, tag: str) -> list[str]:
    """CSP source expressions ('sha256-…') of the inline <script> or <style> blocks of a page."""
    return sorted(
        {
            "'sha256-" + base64.b64encode(hashlib.sha256(body.encode()).digest()).decode() + "'"
            for body in _INLINE[tag].findall(html)
        }
    )


def config_json() -> str:
    return json.dumps(map_config(), ensure_ascii=False)

"""Full paths of the map page, its GeoJSON/popup endpoints and the nearest-hall API.

They sit in the top layer (they read halls, queues and ratings), so neither govmap (the geographic
core) nor halls routes them. GET /api/v1/halls/nearest/ is under the halls' path but served here:
halls' registry route ``api/v1/halls/<code>/`` requires a digit, so it never takes ``nearest``.
"""

from django.urls import URLPattern, URLResolver, path

from mapview import map_api, mappage

app_name = "mapview"
urlpatterns: list[URLPattern | URLResolver] = [
    path("api/v1/halls/nearest/", map_api.NearestHallsView.as_view(), name="halls-nearest"),
    path("api/v1/map/halls.geojson", map_api.halls_geojson, name="map-halls-geojson"),
    path("api/v1/map/counties.geojson", map_api.counties_geojson, name="map-counties-geojson"),
    path("api/v1/map/halls/<str:code>/popup/", map_api.hall_popup, name="map-hall-popup"),
    path("api/v1/map/labels.geojson", map_api.labels_geojson, name="map-labels-geojson"),
    path("map/", mappage.map_page, name="map"),
]

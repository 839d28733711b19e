from django.urls import URLPattern, URLResolver, path, re_path

from govmap import api

app_name = "govmap"
urlpatterns: list[URLPattern | URLResolver] = [
    path("api/v1/regions/", api.RegionListView.as_view(), name="region-list"),
    path("api/v1/regions/lookup/", api.RegionLookupView.as_view(), name="region-lookup"),
    re_path(r"^api/v1/regions/(?P<adcode>\d{6})/$", api.RegionDetailView.as_view(), name="region-detail"),
]

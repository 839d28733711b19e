"""URLs of the hall registry (full paths). The live side (queues, appointments) is in live_urls.py."""

from django.urls import URLPattern, URLResolver, path, register_converter

from halls import api


class HallCodeConverter:
    """A hall code: letters, digits, '-' and '_', with at least one digit.

    Requiring a digit keeps words such as ``nearest`` (GET /api/v1/halls/nearest/, served by the
    map) out of the detail route whatever the order in which the URL modules are included.
    """

    regex = r"[A-Za-z0-9_-]*[0-9][A-Za-z0-9_-]*"

    def to_python(self, value: str) -> str:
        return value

    def to_url(self, value: str) -> str:
        return value


register_converter(HallCodeConverter, "hallcode")

urlpatterns: list[URLPattern | URLResolver] = [
    path("api/v1/halls/", api.HallListView.as_view(), name="hall-list"),
    path("api/v1/halls/<hallcode:code>/", api.HallDetailView.as_view(), name="hall-detail"),
]

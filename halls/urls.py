from django.urls import URLPattern, URLResolver, include, path

app_name = "halls"
# The registry (halls, windows, posts) and the live side (queues, appointments, boards) are
# owned and evolved separately; each module holds its own full paths.
urlpatterns: list[URLPattern | URLResolver] = [
    path("", include("halls.registry_urls")),
    path("", include("halls.live_urls")),
]

from django.urls import URLPattern, URLResolver

app_name = "citizen_portal"
urlpatterns: list[URLPattern | URLResolver] = []

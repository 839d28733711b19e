from django.urls import URLPattern, URLResolver

app_name = "govmap"
urlpatterns: list[URLPattern | URLResolver] = []

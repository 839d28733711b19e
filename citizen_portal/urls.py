from django.urls import URLPattern, URLResolver, path

from citizen_portal import views

app_name = "citizen_portal"
urlpatterns: list[URLPattern | URLResolver] = [
    path("", views.home, name="home"),
    path("items/", views.items, name="items"),
    path("items/<str:code>/", views.item_detail, name="item"),
    path("sites/<str:key>/", views.city_site, name="city"),
    path("zones/<str:code>/", views.zone, name="zone"),
]

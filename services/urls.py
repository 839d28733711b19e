from django.urls import URLPattern, URLResolver, path

from services import api

app_name = "services"
urlpatterns: list[URLPattern | URLResolver] = [
    path("api/v1/items/", api.ItemListView.as_view(), name="item-list"),
    path("api/v1/items/<str:code>/", api.ItemDetailView.as_view(), name="item-detail"),
    path("api/v1/departments/", api.DepartmentListView.as_view(), name="department-list"),
]

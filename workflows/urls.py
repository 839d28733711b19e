from django.urls import URLPattern, URLResolver, path

from workflows import api

app_name = "workflows"
urlpatterns: list[URLPattern | URLResolver] = [
    path("api/v1/cases/", api.CaseListCreateView.as_view(), name="api-cases"),
    path("api/v1/cases/repeated-corrections/", api.RepeatedCorrectionsView.as_view(), name="api-repeated-corrections"),
    path("api/v1/cases/<str:number>/", api.CaseDetailView.as_view(), name="api-case"),
    path("api/v1/cases/<str:number>/materials/", api.CaseMaterialsView.as_view(), name="api-case-materials"),
    path(
        "api/v1/cases/<str:number>/transitions/<str:transition>/",
        api.CaseTransitionView.as_view(),
        name="api-case-transition",
    ),
]

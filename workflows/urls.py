from django.urls import URLPattern, URLResolver, path

from workflows import api, unmask_views, views

app_name = "workflows"
urlpatterns: list[URLPattern | URLResolver] = [
    # API (API.md § Cases)
    path("api/v1/cases/", api.CaseListCreateView.as_view(), name="api-cases"),
    path("api/v1/cases/repeated-corrections/", api.RepeatedCorrectionsView.as_view(), name="api-repeated-corrections"),
    path("api/v1/cases/<str:number>/", api.CaseDetailView.as_view(), name="api-case"),
    path("api/v1/cases/<str:number>/materials/", api.CaseMaterialsView.as_view(), name="api-case-materials"),
    path(
        "api/v1/cases/<str:number>/materials/<int:material_id>/file/",
        api.MaterialFileView.as_view(),
        name="api-material-file",
    ),
    path(
        "api/v1/cases/<str:number>/materials/<int:material_id>/preview/",
        api.MaterialPreviewView.as_view(),
        name="api-material-preview",
    ),
    path("api/v1/cases/<str:number>/material-views/", api.MaterialViewsView.as_view(), name="api-material-views"),
    path(
        "api/v1/cases/<str:number>/transitions/<str:transition>/",
        api.CaseTransitionView.as_view(),
        name="api-case-transition",
    ),
    path("api/v1/cases/<str:number>/unmask/", unmask_views.CaseUnmaskView.as_view(), name="api-case-unmask"),
    path("api/v1/audit/personal-data/", unmask_views.AccessLogView.as_view(), name="api-personal-data-log"),
    path("supervision/personal-data/", unmask_views.access_log_page, name="personal-data"),
    path("supervision/personal-data/export.csv", unmask_views.access_log_export, name="personal-data-export"),
    # Workbenches
    path("workbench/", views.home, name="home"),
    path("workbench/clerk/", views.clerk, name="clerk"),
    path("workbench/approver/", views.approver, name="approver"),
    path("workbench/cases/", views.cases, name="cases"),
    path("workbench/pick/<str:kind>/", views.pick, name="pick"),
    path("workbench/items/<str:code>/facts/", views.item_facts, name="item-facts"),
    path("workbench/cases/<str:number>/", views.case_detail, name="case"),
    path("workbench/cases/<str:number>/materials/", views.case_material, name="case-material"),
    path("workbench/cases/<str:number>/unmask/", unmask_views.case_unmask_page, name="case-unmask"),
    path("workbench/cases/<str:number>/transitions/<str:transition>/", views.case_transition, name="case-transition"),
]

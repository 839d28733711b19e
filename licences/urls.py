from django.urls import URLPattern, URLResolver, path

from licences import api, views

app_name = "licences"
urlpatterns: list[URLPattern | URLResolver] = [
    path("api/v1/cases/<str:number>/result.pdf", api.ResultPdfView.as_view(), name="api-case-result-pdf"),
    path("api/v1/cases/<str:number>/reusable/", api.CaseReusableView.as_view(), name="api-case-reusable"),
    path("api/v1/cases/<str:number>/consents/", api.CaseConsentsView.as_view(), name="api-case-consents"),
    path("api/v1/cases/<str:number>/reuse-grants/", api.CaseReuseGrantsView.as_view(), name="api-case-reuse-grants"),
    path(
        "api/v1/cases/<str:number>/reuse-grants/<int:grant_id>/confirm/",
        api.CaseReuseGrantConfirmView.as_view(),
        name="api-case-reuse-grant-confirm",
    ),
    path("api/v1/reuse-grants/", api.MyReuseGrantsView.as_view(), name="api-my-reuse-grants"),
    path(
        "api/v1/reuse-grants/<int:grant_id>/approve/",
        api.MyReuseGrantApproveView.as_view(),
        name="api-reuse-grant-approve",
    ),
    path("api/v1/results/public-key/", api.PublicKeyView.as_view(), name="api-public-key"),
    path("api/v1/results/keys/", api.KeysView.as_view(), name="api-keys"),
    path("api/v1/results/verify/", api.PayloadVerifyView.as_view(), name="api-verify-payload"),
    path("api/v1/results/<str:result_id>/verify/", api.ResultVerifyView.as_view(), name="api-verify"),
    path("api/v1/results/<str:result_id>/revoke/", api.RevokeView.as_view(), name="api-revoke"),
    path("api/v1/e-licences/", api.ELicenceListView.as_view(), name="api-e-licences"),
    path("verify/<str:result_id>/", views.verify_page, name="verify"),
]

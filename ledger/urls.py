from django.urls import URLPattern, URLResolver, path

from ledger import api

app_name = "ledger"
urlpatterns: list[URLPattern | URLResolver] = [
    path("api/v1/ledger/verify/", api.LedgerVerifyView.as_view(), name="api-verify"),
    path("api/v1/ledger/proof/<int:entry_id>/", api.ProofView.as_view(), name="api-proof"),
    path("api/v1/ledger/roots/", api.RootsView.as_view(), name="api-roots"),
]

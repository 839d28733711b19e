from django.urls import URLPattern, URLResolver, path

from ratings import api

app_name = "ratings"
urlpatterns: list[URLPattern | URLResolver] = [
    # API (API.md § Cases: rating; § Ratings and supervision)
    path("api/v1/cases/<str:number>/rating/", api.CaseRatingView.as_view(), name="api-case-rating"),
    # (not under api/v1/tickets/<id>/…: halls owns that prefix with a <transition> catch-all)
    path("api/v1/ratings/pads/", api.TicketPadView.as_view(), name="api-ticket-pad"),
    path("api/v1/ratings/pad/", api.PadRatingView.as_view(), name="api-pad-rating"),
    path("api/v1/ratings/summary/", api.SummaryView.as_view(), name="api-summary"),
    path("api/v1/ratings/counties/", api.CountySatisfactionView.as_view(), name="api-counties"),
    path("api/v1/ratings/<int:pk>/appeal/", api.RatingAppealView.as_view(), name="api-appeal"),
    path("api/v1/appeals/<int:pk>/<str:decision>/", api.AppealDecisionView.as_view(), name="api-appeal-decision"),
    path("api/v1/rectifications/", api.RectificationListView.as_view(), name="api-rectifications"),
    path("api/v1/rectifications/<int:pk>/", api.RectificationDetailView.as_view(), name="api-rectification"),
    path(
        "api/v1/rectifications/<int:pk>/<str:transition>/",
        api.RectificationTransitionView.as_view(),
        name="api-rectification-transition",
    ),
]

from django.urls import URLPattern, URLResolver, path

from ratings import api, views

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
    # Citizens: rate online, by SMS link, at the window pad
    path("ratings/cases/<str:number>/", views.rate_case_page, name="rate-case"),
    path("ratings/sms/<str:token>/", views.rate_by_link, name="rate-sms"),
    path("ratings/pad/<str:token>/", views.pad, name="pad"),
    # Public figures
    path("ratings/public/", views.public, name="public"),
    # Supervision
    path("supervision/ratings/", views.dashboard, name="dashboard"),
    path("supervision/ratings/export.<str:fmt>", views.export, name="export"),
    path("supervision/ratings/list/", views.rating_list, name="list"),
    path("supervision/ratings/<int:pk>/", views.rating_detail, name="rating"),
    path("supervision/ratings/<int:pk>/appeal/", views.appeal, name="appeal"),
    path("supervision/appeals/<int:pk>/<str:decision>/", views.decide_appeal, name="decide-appeal"),
    path("supervision/rectifications/", views.rectifications, name="rectifications"),
    path("supervision/rectifications/<int:pk>/", views.rectification_detail, name="rectification"),
    path(
        "supervision/rectifications/<int:pk>/<str:transition>/",
        views.rectification_transition,
        name="rectification-transition",
    ),
]

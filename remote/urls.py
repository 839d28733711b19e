from django.urls import URLPattern, URLResolver, path

from remote import api, views

app_name = "remote"
urlpatterns: list[URLPattern | URLResolver] = [
    # API (API.md style)
    path("api/v1/cases/<str:number>/video-sessions/", api.CaseSessionsView.as_view(), name="api-case-sessions"),
    path("api/v1/video-sessions/<uuid:session_id>/", api.SessionDetailView.as_view(), name="api-session"),
    path(
        "api/v1/video-sessions/<uuid:session_id>/outcome/", api.SessionOutcomeView.as_view(), name="api-session-outcome"
    ),
    path("api/v1/video-sessions/<uuid:session_id>/end/", api.SessionEndView.as_view(), name="api-session-end"),
    # Pages
    path("workbench/cases/<str:number>/video/start/", views.start, name="start"),
    path("video/<uuid:session_id>/", views.call, name="call"),
    path("video/<uuid:session_id>/end/", views.end, name="end"),
    path("video/j/<str:token>/", views.guest, name="guest"),
]

from django.urls import URLPattern, URLResolver, path

from notifications import views

app_name = "notifications"
urlpatterns: list[URLPattern | URLResolver] = [
    path("api/v1/notifications/twilio/status/", views.twilio_status_callback, name="twilio-status"),
]

"""Full paths of the live side: queues, appointments, live boards.

The map page, its endpoints and the nearest-hall API read halls from above: mapview/urls.py.
"""

from django.urls import URLPattern, URLResolver, path

from halls import live_api, live_views

urlpatterns: list[URLPattern | URLResolver] = [
    # Queue
    path("api/v1/halls/<str:code>/tickets/", live_api.HallTicketsView.as_view(), name="hall-tickets"),
    path("api/v1/halls/<str:code>/queue/", live_api.HallQueueView.as_view(), name="hall-queue"),
    path("api/v1/windows/<int:window_id>/call-next/", live_api.CallNextView.as_view(), name="window-call-next"),
    path("api/v1/tickets/<int:ticket_id>/", live_api.TicketDetailView.as_view(), name="ticket-detail"),
    path(
        "api/v1/tickets/<int:ticket_id>/<str:transition>/",
        live_api.TicketTransitionView.as_view(),
        name="ticket-transition",
    ),
    # Appointments
    path("api/v1/halls/<str:code>/slots/", live_api.HallSlotsView.as_view(), name="hall-slots"),
    path("api/v1/appointments/", live_api.AppointmentsView.as_view(), name="appointments"),
    path(
        "api/v1/appointments/<int:appointment_id>/cancel/",
        live_api.AppointmentCancelView.as_view(),
        name="appointment-cancel",
    ),
    path(
        "api/v1/appointments/<int:appointment_id>/check-in/",
        live_api.AppointmentCheckInView.as_view(),
        name="appointment-check-in",
    ),
    # Live boards
    path("halls/<str:code>/screen/", live_views.call_screen, name="call-screen"),
    path("halls/<str:code>/console/", live_views.clerk_console, name="clerk-console"),
]

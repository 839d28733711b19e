"""Full paths of the live side: queues, appointments, live boards, the map and nearest-hall API.

The map page and its endpoints are views of govmap's top-layer modules (govmap.mappage,
govmap.map_api); their routes live here so that govmap/urls.py stays the geographic core's.
"""

from django.urls import URLPattern, URLResolver, path

from govmap import map_api, mappage
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
    # Nearest hall and the map
    path("api/v1/halls/nearest/", map_api.NearestHallsView.as_view(), name="halls-nearest"),
    path("api/v1/map/halls.geojson", map_api.halls_geojson, name="map-halls-geojson"),
    path("api/v1/map/counties.geojson", map_api.counties_geojson, name="map-counties-geojson"),
    path("api/v1/map/halls/<str:code>/popup/", map_api.hall_popup, name="map-hall-popup"),
    path("api/v1/map/labels.geojson", map_api.labels_geojson, name="map-labels-geojson"),
    path("map/", mappage.map_page, name="map"),
    # Live boards
    path("halls/<str:code>/screen/", live_views.call_screen, name="call-screen"),
    path("halls/<str:code>/console/", live_views.clerk_console, name="clerk-console"),
]

"""REST endpoints of the live side: tickets, call-next, ticket transitions, slots, appointments.

Thin: parse, call one action or selector, respond. Errors take the project's shape
(config/api_errors.py): 400 with field errors, 404 outside the caller's halls, 409 with the state.
"""

from __future__ import annotations

import datetime as dt
from typing import Any

from django.shortcuts import get_object_or_404
from django.utils.translation import gettext as _
from drf_spectacular.utils import OpenApiParameter, OpenApiResponse, extend_schema, inline_serializer
from rest_framework import permissions, serializers, status
from rest_framework.request import Request
from rest_framework.response import Response
from rest_framework.throttling import AnonRateThrottle
from rest_framework.views import APIView

from halls import actions, live_selectors, queue
from halls.models import (
    TICKET_TRANSITIONS,
    Appointment,
    AppointmentSlot,
    Hall,
    QueueTicket,
    TicketPriority,
    Window,
)

# --- serializers -----------------------------------------------------------------------------------


class TicketSerializer(serializers.ModelSerializer):
    hall = serializers.SlugRelatedField(slug_field="code", read_only=True)  # type: ignore[var-annotated]
    window = serializers.SerializerMethodField()
    allowed_transitions = serializers.ListField(child=serializers.CharField(), read_only=True)

    class Meta:
        model = QueueTicket
        fields = [
            "id",
            "number",
            "hall",
            "service_date",
            "category",
            "priority",
            "status",
            "window",
            "issued_at",
            "called_at",
            "serving_at",
            "finished_at",
            "allowed_transitions",
        ]
        read_only_fields = fields

    def get_window(self, obj: QueueTicket) -> str | None:
        return obj.window.number if obj.window_id and obj.window else None


class IssueTicketInput(serializers.Serializer):
    category = serializers.CharField(max_length=16)
    priority = serializers.ChoiceField(
        choices=[(p.value, p.label) for p in (TicketPriority.NORMAL, TicketPriority.ASSISTED)],
        required=False,
        default=TicketPriority.NORMAL,
    )
    phone = serializers.CharField(max_length=32, required=False, allow_blank=True, default="")


class IssuedTicketOutput(serializers.Serializer):
    id = serializers.IntegerField()
    number = serializers.CharField()
    category = serializers.CharField()
    priority = serializers.IntegerField()
    position = serializers.IntegerField(help_text="1 = next to be called")
    estimated_wait_s = serializers.IntegerField()


def _issued(issued: actions.IssuedTicket) -> dict[str, Any]:
    t = issued.ticket
    return {
        "id": t.pk,
        "number": t.number,
        "category": t.category,
        "priority": t.priority,
        "position": issued.position,
        "estimated_wait_s": issued.estimated_wait_s,
    }


class SlotSerializer(serializers.ModelSerializer):
    free = serializers.IntegerField(read_only=True)

    class Meta:
        model = AppointmentSlot
        fields = ["id", "date", "start", "end", "category", "capacity", "booked", "free"]
        read_only_fields = fields


class AppointmentSerializer(serializers.ModelSerializer):
    hall = serializers.SlugRelatedField(slug_field="code", read_only=True)  # type: ignore[var-annotated]
    hall_name = serializers.CharField(source="hall.name", read_only=True)
    start = serializers.TimeField(source="slot.start", read_only=True)
    end = serializers.TimeField(source="slot.end", read_only=True)
    ticket = serializers.SerializerMethodField()

    class Meta:
        model = Appointment
        fields = ["id", "hall", "hall_name", "date", "start", "end", "category", "status", "ticket", "created_at"]
        read_only_fields = fields

    def get_ticket(self, obj: Appointment) -> str | None:
        return obj.ticket.number if obj.ticket_id and obj.ticket else None


class BookInput(serializers.Serializer):
    slot = serializers.IntegerField()
    phone = serializers.CharField(max_length=32, required=False, allow_blank=True, default="")
    item = serializers.CharField(max_length=64, required=False, allow_blank=True, default="")


class QueueStateSerializer(serializers.Serializer):
    type = serializers.CharField()
    hall = serializers.CharField()
    waiting = serializers.IntegerField()
    waiting_by_category = serializers.DictField(child=serializers.IntegerField())
    called = serializers.ListField(child=serializers.DictField())
    at = serializers.DateTimeField()


# --- queue -----------------------------------------------------------------------------------------


class TicketMachineThrottle(AnonRateThrottle):
    # A ticket machine is public; this only stops a script from emptying a day's numbers.
    rate = "120/hour"


class HallTicketsView(APIView):
    """POST /api/v1/halls/<code>/tickets/ — take a number (ticket machine, app or clerk)."""

    permission_classes = [permissions.AllowAny]
    throttle_classes = [TicketMachineThrottle]

    @extend_schema(request=IssueTicketInput, responses={201: IssuedTicketOutput}, tags=["queue"])
    def post(self, request: Request, code: str) -> Response:
        hall = get_object_or_404(Hall, code=code, is_active=True)
        data = IssueTicketInput(data=request.data)
        data.is_valid(raise_exception=True)
        issued = actions.issue_ticket(
            hall=hall,
            category=data.validated_data["category"],
            priority=data.validated_data["priority"],
            phone=data.validated_data["phone"],
            actor=request.user,  # type: ignore[arg-type]
        )
        return Response(_issued(issued), status=status.HTTP_201_CREATED)


class HallQueueView(APIView):
    """GET /api/v1/halls/<code>/queue/ — the board as the WebSocket sends it (for polling clients)."""

    permission_classes = [permissions.AllowAny]

    @extend_schema(responses={200: QueueStateSerializer}, tags=["queue"])
    def get(self, request: Request, code: str) -> Response:
        hall = get_object_or_404(Hall, code=code, is_active=True)
        return Response(queue.queue_state(hall.pk))


class CallNextView(APIView):
    """POST /api/v1/windows/<id>/call-next/ — 200 with the ticket, 204 when nobody waits."""

    permission_classes = [permissions.IsAuthenticated]

    @extend_schema(
        request=inline_serializer(
            "CallNextInput", {"categories": serializers.ListField(child=serializers.CharField(), required=False)}
        ),
        responses={200: TicketSerializer, 204: OpenApiResponse(description=_("队列为空"))},
        tags=["queue"],
    )
    def post(self, request: Request, window_id: int) -> Response:
        window = Window.objects.select_related("hall").filter(pk=window_id).first()
        if window is None or not actions.is_posted_at_hall(request.user, window.hall_id):  # type: ignore[arg-type]
            return Response({"detail": _("未找到。")}, status=status.HTTP_404_NOT_FOUND)
        categories = request.data.get("categories") if isinstance(request.data, dict) else None
        if categories is not None and not (
            isinstance(categories, list) and all(isinstance(c, str) for c in categories)
        ):
            raise serializers.ValidationError({"categories": [_("应为排队类别代码的列表。")]})
        ticket = actions.call_next(window=window, actor=request.user, categories=categories)  # type: ignore[arg-type]
        if ticket is None:
            return Response(status=status.HTTP_204_NO_CONTENT)
        return Response(TicketSerializer(ticket).data)


class TicketDetailView(APIView):
    """GET /api/v1/tickets/<id>/ — staff at the hall, or the citizen who holds it."""

    permission_classes = [permissions.IsAuthenticated]

    @extend_schema(responses={200: TicketSerializer}, tags=["queue"])
    def get(self, request: Request, ticket_id: int) -> Response:
        ticket = get_object_or_404(QueueTicket.objects.select_related("hall", "window"), pk=ticket_id)
        user = request.user
        if ticket.applicant_id != user.pk and not actions.is_posted_at_hall(user, ticket.hall_id):  # type: ignore[arg-type]
            return Response({"detail": _("未找到。")}, status=status.HTTP_404_NOT_FOUND)
        data = dict(TicketSerializer(ticket).data)
        ahead = queue.waiting_ahead(ticket)
        data["position"] = ahead + 1 if ticket.status == "waiting" else 0
        data["estimated_wait_s"] = queue.estimate_wait_seconds(ticket.hall_id, ticket.category, ahead)
        return Response(data)


class TicketTransitionView(APIView):
    """POST /api/v1/tickets/<id>/<start|finish|no_show|transfer|recall>/."""

    permission_classes = [permissions.IsAuthenticated]

    @extend_schema(
        request=inline_serializer("TicketTransitionInput", {"category": serializers.CharField(required=False)}),
        responses={200: TicketSerializer},
        tags=["queue"],
    )
    def post(self, request: Request, ticket_id: int, transition: str) -> Response:
        if transition not in TICKET_TRANSITIONS:
            return Response({"detail": _("未找到。")}, status=status.HTTP_404_NOT_FOUND)
        category = request.data.get("category", "") if isinstance(request.data, dict) else ""
        ticket = actions.transition_ticket(
            ticket_id=ticket_id,
            transition=transition,
            actor=request.user,  # type: ignore[arg-type]
            category=str(category or ""),
        )
        return Response(TicketSerializer(ticket).data)


# --- appointments ----------------------------------------------------------------------------------


def _parse_date(raw: str | None, field: str = "date") -> dt.date:
    if not raw:
        return queue.service_day()
    try:
        return dt.date.fromisoformat(raw)
    except ValueError:
        raise serializers.ValidationError({field: [_("日期格式应为 YYYY-MM-DD。")]}) from None


class HallSlotsView(APIView):
    """GET /api/v1/halls/<code>/slots/?date=&category= — bookable periods with free places."""

    permission_classes = [permissions.AllowAny]

    @extend_schema(
        parameters=[
            OpenApiParameter("date", str, description="YYYY-MM-DD (default: today)"),
            OpenApiParameter("category", str),
        ],
        responses={200: SlotSerializer(many=True)},
        tags=["appointments"],
    )
    def get(self, request: Request, code: str) -> Response:
        hall = get_object_or_404(Hall, code=code, is_active=True)
        day = _parse_date(request.query_params.get("date"))
        slots = live_selectors.slots_for(hall=hall, day=day, category=request.query_params.get("category") or None)
        return Response(SlotSerializer(slots, many=True).data)


class AppointmentsView(APIView):
    """GET /api/v1/appointments/ (mine; staff: ?hall=&date=) · POST /api/v1/appointments/ (book)."""

    permission_classes = [permissions.IsAuthenticated]

    @extend_schema(
        parameters=[OpenApiParameter("hall", str), OpenApiParameter("date", str)],
        responses={200: AppointmentSerializer(many=True)},
        tags=["appointments"],
    )
    def get(self, request: Request) -> Response:
        hall_code = request.query_params.get("hall")
        if hall_code:
            hall = get_object_or_404(Hall, code=hall_code)
            if not actions.is_posted_at_hall(request.user, hall.pk):  # type: ignore[arg-type]
                return Response({"detail": _("未找到。")}, status=status.HTTP_404_NOT_FOUND)
            qs = live_selectors.appointments_at(hall=hall, day=_parse_date(request.query_params.get("date")))
        else:
            qs = live_selectors.appointments_of(user=request.user)  # type: ignore[arg-type]
        return Response(AppointmentSerializer(qs[:500], many=True).data)

    @extend_schema(
        request=BookInput,
        responses={
            201: AppointmentSerializer,
            409: OpenApiResponse(description=_("时段已约满：suggestions 列出附近有空余的场所")),
        },
        tags=["appointments"],
    )
    def post(self, request: Request) -> Response:
        data = BookInput(data=request.data)
        data.is_valid(raise_exception=True)
        slot = AppointmentSlot.objects.select_related("hall").filter(pk=data.validated_data["slot"]).first()
        if slot is None:
            raise serializers.ValidationError({"slot": [_("预约时段不存在。")]})
        item_id = None
        if data.validated_data["item"]:
            from services.models import Item

            item_id = Item.objects.filter(code=data.validated_data["item"]).values_list("pk", flat=True).first()
            if item_id is None:
                raise serializers.ValidationError({"item": [_("未知的事项编码。")]})
        try:
            appointment = actions.book_appointment(
                slot=slot,
                actor=request.user,  # type: ignore[arg-type]
                phone=data.validated_data["phone"],
                item_id=item_id,
            )
        except actions.SlotFull as full:
            full.extra["suggestions"] = live_selectors.nearby_free_slots(
                hall=slot.hall, day=slot.date, category=slot.category, after=slot.start
            )
            raise
        appointment = Appointment.objects.select_related("hall", "slot", "ticket").get(pk=appointment.pk)
        return Response(AppointmentSerializer(appointment).data, status=status.HTTP_201_CREATED)


class AppointmentCancelView(APIView):
    permission_classes = [permissions.IsAuthenticated]

    @extend_schema(request=None, responses={200: AppointmentSerializer}, tags=["appointments"])
    def post(self, request: Request, appointment_id: int) -> Response:
        appointment = actions.cancel_appointment(appointment_id=appointment_id, actor=request.user)  # type: ignore[arg-type]
        appointment = Appointment.objects.select_related("hall", "slot", "ticket").get(pk=appointment.pk)
        return Response(AppointmentSerializer(appointment).data)


class AppointmentCheckInView(APIView):
    """POST /api/v1/appointments/<id>/check-in/ → 201 a priority ticket."""

    permission_classes = [permissions.IsAuthenticated]

    @extend_schema(request=None, responses={201: IssuedTicketOutput}, tags=["appointments"])
    def post(self, request: Request, appointment_id: int) -> Response:
        issued = actions.check_in_appointment(appointment_id=appointment_id, actor=request.user)  # type: ignore[arg-type]
        return Response(_issued(issued), status=status.HTTP_201_CREATED)

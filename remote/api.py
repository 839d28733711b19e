"""Video-session API (API.md style): start or join-the-open-one, read, record the outcome, end.

The media never passes through here; the signalling is the WebSocket ``/ws/remote/<id>/``."""

from __future__ import annotations

from django.http import Http404
from drf_spectacular.utils import OpenApiResponse, extend_schema
from rest_framework import generics, status
from rest_framework.permissions import IsAuthenticated
from rest_framework.request import Request
from rest_framework.response import Response
from rest_framework.views import APIView

from remote import actions, selectors
from remote.models import VideoSession
from remote.serializers import OutcomeInSerializer, RecordOutSerializer, SessionInSerializer, SessionOutSerializer
from workflows import selectors as case_selectors


def _session(request: Request, session_id: str) -> VideoSession:
    session = selectors.session_for_viewer(session_id, request.user)  # type: ignore[arg-type]
    if session is None:
        raise Http404
    actions.expire_if_due(session)  # a session nobody joined in time reads as expired
    return session


class CaseSessionsView(generics.ListAPIView):
    """A case's video sessions (anyone who may see the case); POST starts one or returns the open one."""

    permission_classes = [IsAuthenticated]
    serializer_class = SessionOutSerializer
    pagination_class = None

    def get_queryset(self):  # type: ignore[no-untyped-def]
        case = case_selectors.case_for(self.request.user, self.kwargs["number"])  # type: ignore[arg-type]
        if case is None:
            raise Http404
        return selectors.sessions_of(case).prefetch_related("records__recorded_by", "records__event")

    @extend_schema(
        request=SessionInSerializer,
        responses={
            201: SessionOutSerializer,
            200: OpenApiResponse(SessionOutSerializer, description="a session was already open: join it"),
            403: OpenApiResponse(description="not the receiving window nor the authority of this case"),
            404: OpenApiResponse(description="unknown case, or outside the caller's jurisdiction"),
            409: OpenApiResponse(description="the case is not in a state where this check is done"),
        },
    )
    def post(self, request: Request, number: str) -> Response:
        case = case_selectors.case_for(request.user, number)  # type: ignore[arg-type]
        if case is None:
            raise Http404
        body = SessionInSerializer(data=request.data or {})
        body.is_valid(raise_exception=True)
        started = actions.start_session(case=case, actor=request.user, kind=body.validated_data["kind"])  # type: ignore[arg-type]
        return Response(
            SessionOutSerializer(started.session, context={"request": request}).data,
            status=status.HTTP_201_CREATED if started.created else status.HTTP_200_OK,
        )


class SessionDetailView(APIView):
    permission_classes = [IsAuthenticated]

    @extend_schema(responses={200: SessionOutSerializer, 404: OpenApiResponse(description="unknown or out of scope")})
    def get(self, request: Request, session_id: str) -> Response:
        return Response(SessionOutSerializer(_session(request, session_id), context={"request": request}).data)


class SessionOutcomeView(APIView):
    """Record what the connected call established: identity confirmed, originals confirmed, or
    refused (with a reason). A verification record and a case event in the ledger, together."""

    permission_classes = [IsAuthenticated]

    @extend_schema(
        request=OutcomeInSerializer,
        responses={
            201: RecordOutSerializer,
            400: OpenApiResponse(description="unknown outcome, or refused without a reason"),
            403: OpenApiResponse(description="not one of the session's staff sides"),
            409: OpenApiResponse(description="the call never connected, or this outcome is already recorded"),
        },
    )
    def post(self, request: Request, session_id: str) -> Response:
        session = _session(request, session_id)
        body = OutcomeInSerializer(data=request.data)
        body.is_valid(raise_exception=True)
        record = actions.record_outcome(
            session=session,
            actor=request.user,  # type: ignore[arg-type]
            outcome=body.validated_data["outcome"],
            reason=body.validated_data.get("reason", ""),
        )
        return Response(RecordOutSerializer(record).data, status=status.HTTP_201_CREATED)


class SessionEndView(APIView):
    permission_classes = [IsAuthenticated]

    @extend_schema(
        request=None,
        responses={
            200: SessionOutSerializer,
            403: OpenApiResponse(description="not a side"),
            409: OpenApiResponse(description="already over"),
        },
    )
    def post(self, request: Request, session_id: str) -> Response:
        session = actions.end_session(session=_session(request, session_id), actor=request.user)  # type: ignore[arg-type]
        return Response(SessionOutSerializer(session, context={"request": request}).data)

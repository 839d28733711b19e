"""Shapes of the video-session API (API.md style)."""

from __future__ import annotations

from typing import Any

from django.urls import reverse
from drf_spectacular.utils import extend_schema_field
from rest_framework import serializers

from remote.models import Outcome, SessionKind, VerificationRecord, VideoSession


class SessionInSerializer(serializers.Serializer):
    kind = serializers.ChoiceField(choices=SessionKind.choices, default=SessionKind.STAFF)


class OutcomeInSerializer(serializers.Serializer):
    outcome = serializers.ChoiceField(choices=Outcome.choices)
    reason = serializers.CharField(required=False, allow_blank=True, max_length=2000)


class RecordOutSerializer(serializers.ModelSerializer):
    recorded_by = serializers.CharField(source="recorded_by.username")
    event_seq = serializers.IntegerField(source="event.seq")

    class Meta:
        model = VerificationRecord
        fields = ["id", "outcome", "reason", "recorded_by", "recorded_side", "recorded_at", "event_seq"]


class SessionOutSerializer(serializers.ModelSerializer):
    case = serializers.CharField(source="case.number")
    call_url = serializers.SerializerMethodField(help_text="the call page (browser, session login)")
    websocket = serializers.SerializerMethodField(help_text="the signalling WebSocket path")
    records = RecordOutSerializer(many=True, read_only=True)

    class Meta:
        model = VideoSession
        fields = [
            "id",
            "case",
            "kind",
            "state",
            "started_side",
            "started_at",
            "join_deadline",
            "connected_at",
            "ended_at",
            "call_url",
            "websocket",
            "records",
        ]

    def get_call_url(self, s: VideoSession) -> str:
        path = reverse("remote:call", args=[s.pk])
        request = self.context.get("request")
        return request.build_absolute_uri(path) if request is not None else path

    @extend_schema_field(serializers.CharField())
    def get_websocket(self, s: VideoSession) -> str:
        return f"/ws/remote/{s.pk}/"

    def to_representation(self, instance: Any) -> dict[str, Any]:
        return dict(super().to_representation(instance))

"""Shapes of the ratings API (API.md § Ratings and supervision)."""

from __future__ import annotations

from typing import Any

from rest_framework import serializers

from ratings.models import Rating, Rectification


class RatingInSerializer(serializers.Serializer):
    level = serializers.IntegerField(min_value=1, max_value=5)
    comment = serializers.CharField(required=False, allow_blank=True, max_length=1000)
    indicators = serializers.DictField(child=serializers.IntegerField(min_value=1, max_value=5), required=False)


class PadRatingInSerializer(RatingInSerializer):
    token = serializers.CharField(max_length=128)


class RatingOutSerializer(serializers.ModelSerializer):
    level_label = serializers.CharField(source="get_level_display")
    case = serializers.SerializerMethodField()
    hall = serializers.SerializerMethodField()
    window = serializers.SerializerMethodField()
    counted = serializers.BooleanField()

    class Meta:
        model = Rating
        fields = [
            "id",
            "kind",
            "channel",
            "level",
            "level_label",
            "indicators",
            "comment",
            "case",
            "hall",
            "window",
            "rated_at",
            "counted",
        ]

    def get_case(self, obj: Rating) -> str | None:
        return obj.case.number if obj.case is not None else None

    def get_hall(self, obj: Rating) -> str | None:
        return obj.hall.code if obj.hall is not None else None

    def get_window(self, obj: Rating) -> str | None:
        return obj.window.number if obj.window_id and obj.window else None


class SummarySerializer(serializers.Serializer):
    count = serializers.IntegerField()
    by_level = serializers.DictField(child=serializers.IntegerField())
    satisfaction_rate = serializers.FloatField(allow_null=True)
    bad_count = serializers.IntegerField()
    rectified_on_time_rate = serializers.FloatField(allow_null=True)
    average = serializers.FloatField(allow_null=True)
    rectifications = serializers.IntegerField()
    overdue_open = serializers.IntegerField()


class RectificationSerializer(serializers.ModelSerializer):
    state_label = serializers.CharField(source="get_state_display")
    rating = serializers.SerializerMethodField()
    hall = serializers.SerializerMethodField()
    department = serializers.SerializerMethodField()
    owner = serializers.CharField(source="owner_name", read_only=True)
    assignee = serializers.SerializerMethodField()
    overdue = serializers.SerializerMethodField()
    available_transitions = serializers.SerializerMethodField()

    class Meta:
        model = Rectification
        fields = [
            "id",
            "state",
            "state_label",
            "rating",
            "hall",
            "department",
            "owner",
            "responsible_post",
            "county_code",
            "assignee",
            "opened_at",
            "deadline",
            "overdue",
            "escalation_level",
            "escalated_at",
            "measures",
            "reply",
            "replied_at",
            "replied_on_time",
            "callback_result",
            "callback_note",
            "callback_at",
            "closed_at",
            "counted",
            "available_transitions",
        ]

    def get_rating(self, obj: Rectification) -> dict[str, Any]:
        r = obj.rating
        return {
            "id": r.pk,
            "level": r.level,
            "kind": r.kind,
            "subject": r.subject_label,
            "comment": r.comment,
            "rated_at": r.rated_at.isoformat(),
        }

    def get_hall(self, obj: Rectification) -> str | None:
        return obj.hall.code if obj.hall_id and obj.hall else None

    def get_department(self, obj: Rectification) -> str | None:
        return obj.department.code if obj.department_id and obj.department else None

    def get_assignee(self, obj: Rectification) -> str | None:
        if obj.assignee is None:
            return None
        return obj.assignee.real_name or obj.assignee.get_username()

    def get_overdue(self, obj: Rectification) -> bool:
        from django.utils import timezone

        return obj.state in ("open", "rectifying") and obj.deadline < timezone.now()

    def get_available_transitions(self, obj: Rectification) -> list[str]:
        from ratings.actions import allowed_transitions

        request = self.context.get("request")
        return allowed_transitions(getattr(request, "user", None), obj)


class RectificationTransitionSerializer(serializers.Serializer):
    measures = serializers.CharField(required=False, allow_blank=True, max_length=2000)
    reply = serializers.CharField(required=False, allow_blank=True, max_length=300)
    result = serializers.ChoiceField(choices=["satisfied", "unsatisfied", "unreachable"], required=False)
    note = serializers.CharField(required=False, allow_blank=True, max_length=2000)
    reason = serializers.CharField(required=False, allow_blank=True, max_length=2000)


class AppealInSerializer(serializers.Serializer):
    reason = serializers.CharField(max_length=2000)


class AppealDecisionSerializer(serializers.Serializer):
    note = serializers.CharField(required=False, allow_blank=True, max_length=2000)


class AppealSerializer(serializers.Serializer):
    id = serializers.IntegerField()
    rating = serializers.IntegerField(source="rating_id")
    state = serializers.CharField()
    reason = serializers.CharField()
    filed_at = serializers.DateTimeField()
    decided_at = serializers.DateTimeField(allow_null=True)
    decision_note = serializers.CharField()


class PadInSerializer(serializers.Serializer):
    ticket = serializers.IntegerField()


class PadOutSerializer(serializers.Serializer):
    token = serializers.CharField()
    url = serializers.CharField()
    expires_at = serializers.DateTimeField()

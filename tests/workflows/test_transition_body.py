"""TransitionBodySerializer builds only the fields a JSON body gives: the outcome is DRF's own."""

from __future__ import annotations

from typing import Any

import pytest
from django.http import QueryDict
from rest_framework import serializers

from workflows.serializers import TransitionBodySerializer


class EveryField(TransitionBodySerializer):
    """DRF's generic path: every declared field copied for every instance."""

    def get_fields(self) -> dict[str, serializers.Field]:
        return serializers.Serializer.get_fields(self)


BODIES: list[Any] = [
    {},
    {"id_checked": True, "originals_sighted": ["id_card"]},
    {"collector_id_number": "520102199001011234"},
    {"reason": "x" * 2001},
    {"id_checked": "maybe", "originals_sighted": "id_card"},
    {"items": [{"requirement": "id_card", "reason": "模糊"}, {"reason": ""}]},
    {"items": "nope", "notes": {"1": "ok"}, "blank_serials": {"R1": None}},
    {"by_proxy": True, "collector_name": "李四", "authorisation": "委托书", "authorisation_checked": False},
    {"unknown": 1, "tracking_number": "SF123"},
    {"legal_basis": None, "reason": 5},
    [],
    ["verify"],
    "text",
    None,
]


def _outcome(cls: type[serializers.Serializer], data: Any) -> tuple[bool, Any, Any]:
    s = cls(data=data)
    valid = s.is_valid()
    return valid, (dict(s.validated_data) if valid else None), s.errors


@pytest.mark.parametrize("body", BODIES, ids=range(len(BODIES)))
def test_json_bodies_validate_as_with_every_field(body):
    assert _outcome(TransitionBodySerializer, body) == _outcome(EveryField, body)


def test_form_bodies_and_the_schema_get_every_field():
    form = QueryDict("reason=x&tracking_number=SF1")
    assert _outcome(TransitionBodySerializer, form) == _outcome(EveryField, form)
    assert _outcome(TransitionBodySerializer, form)[1]["id_checked"] is False  # an absent checkbox
    assert list(TransitionBodySerializer().fields) == list(EveryField().fields)
    assert list(TransitionBodySerializer(data={"reason": "x"}).fields) == ["reason"]

"""Create a case; take a transition (the approve call also takes the system's issue and queue_print,
as the real workflow does in the same transaction)."""

from __future__ import annotations

import hashlib
import itertools
import json
import os
from typing import Any

from django.db import transaction
from django.utils import timezone
from django_fsm import TransitionNotAllowed
from rest_framework.request import Request
from rest_framework.response import Response
from rest_framework.views import APIView

from floor.models import FloorCase, FloorEvent, FloorOutbox

CHAIN = {"approve": ["approve", "issue", "queue_print"]}
NAMES = {"verify", "transfer", "accept", "start_review", "approve", "print", "hand_over"}
_numbers = itertools.count(1)


def _event(case: FloorCase, name: str, from_state: str, actor: Any, now: Any) -> FloorEvent:
    case.last_event_seq += 1
    payload = {"case": case.number, "seq": case.last_event_seq, "transition": name, "to": case.state}
    digest = hashlib.sha256((case.last_hash + json.dumps(payload, sort_keys=True)).encode()).hexdigest()
    event = FloorEvent(
        case=case,
        seq=case.last_event_seq,
        transition=name,
        from_state=from_state,
        to_state=case.state,
        actor=actor,
        at=now,
        payload=payload,
        prev_hash=case.last_hash,
        hash=digest,
    )
    case.last_hash = digest
    return event


def _outbox(case: FloorCase, name: str) -> None:
    FloorOutbox.objects.create(to="13800138000", template=f"case_{name}", body=f"{case.number} {case.state}")


class CasesView(APIView):
    def post(self, request: Request) -> Response:
        with transaction.atomic():
            now = timezone.now()
            case = FloorCase(number=f"F{os.getpid()}-{next(_numbers)}", owner=request.user)
            case.save()
            event = _event(case, "receive", "", request.user, now)
            event.save()
            FloorCase.objects.filter(pk=case.pk).update(last_event_seq=case.last_event_seq, last_hash=case.last_hash)
            _outbox(case, "receive")
        return Response({"number": case.number, "id": case.pk, "state": case.state}, status=201)


class TransitionView(APIView):
    def post(self, request: Request, pk: int, name: str) -> Response:
        if name not in NAMES:
            return Response({"detail": "unknown transition"}, status=404)
        with transaction.atomic():
            case = FloorCase.objects.select_for_update().get(pk=pk)  # the lock
            now = timezone.now()
            events = []
            for step in CHAIN.get(name, [name]):
                from_state = case.state
                try:
                    getattr(case, step)()
                except TransitionNotAllowed:
                    return Response({"detail": "conflict", "state": case.state}, status=409)
                events.append(_event(case, step, from_state, request.user if step == name else None, now))
            case.save(update_fields=["state", "last_event_seq", "last_hash", "updated_at"])
            for event in events:
                event.save()
            _outbox(case, name)
        return Response({"number": case.number, "id": case.pk, "state": case.state})

"""A case with the cases API's proxy path as its state machine, its hash-chained events and an outbox."""

from __future__ import annotations

import uuid

from django.conf import settings
from django.db import models
from django_fsm import ConcurrentTransitionMixin, FSMField, transition


class FloorCase(ConcurrentTransitionMixin, models.Model):
    number = models.CharField(max_length=32, unique=True)
    state = FSMField(default="received", protected=True, db_index=True)
    owner = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+")
    last_event_seq = models.PositiveIntegerField(default=0)
    last_hash = models.CharField(max_length=64, blank=True)
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        app_label = "floor"

    def __str__(self) -> str:
        return self.number

    @transition(field=state, source="received", target="verified")
    def verify(self) -> None: ...

    @transition(field=state, source="verified", target="transferred")
    def transfer(self) -> None: ...

    @transition(field=state, source="transferred", target="accepted")
    def accept(self) -> None: ...

    @transition(field=state, source="accepted", target="under_review")
    def start_review(self) -> None: ...

    @transition(field=state, source="under_review", target="approved")
    def approve(self) -> None: ...

    @transition(field=state, source="approved", target="issued")
    def issue(self) -> None: ...

    @transition(field=state, source="issued", target="print_queued")
    def queue_print(self) -> None: ...

    @transition(field=state, source="print_queued", target="ready_for_pickup")
    def print(self) -> None: ...

    @transition(field=state, source="ready_for_pickup", target="delivered")
    def hand_over(self) -> None: ...


class FloorEvent(models.Model):
    case = models.ForeignKey(FloorCase, on_delete=models.CASCADE, related_name="events")
    seq = models.PositiveIntegerField()
    transition = models.CharField(max_length=32)
    from_state = models.CharField(max_length=20, blank=True)
    to_state = models.CharField(max_length=20)
    actor = models.ForeignKey(settings.AUTH_USER_MODEL, null=True, on_delete=models.PROTECT, related_name="+")
    at = models.DateTimeField()
    payload = models.JSONField(default=dict)
    prev_hash = models.CharField(max_length=64, blank=True)
    hash = models.CharField(max_length=64)

    class Meta:
        app_label = "floor"
        constraints = [models.UniqueConstraint(fields=["case", "seq"], name="floor_event_seq")]

    def __str__(self) -> str:
        return f"{self.case_id}#{self.seq}"


class FloorOutbox(models.Model):
    id = models.UUIDField(primary_key=True, default=uuid.uuid4)
    to = models.CharField(max_length=32)
    template = models.CharField(max_length=64)
    body = models.TextField()
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        app_label = "floor"

    def __str__(self) -> str:
        return f"{self.template} → {self.to}"

"""The system's periodic sweeps: deemed acceptance of overdue cases."""

from __future__ import annotations

from datetime import datetime

from django.core.exceptions import ValidationError
from django.utils import timezone

from workflows.actions.engine import TransitionConflict
from workflows.actions.review import accept
from workflows.models import (
    ACCEPTANCE_STATES,
    Case,
)

# --- the system's deemed acceptance --------------------------------------------------------


def deem_accept_overdue(*, now: datetime | None = None, limit: int = 1000) -> int:
    """Deemed acceptance for every case whose 5 working days passed without an answer.
    One action per case (each gets its event and SMS); returns how many were accepted."""
    now = now or timezone.now()
    ids = list(
        Case.objects.filter(
            state__in=ACCEPTANCE_STATES, auto_accept=True, clock_due_at__lt=now, parent__isnull=True
        ).values_list("pk", flat=True)[:limit]
    ) + list(
        Case.objects.filter(
            state__in=ACCEPTANCE_STATES, auto_accept=True, clock_due_at__lt=now, parent__isnull=False
        ).values_list("pk", flat=True)[:limit]
    )
    done = 0
    for pk in ids:
        case = Case.objects.get(pk=pk)
        try:
            accept(case=case, actor=None, deemed=True)
            done += 1
        except (TransitionConflict, ValidationError):
            continue  # someone answered meanwhile
    return done

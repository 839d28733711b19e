"""The invitation sweep: one rating SMS per finished, still unrated case."""

from __future__ import annotations

import datetime as dt

from django.db import transaction
from django.db.models import F
from django.db.models.functions import Coalesce

from core.links import public_url
from notifications.actions import enqueue_sms
from ratings.actions._common import RATEABLE_STATES, _now
from ratings.actions.rate import sms_link_token
from ratings.models import Invitation
from workflows.models import Case

INVITATION_AFTER = dt.timedelta(days=3)
# Cases that finished longer ago than this are not invited any more (keeps the sweep bounded).
INVITATION_LOOKBACK = dt.timedelta(days=30)


def send_invitations(*, now: dt.datetime | None = None, limit: int = 5000) -> int:
    """Text one rating invitation to the applicant of every case that finished more than 3 days
    ago (and less than 30) and is still unrated. Set-based and idempotent: the Invitation row is
    unique per case and the SMS is enqueued with dedupe_key ``rating-invitation:<case id>``.
    Returns how many invitations were written."""
    now = _now(now)
    finished = Coalesce(F("delivered_at"), F("decided_at"))
    candidates = (
        Case.objects.annotate(finished_at=finished)
        .filter(
            state__in=list(RATEABLE_STATES),
            parent__isnull=True,
            finished_at__lte=now - INVITATION_AFTER,
            finished_at__gte=now - INVITATION_LOOKBACK,
        )
        .exclude(applicant_phone="")
        .filter(rating__isnull=True, rating_invitation__isnull=True)
        .select_related("item")
        .order_by("pk")[:limit]
    )
    sent = 0
    with transaction.atomic():
        rows = list(candidates)
        Invitation.objects.bulk_create([Invitation(case=case, sent_at=now) for case in rows], ignore_conflicts=True)
        for case in rows:
            try:
                enqueue_sms(
                    to=case.applicant_phone,
                    template="rating_invitation",
                    context={
                        "case_number": case.number,
                        "item_name": case.item.name,
                        # The signed link lets the applicant rate from the SMS (channel sms_link).
                        "link": public_url(f"/ratings/sms/{sms_link_token(case)}/"),
                    },
                    dedupe_key=f"rating-invitation:{case.pk}",
                )
            except ValueError:
                continue  # an unusable phone number: the Invitation row stops retrying it forever
            sent += 1
    return sent

"""Writes of the citizens' portal: publishing and retiring policy documents, visitor preferences."""

from __future__ import annotations

from typing import TYPE_CHECKING

from django.core.exceptions import ValidationError
from django.db import transaction
from django.utils import timezone
from django.utils.translation import gettext as _

from citizen_portal.models import PolicyDocument, PolicyStatus

if TYPE_CHECKING:
    from accounts.models import User
    from halls.actions import IssuedTicket
    from halls.models import Hall


def publish_policies(*, ids: list[int]) -> int:
    """Publish drafts (and re-publish retired documents); returns how many changed.

    A document without body text or issuing body is refused and nothing changes: citizens would see
    an empty page.
    """
    with transaction.atomic():
        docs = list(PolicyDocument.objects.select_for_update().filter(pk__in=ids))
        empty = [d.title for d in docs if not d.body.strip() or not d.issuing_body.strip()]
        if empty:
            raise ValidationError(_("以下文件缺少正文或发布机关，未发布：%(t)s") % {"t": "、".join(empty)})
        return (
            PolicyDocument.objects.filter(pk__in=[d.pk for d in docs])
            .exclude(status=PolicyStatus.PUBLISHED)
            .update(status=PolicyStatus.PUBLISHED, retired_at=None)
        )


def retire_policies(*, ids: list[int]) -> int:
    """Retire published documents (废止): they leave the zone's list and search; returns the count."""
    return PolicyDocument.objects.filter(pk__in=ids, status=PolicyStatus.PUBLISHED).update(
        status=PolicyStatus.RETIRED, retired_at=timezone.now()
    )


def take_remote_ticket(*, hall: Hall, category: str, citizen: User) -> IssuedTicket:
    """远程取号: a citizen takes today's number at a hall from the phone.

    One waiting ticket per citizen and hall: asking again returns the ticket already held (with its
    live position) instead of a second number that would hold a second place in the line.
    """
    from halls import actions as hall_actions
    from halls import queue
    from halls.models import QueueTicket, TicketStatus

    codes = [c["code"] for c in queue.hall_categories(hall)]
    if (category or "").strip().upper() not in codes:
        raise ValidationError(
            {"category": [_("该场所没有此排队类别，可选：%(codes)s。") % {"codes": "、".join(codes)}]}
        )
    held = (
        QueueTicket.objects.filter(
            hall=hall, applicant=citizen, service_date=queue.service_day(), status=TicketStatus.WAITING
        )
        .order_by("pk")
        .first()
    )
    if held is not None:
        ahead = queue.waiting_ahead(held)
        return hall_actions.IssuedTicket(
            ticket=held, position=ahead + 1, estimated_wait_s=queue.estimate_wait_seconds(hall.pk, held.category, ahead)
        )
    return hall_actions.issue_ticket(hall=hall, category=category, actor=citizen)

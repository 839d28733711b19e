"""Industry zones: their policy documents and query services (a case by number and ID, queues)."""

from __future__ import annotations

from dataclasses import dataclass

from django.db.models import Q, QuerySet

from citizen_portal.models import PolicyDocument, PolicyStatus
from citizen_portal.selectors.tracking import CaseStatus
from govmap.models import Region
from halls.models import Hall, HallType
from services.models import IndustryZone
from workflows.models import Case, CaseState


def zone_policies(zone: IndustryZone, q: str = "") -> QuerySet[PolicyDocument]:
    """A zone's published policy documents, newest first; `q` searches title, number, body and issuer."""
    qs = PolicyDocument.objects.filter(zones=zone, status=PolicyStatus.PUBLISHED)
    q = (q or "").strip()
    if q:
        qs = qs.filter(
            Q(title__icontains=q) | Q(doc_number__icontains=q) | Q(body__icontains=q) | Q(issuing_body__icontains=q)
        )
    return qs.order_by("-published_on", "id")


def published_policy(pk: int) -> PolicyDocument | None:
    return (
        PolicyDocument.objects.filter(pk=pk, status=PolicyStatus.PUBLISHED).prefetch_related("items", "zones").first()
    )


def public_case(number: str, id_number: str) -> Case | None:
    """查询服务: a case found by its number AND the applicant's ID number (both must match; drafts are
    the applicant's alone and never found). Compares the keyed digest, never the number itself."""
    from accounts.protect import lookup_hash

    number = (number or "").strip().upper()
    id_number = (id_number or "").strip().upper()
    if not number or not id_number:
        return None
    return (
        Case.objects.filter(number=number, applicant_id_hash=lookup_hash(id_number))
        .exclude(state=CaseState.DRAFT)
        .select_related("item", "authority", "delivery_hall")
        .first()
    )


def public_case_status(number: str) -> CaseStatus | None:
    """The tracker's poll for a case already found by number + ID in this session (see the view)."""
    row = (
        Case.objects.filter(number=number)
        .exclude(state=CaseState.DRAFT)
        .values("state", "sla_status", "updated_at", "last_event_seq")
        .first()
    )
    if row is None:
        return None
    return CaseStatus(
        number=number,
        state=row["state"],
        sla_status=row["sla_status"],
        updated_at=row["updated_at"],
        events=row["last_event_seq"],
        children_key="",
    )


@dataclass(frozen=True)
class HallQueue:
    hall: Hall
    waiting: int


def hall_queues(region: Region) -> list[HallQueue]:
    """Halls of a city or county that take tickets, with how many wait now (one GROUP BY)."""
    from halls import queue
    from halls.selectors import region_q

    halls = [
        h
        for h in Hall.objects.filter(region_q(region), is_active=True)
        .exclude(type=HallType.KIOSK)
        .select_related("region")
        .order_by("level", "code")[:200]
        if queue.hall_takes_tickets(h)
    ]
    waiting = queue.waiting_counts([h.pk for h in halls])
    return [HallQueue(hall=h, waiting=waiting.get(h.pk, 0)) for h in halls]

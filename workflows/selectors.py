"""Reads of cases, scoped by the caller's jurisdiction (accounts.scope.scope_for)."""

from __future__ import annotations

from django.db.models import Q, QuerySet

from accounts.models import Role, User
from accounts.scope import scope_for
from workflows.models import ACCEPTANCE_STATES, DECISION_STATES, Case, CaseState, CorrectionNotice, SlaStatus

S = CaseState


def visible_q(user: User | None) -> Q:
    """The cases ``user`` may see: own (applicant), hall (clerks, hall supervisors), authority
    (approvers), region (supervisors, region admins) or everything (province admins).

    A draft is the applicant's alone: until it is submitted it is a private working copy, so no
    staff scope (not even a province admin's) reaches it."""
    scope = scope_for(user)
    if user is None or scope.user_id is None:
        return Q(pk__in=[])
    own = Q(applicant_id=user.pk)
    if scope.everything:
        return own | ~Q(state=S.DRAFT)
    q = Q(pk__in=[])
    if scope.hall_ids:
        halls = list(scope.hall_ids)
        q |= Q(receiving_hall_id__in=halls) | Q(delivery_hall_id__in=halls)
    if scope.department_ids:
        depts = list(scope.department_ids)
        # An approver also sees the joint parent of a sub-case they decide (read only).
        q |= Q(authority_id__in=depts) | Q(children__authority_id__in=depts)
    if scope.region_prefixes:
        q |= (
            scope.region_q("jurisdiction__adcode")
            | scope.region_q("receiving_hall__region__adcode")
            | scope.region_q("authority__region__adcode")
        )
    return own | (q & ~Q(state=S.DRAFT))


def visible_cases(user: User | None) -> QuerySet[Case]:
    return Case.objects.filter(visible_q(user)).distinct()


def case_for(user: User | None, number: str) -> Case | None:
    """One case by number if ``user`` may see it, else None (→ 404, never revealing existence)."""
    return (
        Case.objects.filter(visible_q(user), number=number)
        .select_related("item", "jurisdiction", "authority", "receiving_hall", "delivery_hall", "parent")
        .distinct()
        .first()
    )


def case_list(user: User | None, *, state: str = "", mode: str = "", sla: str = "") -> QuerySet[Case]:
    qs = visible_cases(user).select_related("item", "authority", "receiving_hall", "delivery_hall", "jurisdiction")
    if state:
        qs = qs.filter(state__in=[s for s in state.split(",") if s])
    if mode:
        qs = qs.filter(mode=mode)
    if sla:
        qs = qs.filter(sla_status=sla)
    return qs.order_by("-created_at", "-pk")


def clerk_queue(user: User) -> dict[str, QuerySet[Case]]:
    """The window clerk's workbench: my halls' cases waiting for a window step."""
    scope = scope_for(user)
    halls = list(scope.hall_ids)
    base = Case.objects.select_related("item", "authority", "receiving_hall", "delivery_hall").order_by("created_at")
    return {
        "to_verify": base.filter(receiving_hall_id__in=halls, state=S.RECEIVED, parent__isnull=True),
        "to_transfer": base.filter(receiving_hall_id__in=halls, state=S.VERIFIED),
        "corrections": base.filter(receiving_hall_id__in=halls, state=S.NEEDS_CORRECTION),
        "to_mail": base.filter(
            Q(receiving_hall_id__in=halls) | Q(delivery_hall_id__in=halls), state=S.ISSUED, delivery_method="mail"
        ),
        "to_print": base.filter(delivery_hall_id__in=halls, state=S.PRINT_QUEUED),
        "to_hand_over": base.filter(delivery_hall_id__in=halls, state=S.READY_FOR_PICKUP),
    }


def approver_queue(user: User) -> QuerySet[Case]:
    """The approver's incoming cases (acceptance and decision), most urgent first."""
    scope = scope_for(user)
    open_states = [*ACCEPTANCE_STATES, *DECISION_STATES, S.SUSPENDED, S.NEEDS_CORRECTION]
    return (
        Case.objects.filter(authority_id__in=list(scope.department_ids), state__in=open_states)
        .select_related("item", "receiving_hall", "jurisdiction")
        .order_by("clock_due_at", "created_at")
    )


def sla_counts(qs: QuerySet[Case]) -> dict[str, int]:
    counts = {s.value: 0 for s in SlaStatus}
    for status in qs.exclude(sla_status="").values_list("sla_status", flat=True):
        counts[status] = counts.get(status, 0) + 1
    return counts


def repeated_corrections(user: User | None, *, minimum: int = 2) -> QuerySet[Case]:
    """Cases that needed more than one correction notice (一次性告知 not respected): supervisors'
    view, within their scope."""
    if user is None or (user.role not in (Role.SUPERVISOR, Role.HALL_SUPERVISOR, Role.ADMIN) and not user.is_superuser):
        return Case.objects.none()
    return visible_cases(user).filter(correction_count__gte=minimum).order_by("-correction_count", "-created_at")


def notices(case: Case) -> QuerySet[CorrectionNotice]:
    return case.corrections.order_by("issued_at")

"""Unmasking an applicant's phone or ID number, for staff whose duty needs it — and the log of it.

Staff see applicants' phones and ID numbers masked everywhere (API, workbench, events). A few
duties need the full value: the receiving or delivery window calls the applicant, checks the ID
card at hand-over, or posts a result; the competent authority contacts the applicant about the
decision. Those staff may unmask one field of one case at a time, giving a reason, and every
unmasking is logged (PersonalDataAccess: who, whose, which field, why, when). Supervisors review
the log within their region, on a page and as an export.
"""

from __future__ import annotations

from datetime import date, datetime, time

from django.core.exceptions import ValidationError
from django.db import transaction
from django.db.models import Q, QuerySet
from django.utils import timezone
from django.utils.translation import gettext as _

from accounts.models import Role, User
from core.phones import national
from halls.scope import scope_for
from workflows.models import Case, PersonalDataAccess, UnmaskField
from workflows.rules import Actor

SUPERVISOR_ROLES = (Role.SUPERVISOR, Role.HALL_SUPERVISOR, Role.ADMIN)


class UnmaskForbidden(Exception):
    """The caller sees the case but their duty does not need the full value (403)."""


def duty_needs_unmasking(user: User, case: Case) -> bool:
    """Clerks at the case's receiving or delivery hall, and approvers of its authority (or of one
    of a joint case's parts). Supervisors and admins review masked data and the log, not the data."""
    a = Actor(user)
    if user.role == Role.WINDOW_CLERK:
        return a.clerk_at(case.receiving_hall_id) or a.clerk_at(case.delivery_hall_id)
    if user.role == Role.APPROVER:
        return a.approver_for(case) or case.children.filter(authority_id=user.department_id).exists()
    return False


def unmask(*, actor: User, case: Case, field: str, reason: str) -> str:
    """Return the full value of ``field`` (phone | id_number) of the case's applicant.

    Refused (400, nothing logged) for an unknown field or without a reason; UnmaskForbidden (403)
    when the actor's duty does not cover the case. The caller must already see the case (404 else).
    Side effects: one PersonalDataAccess row, in the same transaction as the read.
    """
    errors: dict[str, list[str]] = {}
    if field not in UnmaskField.values:
        errors["field"] = [_("字段应为 phone 或 id_number。")]
    reason = (reason or "").strip()
    if len(reason) < 2:
        errors["reason"] = [_("请填写查看完整信息的事由（例如：电话通知领证、核对领取人身份）。")]
    if errors:
        raise ValidationError(errors)
    if not duty_needs_unmasking(actor, case):
        raise UnmaskForbidden(_("您的职责不需要查看申请人的完整个人信息。"))
    # Phones are stored in E.164 (core.phones); staff have always been shown the 11 digits they dial.
    value = national(case.applicant_phone) if field == UnmaskField.PHONE else case.applicant_id_number
    with transaction.atomic():
        PersonalDataAccess.objects.create(
            actor=actor,
            actor_role=actor.role,
            case=case,
            subject_name=case.applicant_name,
            subject_id_hash=case.applicant_id_hash,
            field=field,
            reason=reason[:255],
            jurisdiction_code=str(case.jurisdiction_id),
            hall_region_code=str(case.receiving_hall.region_id) if case.receiving_hall else "",
            at=timezone.now(),
        )
    return value


def may_review(user: User | None) -> bool:
    return bool(
        user is not None
        and user.is_authenticated
        and user.is_active
        and (user.is_superuser or user.role in SUPERVISOR_ROLES)
    )


def access_log(
    user: User, *, day_from: date | None = None, day_to: date | None = None, case_number: str = ""
) -> QuerySet[PersonalDataAccess]:
    """The unmaskings a supervisor may review: the province-wide admin all; a region's supervisor
    (or admin) those of cases whose jurisdiction or receiving hall lies in the region; a hall
    supervisor those of cases received or delivered at their halls."""
    if not may_review(user):
        return PersonalDataAccess.objects.none()
    qs = PersonalDataAccess.objects.select_related("actor", "case")
    scope = scope_for(user)
    if not scope.everything:
        q = Q(pk__in=[])
        if scope.region_prefixes:
            q |= scope.region_q("jurisdiction_code") | scope.region_q("hall_region_code")
        if scope.hall_ids:
            halls = list(scope.hall_ids)
            q |= Q(case__receiving_hall_id__in=halls) | Q(case__delivery_hall_id__in=halls)
        qs = qs.filter(q)
    tz = timezone.get_current_timezone()
    if day_from:
        qs = qs.filter(at__gte=datetime.combine(day_from, time.min, tzinfo=tz))
    if day_to:
        qs = qs.filter(at__lte=datetime.combine(day_to, time.max, tzinfo=tz))
    if case_number:
        qs = qs.filter(case__number=case_number)
    return qs.order_by("-at", "-pk")

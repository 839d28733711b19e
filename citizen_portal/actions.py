"""Writes of the citizens' portal: publishing and retiring policy documents, visitor preferences."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

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


def record_assistance(
    *,
    case: Any,
    actor: User,
    kind: str,
    agent_name: str = "",
    agent_id: str = "",
    relation: str = "",
    authorisation_checked: bool = False,
) -> Any:
    """帮办代办: record that `case` was applied for on the applicant's behalf.

    Only staff posted at the hall that received the case may record it (they saw the agent). A clerk
    helping (kind=clerk) is recorded in their own name; a family member or other agent needs a name,
    a valid ID number and, for a non-family agent, the checked written authorisation. Refused with a
    ValidationError (nothing written) otherwise; one record per case.
    """
    from django.core.exceptions import PermissionDenied

    from accounts.identity import validate_applicant_identifier
    from accounts.protect import lookup_hash, mask_id_number
    from citizen_portal.models import AssistedApplication, AssistKind
    from halls.actions import is_posted_at_hall

    if case.receiving_hall_id is None or not is_posted_at_hall(actor, case.receiving_hall_id):
        raise PermissionDenied(_("只有收件场所的工作人员可以登记帮办代办。"))
    errors: dict[str, list[str]] = {}
    if kind not in AssistKind.values:
        errors["kind"] = [_("未知的帮办代办方式。")]
    number = ""
    if kind == AssistKind.CLERK:
        agent_name = actor.real_name or actor.get_username()
    else:
        if not (agent_name or "").strip():
            errors["agent_name"] = [_("请填写代办人姓名。")]
        try:
            _kind, number, _review = validate_applicant_identifier(agent_id)
        except ValidationError as exc:
            errors["agent_id"] = list(exc.messages)
        if kind == AssistKind.OTHER and not authorisation_checked:
            errors["authorisation_checked"] = [_("非亲属代办须核验申请人的书面委托。")]
    if AssistedApplication.objects.filter(case=case).exists():
        errors["case"] = [_("该办件已登记帮办代办。")]
    if errors:
        raise ValidationError(errors)
    return AssistedApplication.objects.create(
        case=case,
        kind=kind,
        agent_name=agent_name.strip(),
        agent_id_masked=mask_id_number(number) if number else "",
        agent_id_hash=lookup_hash(number) if number else "",
        relation=(relation or "").strip()[:32],
        authorisation_checked=authorisation_checked,
        recorded_by=actor,
    )

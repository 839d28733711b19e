"""Creating cases: a window receives one, a citizen starts one online; linking window cases to accounts."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from django.core.exceptions import ValidationError
from django.db import connection, models, transaction
from django.utils import timezone
from django.utils.translation import gettext as _

from accounts.identity import validate_applicant_identifier
from accounts.models import Role, User
from accounts.protect import lookup_hash, protect
from accounts.realname import Verdict
from core.baked import BakedQuery
from core.phones import mainland_mobile
from govmap.models import Region
from halls.models import Hall, Window
from notifications.actions import mark_written, outbox_inserts, staged_sms
from services.models import Department, Item, Mode
from workflows import facts, notify
from workflows.actions.engine import (
    TransitionForbidden,
    _append_event,
    _insert_numbered,
    _next_number,
    hold_created_event,
)
from workflows.models import (
    Case,
    DeliveryMethod,
    Material,
)
from workflows.routing import competent_department, is_cross_region, joint_authorities
from workflows.rules import Actor, intake_window

# Compiled once per process (core.baked): every upload's, verify's, submit's and acceptance's check reads them.
_live_materials = BakedQuery(
    lambda case_id: Material.objects.filter(case_id=case_id, superseded_at__isnull=True).select_related(
        "requirement", "original_sighted_hall"
    )
)


def current_materials(case: Case) -> list[Material]:
    """The case's live materials in the model's order, with what a response shows of them."""
    rows = _live_materials(case.pk)
    for material in rows:
        material.case = case  # as ``case.materials`` sets it (its known related object): no query
    return rows


def _check_materials_complete(case: Case) -> list[Material] | None:
    """Refuse (400) when a required material is missing; the live materials it read (None for a
    sub-case, whose file is its parent's)."""
    if case.is_subcase:
        return None
    materials = current_materials(case)
    have = {m.requirement_id for m in materials}
    missing = [r for r in case.item.materials.all() if r.required and r.pk not in have]
    if missing:
        raise ValidationError(
            {"materials": [_("缺少必要材料：%(names)s。") % {"names": "、".join(r.name for r in missing)}]}
        )
    return materials


# --- creation ------------------------------------------------------------------------------


@dataclass(frozen=True)
class ApplicantInput:
    name: str
    id_number: str
    phone: str


def _validate_applicant(data: ApplicantInput) -> tuple[str, str, bool]:
    errors: dict[str, list[str]] = {}
    name = (data.name or "").strip()
    if not name or len(name) > 128:
        errors["applicant.name"] = [_("请填写申请人姓名或单位名称。")]
    kind, number, review = "", "", False
    try:
        kind, number, review = validate_applicant_identifier(data.id_number or "")
    except ValidationError as exc:
        errors["applicant.id_number"] = list(exc.messages)
    try:
        mainland_mobile(data.phone or "")
    except ValueError:
        errors["applicant.phone"] = [_("请填写11位手机号码。")]
    if errors:
        raise ValidationError(errors)
    return kind, number, review


def _check_mode(item: Item, mode: str) -> None:
    if not item.is_active:
        raise ValidationError({"item": [_("该事项已停止办理。")]})
    if mode not in Mode.values:
        raise ValidationError({"mode": [_("办理模式应为 online、proxy 或 joint。")]})
    if not getattr(item, mode):
        raise ValidationError(
            {"mode": [_("事项“%(item)s”不支持%(mode)s。") % {"item": item.name, "mode": Mode(mode).label}]}
        )


def _issuing_hall(hall: Hall | None, field: str = "delivery.hall") -> Hall:
    if hall is None:
        raise ValidationError({field: [_("窗口领取须选择领证场所。")]})
    # A clerk's own halls carry the answer (halls.scope.active_posts); any other hall is asked.
    issues = getattr(hall, "has_issuing_window", None)
    if issues is None:
        issues = Window.objects.filter(hall=hall, issuing=True).exists()
    if not hall.is_active or not issues:
        raise ValidationError({field: [_("“%(hall)s”没有出件（打证）窗口，请选择其他场所。") % {"hall": hall.name}]})
    return hall


def _delivery(method: str, hall: Hall | None, address: str, default_hall: Hall | None) -> tuple[str, Hall | None, str]:
    if method not in DeliveryMethod.values:
        raise ValidationError({"delivery.method": [_("送达方式应为 pickup、mail 或 electronic。")]})
    address = (address or "").strip()
    if method == DeliveryMethod.PICKUP:
        return method, _issuing_hall(hall or default_hall), ""
    if method == DeliveryMethod.MAIL and not address:
        raise ValidationError({"delivery.address": [_("邮寄送达须填写收件地址。")]})
    return method, hall if hall is not None else None, address[:255]


def _open_case(
    *,
    actor: User,
    name: str,
    payload: dict[str, Any],
    item: Item,
    mode: str,
    jurisdiction: Region,
    authority: Department | None,
    number_region: str,
    **fields: Any,
) -> Case:
    """Write a new case and its first event (seq 1) in one transaction: ``name`` "receive" (a
    window: → received, and the case_received SMS to the outbox) or "create" (online: a draft).
    The response shows that one event as written (``engine.hold_created_event``)."""
    with transaction.atomic():
        now = timezone.now()
        case = Case(
            mode=mode,
            item=item,
            jurisdiction=jurisdiction,
            authority=authority,
            committed_days=item.committed_days,
            legal_days=item.legal_days,
            auto_accept=item.deemed_acceptance,
            created_by=actor,
            **fields,
        )
        if name == "receive":
            case.receive()
        case.last_event_seq = 1
        # PostgreSQL: the day's number and the case in one statement (steady state: the day's
        # counter row exists once its first case is in).
        if not (connection.vendor == "postgresql" and _insert_numbered(case, number_region, now)):
            case.number = _next_number(number_region, now)
            case.save()
        with staged_sms() as texts:
            if name == "receive":
                notify.case_received(case)
            # PostgreSQL: the text goes in the statement of the event and its ledger entry.
            also = outbox_inserts(texts, from_guard=False) if connection.vendor == "postgresql" else []
            event = _append_event(case, name=name, from_state="", actor=actor, at=now, payload=payload, also=also)
            assert event is not None  # no guard: always written
            if also:
                mark_written(texts)
        hold_created_event(case, event)
    return case


def _route(item: Item, mode: str, jurisdiction: Region) -> Department | None:
    if mode == Mode.JOINT:
        joint_authorities(item=item, jurisdiction=jurisdiction)  # every part routable before anything is written
        return None
    return competent_department(item=item, jurisdiction=jurisdiction)


def receive(
    *,
    actor: User,
    item: Item,
    jurisdiction: Region,
    receiving_hall: Hall,
    applicant: ApplicantInput,
    delivery_method: str,
    delivery_hall: Hall | None = None,
    delivery_address: str = "",
    mode: str = Mode.PROXY,
    form: Mapping[str, Any] | None = None,
) -> Case:
    """A window clerk receives a case at a hall (any hall of the province, 收受分离): (new) → received.

    ``form``: the facts the result will certify (``workflows.facts``); when given, every required
    fact of the item must be there.

    Validates the mode against the item, routes the case (competent authority, cross-region flag),
    validates the applicant's ID number / USCC (stored encrypted, with a lookup hash) and the
    delivery (pickup defaults to the receiving hall, which must have an issuing window).
    Side effects: the case, its first event, the case_received SMS to the applicant (outbox).
    """
    if mode not in (Mode.PROXY, Mode.JOINT):
        raise ValidationError({"mode": [_("窗口收件的办理模式应为 proxy 或 joint。")]})
    _check_mode(item, mode)
    a = Actor(actor)
    if actor.role != Role.WINDOW_CLERK:
        raise TransitionForbidden(_("只有窗口人员可以收件。"))
    if not a.clerk_at(receiving_hall.pk):
        raise ValidationError(
            {"receiving_hall": [_("您不在“%(hall)s”任职，不能在此收件。") % {"hall": receiving_hall.name}]}
        )
    cross = is_cross_region(receiving_region=receiving_hall.region_id, jurisdiction=jurisdiction)
    window = intake_window(a, receiving_hall, cross_region=cross)
    if window is None:
        raise ValidationError(
            {"receiving_hall": [_("“%(hall)s”您所在的窗口不能受理通办业务。") % {"hall": receiving_hall.name}]}
        )
    authority = _route(item, mode, jurisdiction)
    kind, number, review = _validate_applicant(applicant)
    phone = mainland_mobile(applicant.phone)  # E.164, the stored form (core.phones)
    method, dhall, address = _delivery(delivery_method, delivery_hall, delivery_address, receiving_hall)
    form_data = facts.clean(item, form) if form is not None else {}
    # The case belongs to an account only when the account's ID number is VERIFIED and its phone is
    # the one the applicant gave at this window: a declared (unverified) number, or the same number
    # on an account with another phone, links nothing (an ID number alone was squattable).
    citizen = User.objects.filter(
        role=Role.CITIZEN,
        id_number_hash=lookup_hash(number),
        id_verified_at__isnull=False,
        phone=phone,
        is_active=True,
    ).first()
    return _open_case(
        actor=actor,
        name="receive",
        payload={"hall": receiving_hall.code, "window": window.number, "cross_region": cross},
        item=item,
        mode=mode,
        jurisdiction=jurisdiction,
        authority=authority,
        number_region=str(receiving_hall.region_id),
        receiving_hall=receiving_hall,
        receiving_window=window,
        cross_region=cross,
        delivery_method=method,
        delivery_hall=dhall,
        delivery_address=address,
        applicant=citizen,
        applicant_type=kind,
        applicant_name=applicant.name.strip(),
        applicant_id_protected=protect(number),
        applicant_id_hash=lookup_hash(number),
        applicant_id_needs_review=review,
        applicant_phone=phone,
        form_data=form_data,
    )


def create_online(
    *,
    actor: User,
    item: Item,
    jurisdiction: Region,
    delivery_method: str,
    delivery_hall: Hall | None = None,
    delivery_address: str = "",
    mode: str = Mode.ONLINE,
    form: Mapping[str, Any] | None = None,
) -> Case:
    """A citizen starts an online (or online joint) application: a draft.

    The applicant's identity comes from the citizen's real-name account.
    Side effects: the case and its first event ("create", → draft).
    """
    if mode not in (Mode.ONLINE, Mode.JOINT):
        raise ValidationError({"mode": [_("网上申请的办理模式应为 online 或 joint。")]})
    _check_mode(item, mode)
    if actor.role != Role.CITIZEN:
        raise TransitionForbidden(_("只有申请人可以在网上申请。"))
    if not actor.real_name or not actor.id_number_protected:
        raise ValidationError({"applicant": [_("请先完成实名认证（姓名和证件号码）。")]})
    authority = _route(item, mode, jurisdiction)
    method, dhall, address = _delivery(delivery_method, delivery_hall, delivery_address, None)
    form_data = facts.clean(item, form) if form is not None else {}
    return _open_case(
        actor=actor,
        name="create",
        payload={},
        item=item,
        mode=mode,
        jurisdiction=jurisdiction,
        authority=authority,
        number_region=str(jurisdiction.pk),
        delivery_method=method,
        delivery_hall=dhall,
        delivery_address=address,
        applicant=actor,
        applicant_type=actor.applicant_type or "person",
        applicant_name=actor.real_name,
        applicant_id_protected=actor.id_number_protected,
        applicant_id_hash=actor.id_number_hash,
        # An ID number the account only declared (no real-name evidence yet) is for the
        # authority to check, like one whose region code the table does not know.
        applicant_id_needs_review=actor.id_needs_review or actor.id_verified_at is None,
        applicant_phone=actor.phone,
        form_data=form_data,
    )


def claim_window_cases(*, citizen: User) -> int:
    """Attach to a citizen's account the cases a window received for them before they had one.

    A clerk receiving at a window links the case to an existing citizen by ID number; a person who
    registers later would otherwise never see those cases in 我的办件, could not rate them and could
    not open their result. A case is claimed only when the account's ID number is verified
    (accounts.realname) and BOTH the ID number and the phone the clerk recorded match the account,
    so declaring someone else's ID number at SMS login reveals nothing.
    Returns the number of cases (sub-cases included) claimed.

    Side effects: sets ``applicant`` on the matching unclaimed cases (one UPDATE); no event, since the
    case itself does not change.
    """
    if citizen.role != Role.CITIZEN or not citizen.id_verified or not citizen.phone:
        return 0
    mine = Case.objects.filter(applicant__isnull=True, applicant_id_hash=citizen.id_number_hash)
    parents = mine.filter(parent__isnull=True, applicant_phone=citizen.phone).values_list("pk", flat=True)
    with transaction.atomic():
        ids = list(parents)
        if not ids:
            return 0
        return mine.filter(models.Q(pk__in=ids) | models.Q(parent_id__in=ids)).update(applicant=citizen)


def window_record_verdict(phone: str, id_hash: str) -> Verdict:
    """What the windows know about ``phone`` for this ID number (an accounts.realname record source).

    Evidence is a case a clerk received at a hall and VERIFIED (id_checked: the ID card was in the
    clerk's hands) with this ID number: the phone recorded there matches → match; only other
    phones recorded → mismatch; no verified window case → unknown."""
    checked = Case.objects.filter(
        applicant_id_hash=id_hash, receiving_hall__isnull=False, parent__isnull=True, events__transition="verify"
    )
    phones = {p[-11:] for p in checked.values_list("applicant_phone", flat=True) if p}
    if not phones:
        return Verdict.UNKNOWN
    return Verdict.MATCH if phone[-11:] in phones else Verdict.MISMATCH

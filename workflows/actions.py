"""Every write to a case: one action per transition, plus creation and materials.

Each transition action, in ONE transaction:
1. checks the actor's role and jurisdiction (``workflows.rules``) → ``TransitionForbidden`` (403);
2. runs the django-fsm transition (wrong state → ``TransitionConflict``, 409 with what is allowed);
3. updates timestamps and clocks and saves with ``update_fields`` — ConcurrentTransitionMixin
   adds ``WHERE state = <state we read>`` so of two concurrent writers exactly one wins;
4. appends the CaseEvent (seq n+1: a unique (case, seq) keeps one chain of events) and its
   ledger entry; on PostgreSQL steps 3-4 are ONE statement (the same conditional UPDATE as a CTE
   that the event INSERT selects from, feeding ``ledger_append()``: no row updated, nothing
   written → 409); follow-up system steps of the same case share one more UPDATE;
5. writes the applicant's SMS to the outbox (same transaction) and schedules anything that talks
   to the outside world with ``transaction.on_commit``.
Invalid input raises django ``ValidationError`` (400) before anything is written.

``actor=None`` means the system (deemed acceptance, issuing, routing to print, a joint parent
following its children); only internal code passes None.
"""

from __future__ import annotations

import functools
import hashlib
import logging
import re
import zoneinfo
from collections.abc import Callable, Iterable, Mapping
from contextvars import ContextVar
from dataclasses import dataclass
from datetime import datetime
from typing import Any, Protocol

from django.conf import settings
from django.core.exceptions import ValidationError
from django.core.files.base import File
from django.db import IntegrityError, connection, models, transaction
from django.db.models.sql import UpdateQuery
from django.utils import timezone
from django.utils.translation import gettext as _
from django_fsm import ConcurrentTransition, TransitionNotAllowed, can_proceed

from accounts.identity import validate_applicant_identifier
from accounts.models import Role, User
from accounts.protect import lookup_hash, mask_id_number, protect
from accounts.realname import Verdict
from core import errors as domain
from core.phones import mainland_mobile
from govmap.models import Region
from halls.models import Hall, Window
from ledger import records as ledger_records
from ledger.actions import append as ledger_append
from ledger.models import Kind as LedgerKind
from notifications.text import clause
from services.models import Department, Item, MaterialGrade, MaterialRequirement, Mode, grade_meets
from workdays import calendar
from workflows import facts, hooks, material_files, notify
from workflows.models import (
    ACCEPTANCE_STATES,
    DECISION_STATES,
    TERMINAL_STATES,
    Case,
    CaseEvent,
    CaseSequence,
    CaseState,
    CorrectionNotice,
    DeliveryMethod,
    Material,
    MaterialSource,
    MaterialView,
    SlaStatus,
)
from workflows.results import Result, result_issued
from workflows.routing import competent_department, is_cross_region, joint_authorities
from workflows.rules import Actor, available_transitions, intake_window, may
from workflows.sqlite_lock import sqlite_writer

logger = logging.getLogger(__name__)
S = CaseState

ACCEPTANCE_DAYS = 5
SYSTEM_LABEL = "系统"


class TransitionForbidden(domain.Forbidden):
    """The actor may see the case but is not the one to take this step (403)."""


class TransitionConflict(domain.Conflict):
    """Not allowed from the current state, or another writer moved the case first (409, with the
    current ``state`` and the transitions ``allowed`` from it)."""

    def __init__(self, detail: str, *, state: str, allowed: list[str]) -> None:
        super().__init__(detail, state=state, allowed=allowed)
        self.state = state
        self.allowed = allowed


class Upload(Protocol):
    """A readable, seekable binary file (an UploadedFile, a BytesIO, an open file)."""

    def read(self, size: int = ..., /) -> bytes: ...

    def seek(self, offset: int, whence: int = ..., /) -> int: ...


class UploadTooLarge(domain.TooLarge):
    """The uploaded file exceeds MAX_UPLOAD_BYTES (413)."""

    def __init__(self, limit: int) -> None:
        super().__init__(_("文件过大，单个文件不能超过 %(mb)s MB。") % {"mb": limit // (1024 * 1024)})
        self.limit = limit


# --- helpers -------------------------------------------------------------------------------


def _label(user: User | None) -> str:
    if user is None:
        return SYSTEM_LABEL
    if user.role == Role.CITIZEN:
        # A citizen's username is citizen-<phone>: it must not reach staff timelines or the ledger.
        return user.real_name or _("申请人")
    return user.real_name or user.get_username()


def _next_number(region_code: str, when: datetime) -> str:
    """Allocate ``<region>-<yyyymmdd>-<seq>``. The UPDATE takes the counter row's lock until the
    transaction ends, so concurrent intakes in one region never get the same sequence."""
    day = calendar.local_date(when)
    table = connection.ops.quote_name(CaseSequence._meta.db_table)
    for _attempt in range(3):
        # One round trip: increment and read back (PostgreSQL and SQLite >= 3.35 both RETURN).
        with connection.cursor() as cur:
            cur.execute(
                f"UPDATE {table} SET last = last + 1 WHERE region_code = %s AND day = %s RETURNING last",  # noqa: S608
                [region_code, day.isoformat()],
            )
            row = cur.fetchone()
        if row is not None:
            return f"{region_code}-{day:%Y%m%d}-{row[0]:06d}"
        try:
            with transaction.atomic():
                CaseSequence.objects.create(region_code=region_code, day=day, last=1)
            return f"{region_code}-{day:%Y%m%d}-{1:06d}"
        except IntegrityError:
            continue  # another intake created the row first: increment it
    raise RuntimeError("could not allocate a case number")


def _append_event(
    case: Case,
    *,
    name: str,
    from_state: str,
    actor: User | None,
    at: datetime,
    payload: dict[str, Any] | None = None,
    guard: tuple[str, list[Any]] | None = None,
) -> CaseEvent | None:
    """Write the event and its ledger entry (same transaction; one statement on PostgreSQL).
    With ``guard`` (the transition's conditional UPDATE, PostgreSQL) all three go in one
    statement, and None means the UPDATE matched no row: nothing was written."""
    return _write_event(
        case, _event(case, name=name, from_state=from_state, actor=actor, at=at, payload=payload), guard=guard
    )


def _event(
    case: Case, *, name: str, from_state: str, actor: User | None, at: datetime, payload: dict[str, Any] | None = None
) -> CaseEvent:
    """The (unsaved) event of the step ``case`` just took: its seq and target state as they are now."""
    return CaseEvent(
        case=case,
        seq=case.last_event_seq,
        transition=name,
        from_state=from_state,
        to_state=case.state,
        actor=actor,
        actor_label=_label(actor),
        at=at,
        payload=payload or {},
    )


def _write_event(case: Case, event: CaseEvent, *, guard: tuple[str, list[Any]] | None = None) -> CaseEvent | None:
    # Same transaction as the event: the ledger entry and the fact commit or roll back together
    # (on PostgreSQL one statement writes both).
    if ledger_records.create_case_event(event, case.number, guard=guard) is None:
        return None
    return event


def _conditional_update(
    case: Case, fields: list[str], stored_state: str, stored_seq: int | None = None
) -> tuple[str, list[Any]]:
    """The UPDATE ``case.save(update_fields=fields)`` issues under ConcurrentTransitionMixin —
    same SET list, values prepared by the same fields (auto_now included), ``WHERE id = <pk> AND
    state = <the state we read>`` — with RETURNING, to run as the guard of the event's INSERT.

    With ``stored_seq`` also ``AND last_event_seq = <the seq we read>``: a fact recorded in the
    meantime (record_case_fact: a video outcome, a consent) leaves the state alone but takes the
    seq this transition was about to write; without this the event's INSERT hit the (case, seq)
    unique constraint and the request ended in a 500."""
    values: list[Any] = []
    for name in fields:
        field = Case._meta.get_field(name)
        values.append((field, None, field.pre_save(case, False)))  # type: ignore[union-attr]
    query = UpdateQuery(Case)
    where = models.Q(pk=case.pk, state=stored_state)
    if stored_seq is not None:
        where &= models.Q(last_event_seq=stored_seq)
    query.add_q(where)
    query.add_update_fields(values)
    sql, params = query.get_compiler(connection.alias).as_sql()
    return f"{sql} RETURNING {connection.ops.quote_name('id')}", list(params)


def _status(now: datetime, warn: datetime | None, due: datetime | None) -> str:
    if due is None:
        return ""
    if now > due:
        return SlaStatus.RED
    if warn is not None and now > warn:
        return SlaStatus.YELLOW
    return SlaStatus.GREEN


CLOCK_FIELDS = ["accept_by", "decide_by", "clock_warn_at", "clock_due_at", "sla_status", "sla_alert_pending"]


def _stop_clock(case: Case) -> None:
    case.clock_warn_at = None
    case.clock_due_at = None
    case.sla_status = ""
    case.sla_alert_pending = False


def _start_acceptance_clock(case: Case, now: datetime) -> None:
    case.submitted_at = now
    case.decide_by = None
    if case.is_joint_parent:
        # A joint parent has no clock of its own: each sub-case runs at its authority.
        case.accept_by = None
        _stop_clock(case)
        return
    case.accept_by = calendar.deadline(now, ACCEPTANCE_DAYS)
    case.clock_warn_at = calendar.deadline(now, calendar.warning_days(ACCEPTANCE_DAYS))
    case.clock_due_at = case.accept_by
    case.sla_status = _status(now, case.clock_warn_at, case.clock_due_at)
    case.sla_alert_pending = False


def _set_decision_clock(case: Case, now: datetime) -> None:
    """decide_by = committed working days after acceptance, pushed out by working days suspended."""
    assert case.accepted_at is not None
    if case.is_joint_parent:
        case.decide_by = None
        _stop_clock(case)
        return
    extra = case.suspended_days
    case.decide_by = calendar.deadline(case.accepted_at, case.committed_days + extra)
    case.clock_warn_at = calendar.deadline(case.accepted_at, calendar.warning_days(case.committed_days) + extra)
    case.clock_due_at = case.decide_by
    status = _status(now, case.clock_warn_at, case.clock_due_at)
    if status != case.sla_status and status != SlaStatus.GREEN:
        case.sla_alert_pending = True
    case.sla_status = status


@dataclass
class Step:
    """What one transition writes besides the state."""

    fields: list[str]
    payload: dict[str, Any]


def _reload(case: Case) -> None:
    """Put the stored row back into ``case`` after a rolled-back transition.

    Not ``refresh_from_db``: django-fsm's version lifts the field's ``protected`` flag on the shared
    field object for the duration, which races with other threads (found by the stress test).
    """
    fresh = Case.objects.get(pk=case.pk)
    case.__dict__.update({f.attname: getattr(fresh, f.attname) for f in Case._meta.concrete_fields})
    case._state.fields_cache.clear()
    case._update_initial_state()


# True while a transition's follow-up steps run (see _transition).
_in_after: ContextVar[bool] = ContextVar("workflows_in_after", default=False)
# While a transition's follow-up steps run: that case and the fields the follow-up transitions of
# the SAME case changed (the system chain approve → issue → queue_print). The case's row is locked
# by the transition's own conditional UPDATE, so the chain's state changes are written by ONE
# more UPDATE when the follow-ups end instead of one per step (still in the same transaction).
# On PostgreSQL the chain's LAST event is held back and written by that UPDATE's statement (the
# UPDATE as its guard, as for the transition itself): one round trip less per chain. Events of the
# case are still written in seq order (a held event is written before the next one is built).
_deferred: ContextVar[tuple[Case, list[str], list[CaseEvent]] | None] = ContextVar("workflows_deferred", default=None)


def _refuse_state(case: Case, actor: Actor, name: str) -> TransitionConflict:
    return TransitionConflict(
        _("当前状态“%(state)s”不能执行“%(name)s”。") % {"state": CaseState(case.state).label, "name": name},
        state=case.state,
        allowed=available_transitions(actor, case),
    )


def _transition(
    case: Case,
    user: User | None,
    name: str,
    prepare: Callable[[Case, datetime], Step] | None = None,
    *,
    after: Callable[[Case, datetime], None] | None = None,
    check: Callable[[Case], None] | None = None,
) -> Case:
    """The common body of every transition action (see module docstring).

    ``check`` validates input against the case before the state changes (ValidationError → 400);
    ``prepare`` sets the extra fields after the state changed; ``after`` runs follow-up steps in
    the same transaction (notifications, the system chain, a joint parent following its child).
    A transition run from another one's ``after`` (the system chain, a joint parent following its
    child) shares that transaction without a savepoint: if it fails, the whole step fails.
    """
    nested = _in_after.get()
    actor = Actor(user)
    if not may(actor, case, name):
        raise TransitionForbidden(_("您无权对该办件执行此操作。"))
    try:
        with transaction.atomic(savepoint=not nested):
            method = getattr(case, name)
            if not can_proceed(method):
                raise _refuse_state(case, actor, name)
            if check is not None:
                check(case)
            now = timezone.now()
            from_state = case.state
            try:
                method()
            except TransitionNotAllowed:
                raise _refuse_state(case, actor, name) from None
            step = prepare(case, now) if prepare is not None else Step(fields=[], payload={})
            read_seq = case.last_event_seq
            case.last_event_seq += 1
            fields = ["state", "last_event_seq", "updated_at", *step.fields]
            deferred = _deferred.get() if nested else None
            event_args = {"name": name, "from_state": from_state, "actor": user, "at": now, "payload": step.payload}
            if deferred is not None and deferred[0] is case:
                # A follow-up step of the transition that locked this row: written with the chain.
                deferred[1].extend(fields)
                held = deferred[2]
                while held:
                    _write_event(case, held.pop(0))
                if connection.vendor == "postgresql":
                    held.append(_event(case, **event_args))
                else:
                    _append_event(case, **event_args)
            elif connection.vendor == "postgresql":
                # One round trip: the conditional UPDATE (the state we read, as the mixin's save
                # checks it), the event and its ledger entry. No row updated → nothing written.
                guard = _conditional_update(case, list(dict.fromkeys(fields)), from_state, read_seq)
                if _append_event(case, **event_args, guard=guard) is None:
                    raise ConcurrentTransition("the case left the state (or the event seq) we read")
                case._update_initial_state()
            else:
                case.save(update_fields=list(dict.fromkeys(fields)))
                try:
                    _append_event(case, **event_args)
                except IntegrityError as exc:
                    # SQLite: the state guard passed but a fact took our seq since we read the
                    # case (see _conditional_update); the same answer as PostgreSQL's guard.
                    if "seq" not in str(exc):
                        raise
                    raise ConcurrentTransition("the event seq we read was taken") from exc
            if after is not None:
                pending: list[str] = []
                held_events: list[CaseEvent] = []
                written_state = case.state  # what the row holds now (this transition's target)
                token = _in_after.set(True)
                chain = _deferred.set((case, pending, held_events))
                try:
                    after(case, now)
                finally:
                    _deferred.reset(chain)
                    _in_after.reset(token)
                if pending and held_events:
                    # PostgreSQL: the row still holds the state this transition wrote; the chain's
                    # UPDATE (conditional on it, as ConcurrentTransitionMixin's save would be) is
                    # the guard of the held last event: one statement for both.
                    last = held_events.pop()
                    for event in held_events:
                        _write_event(case, event)
                    guard = _conditional_update(case, list(dict.fromkeys(pending)), written_state)
                    if _write_event(case, last, guard=guard) is None:
                        raise ConcurrentTransition("the case left the state this transition wrote")
                    case._update_initial_state()
                elif pending:
                    # The row still holds the state this transition wrote (ConcurrentTransitionMixin
                    # checks it): one UPDATE for every follow-up step of the same case.
                    case.save(update_fields=list(dict.fromkeys(pending)))
    except ConcurrentTransition:
        # Someone else moved the case first (our UPDATE matched no row in the state we read):
        # nothing of ours was written; report what is possible now.
        _reload(case)
        raise TransitionConflict(
            _("办件已被他人处理，当前状态为“%(state)s”。") % {"state": CaseState(case.state).label},
            state=case.state,
            allowed=available_transitions(actor, case),
        ) from None
    except Exception:
        # The database rolled back; do not leave the caller holding an object that says otherwise.
        if case.pk is not None:
            _reload(case)
        raise
    return case


def _reason(value: str | None, field: str = "reason") -> str:
    text = (value or "").strip()
    if not text:
        raise ValidationError({field: [_("请填写理由。")]})
    if len(text) > 2000:
        raise ValidationError({field: [_("理由不能超过 2000 字。")]})
    return text


def current_materials(case: Case) -> list[Material]:
    return list(case.materials.filter(superseded_at__isnull=True).select_related("requirement"))


def _missing_required(case: Case) -> list[MaterialRequirement]:
    have = {m.requirement_id for m in current_materials(case)}
    return [r for r in case.item.materials.all() if r.required and r.pk not in have]


def _check_materials_complete(case: Case) -> None:
    if case.is_subcase:
        return
    missing = _missing_required(case)
    if missing:
        raise ValidationError(
            {"materials": [_("缺少必要材料：%(names)s。") % {"names": "、".join(r.name for r in missing)}]}
        )


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
    # A clerk's own halls carry the answer (accounts.scope.active_posts); any other hall is asked.
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


def _new_case(
    *,
    item: Item,
    mode: str,
    jurisdiction: Region,
    authority: Department | None,
    number_region: str,
    now: datetime,
    **fields: Any,
) -> Case:
    return Case(
        number=_next_number(number_region, now),
        mode=mode,
        item=item,
        jurisdiction=jurisdiction,
        authority=authority,
        committed_days=item.committed_days,
        legal_days=item.legal_days,
        auto_accept=item.deemed_acceptance,
        **fields,
    )


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
    with transaction.atomic():
        now = timezone.now()
        case = _new_case(
            item=item,
            mode=mode,
            jurisdiction=jurisdiction,
            authority=authority,
            number_region=str(receiving_hall.region_id),
            now=now,
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
            created_by=actor,
            form_data=form_data,
        )
        case.receive()
        case.last_event_seq = 1
        case.save()
        _append_event(
            case,
            name="receive",
            from_state="",
            actor=actor,
            at=now,
            payload={"hall": receiving_hall.code, "window": window.number, "cross_region": cross},
        )
        notify.case_received(case)
    return case


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
    with transaction.atomic():
        now = timezone.now()
        case = _new_case(
            item=item,
            mode=mode,
            jurisdiction=jurisdiction,
            authority=authority,
            number_region=str(jurisdiction.pk),
            now=now,
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
            created_by=actor,
            form_data=form_data,
        )
        case.last_event_seq = 1
        case.save()
        _append_event(case, name="create", from_state="", actor=actor, at=now, payload={})
    return case


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


def _spawn_children(parent: Case, now: datetime) -> None:
    """Joint mode: one sub-case per deciding authority, starting where the parent is now
    (transferred after hall intake, submitted online), each with its own acceptance clock."""
    for index, authority in enumerate(joint_authorities(item=parent.item, jurisdiction=parent.jurisdiction), start=1):
        child = Case(
            number=f"{parent.number}-{index:02d}",
            mode=Mode.JOINT,
            state=parent.state,
            parent=parent,
            item=parent.item,
            jurisdiction=parent.jurisdiction,
            authority=authority,
            receiving_hall=parent.receiving_hall,
            receiving_window=parent.receiving_window,
            cross_region=parent.cross_region,
            delivery_method=parent.delivery_method,
            delivery_hall=parent.delivery_hall,
            delivery_address=parent.delivery_address,
            applicant=parent.applicant,
            applicant_type=parent.applicant_type,
            applicant_name=parent.applicant_name,
            applicant_id_protected=parent.applicant_id_protected,
            applicant_id_hash=parent.applicant_id_hash,
            applicant_id_needs_review=parent.applicant_id_needs_review,
            applicant_phone=parent.applicant_phone,
            created_by=parent.created_by,
            committed_days=parent.committed_days,
            legal_days=parent.legal_days,
            auto_accept=parent.auto_accept,
            materials_seal=parent.materials_seal,
            form_data=parent.form_data,
            last_event_seq=1,
        )
        _start_acceptance_clock(child, now)
        child.save()
        _append_event(
            child,
            name="create",
            from_state="",
            actor=None,
            at=now,
            payload={"parent": parent.number, "authority": authority.code},
        )


# --- transitions -----------------------------------------------------------------------------


def submit(*, case: Case, actor: User) -> Case:
    """Applicant sends an online application: draft → submitted; starts the 5-working-day
    acceptance clock; a joint parent spawns its sub-cases.
    Side effects: event; case_received SMS."""

    def prepare(c: Case, now: datetime) -> Step:
        _start_acceptance_clock(c, now)
        return Step(["submitted_at", *CLOCK_FIELDS], {})

    def after(c: Case, now: datetime) -> None:
        if c.is_joint_parent:
            _spawn_children(c, now)
        notify.case_received(c)

    return _transition(case, actor, "submit", prepare, after=after, check=_check_materials_complete)


def verify(*, case: Case, actor: User, id_checked: bool, originals_sighted: Iterable[str]) -> Case:
    """Receiving clerk checked the applicant's identity and sighted the originals: received → verified.

    Every required material must be present; every material that needs its original must be
    listed in ``originals_sighted``. Records who sighted which original where and when, and seals
    the scans with a digest over their SHA-256s.
    Side effects: materials' verification records; event.
    """
    sighted = [str(c) for c in originals_sighted]
    loaded: dict[str, Any] = {}

    def check(c: Case) -> None:
        # One read of the requirements and one of the materials serve the checks and the records
        # (the materials as plain rows: id, requirement, its code, digest; no order needed).
        requirements = list(c.item.materials.all())
        materials: list[Any] = list(
            Material.objects.filter(case=c, superseded_at__isnull=True)
            .order_by()
            .values_list("pk", "requirement_id", "requirement__code", "sha256", "grade", named=True)
        )
        loaded["materials"] = materials
        errors: dict[str, list[str]] = {}
        if id_checked is not True:
            errors["id_checked"] = [_("请先核验申请人身份证件。")]
        by_code = {r.code: r for r in requirements}
        unknown = [code for code in sighted if code not in by_code]
        if unknown:
            errors["originals_sighted"] = [_("未知的材料编码：%(codes)s。") % {"codes": "、".join(unknown)}]
        have = {m.requirement_id for m in materials}
        missing = [r for r in requirements if r.required and r.pk not in have]
        if missing:
            errors["materials"] = [_("缺少必要材料：%(names)s。") % {"names": "、".join(r.name for r in missing)}]
        unsighted = [r for r in requirements if r.original_needed and r.pk in have and r.code not in sighted]
        if unsighted and "originals_sighted" not in errors:
            errors["originals_sighted"] = [
                _("以下材料须核验原件：%(names)s。") % {"names": "、".join(r.name for r in unsighted)}
            ]
        below = _below_min_grade(requirements, materials, sighted)
        if below:
            errors["grades"] = [_("材料可信等级不足：%(items)s。") % {"items": "；".join(below)}]
        if errors:
            raise ValidationError(errors)

    def prepare(c: Case, now: datetime) -> Step:
        materials = loaded["materials"]
        to_mark = [m.pk for m in materials if m.requirement__code in sighted]
        if to_mark:
            # The clerk saw the original of a submitted scan: it is now "sighted and sealed"
            # (an authority-issued material keeps its higher grade; a pledge has no original).
            # One UPDATE for the sighting record and the grade.
            Material.objects.filter(pk__in=to_mark).update(
                original_sighted_by=actor,
                original_sighted_at=now,
                original_sighted_hall=c.receiving_hall,
                grade=models.Case(
                    models.When(grade=MaterialGrade.UPLOADED, then=models.Value(MaterialGrade.SIGHTED)),
                    default=models.F("grade"),
                ),
            )
        digest = hashlib.sha256(
            "\n".join(sorted(f"{m.requirement__code}:{m.sha256}" for m in materials)).encode()
        ).hexdigest()
        c.materials_seal = digest
        c.applicant_id_needs_review = False
        return Step(
            ["materials_seal", "applicant_id_needs_review"],
            {"id_checked": True, "originals_sighted": sorted(set(sighted)), "seal": digest},
        )

    return _transition(case, actor, "verify", prepare, check=check)


def _effective_grade(grade: str, sighted_now: bool) -> str:
    if sighted_now and grade == MaterialGrade.UPLOADED:
        return MaterialGrade.SIGHTED
    return grade


def _below_min_grade(
    requirements: Iterable[MaterialRequirement], materials: Iterable[Any], sighted: Iterable[str]
) -> list[str]:
    """One line per requirement whose current material is below the requirement's minimum grade
    (counting the originals sighted in this step), naming what is needed and what is there."""
    seen = set(sighted)
    grades = dict(MaterialGrade.choices)
    by_req = {m.requirement_id: m for m in materials}
    lines: list[str] = []
    for r in requirements:
        m = by_req.get(r.pk)
        if not r.min_grade or m is None:
            continue
        grade = _effective_grade(m.grade, r.code in seen)
        if not grade_meets(grade, r.min_grade):
            lines.append(
                _("“%(name)s”须达到“%(need)s”，当前为“%(have)s”")
                % {"name": r.name, "need": grades[r.min_grade], "have": grades.get(grade, grade)}
            )
    return lines


def check_min_grades(case: Case) -> None:
    """Refuse (400) when a current material is below its requirement's minimum grade (online cases
    reach the authority without a window's verify step: the authority's accept checks it)."""
    if case.is_subcase:
        return
    materials: list[Any] = list(
        Material.objects.filter(case=case, superseded_at__isnull=True)
        .order_by()
        .values_list("requirement_id", "grade", named=True)
    )
    below = _below_min_grade(list(case.item.materials.all()), materials, ())
    if below:
        raise ValidationError({"grades": [_("材料可信等级不足：%(items)s。") % {"items": "；".join(below)}]})


def transfer(*, case: Case, actor: User) -> Case:
    """Receiving clerk sends the sealed file to the competent authority: verified → transferred;
    starts the acceptance clock; a joint parent spawns one sub-case per authority.
    Side effects: event (and sub-cases with their events)."""

    def prepare(c: Case, now: datetime) -> Step:
        _start_acceptance_clock(c, now)
        return Step(["submitted_at", *CLOCK_FIELDS], {"authority": c.authority.code if c.authority else None})

    def after(c: Case, now: datetime) -> None:
        if c.is_joint_parent:
            _spawn_children(c, now)

    return _transition(case, actor, "transfer", prepare, after=after)


@dataclass(frozen=True)
class CorrectionItem:
    requirement: str | None
    reason: str


def request_correction(*, case: Case, actor: User, items: Iterable[CorrectionItem]) -> Case:
    """一次性告知: list every problem at once: submitted / received / transferred → needs_correction.

    Stops the clock (it restarts in full on resubmission). Counts notices per case so supervisors
    can find cases that needed more than one.
    Side effects: a CorrectionNotice; event; case_needs_correction SMS with the whole list.
    """
    entries = list(items)

    def check(c: Case) -> None:
        if not entries:
            raise ValidationError({"items": [_("请列出需要补正的全部内容。")]})
        by_code = {r.code: r for r in c.item.materials.all()}
        errors: list[str] = []
        for i, e in enumerate(entries, start=1):
            if e.requirement and e.requirement not in by_code:
                errors.append(_("第%(i)s项：未知的材料编码 %(code)s。") % {"i": i, "code": e.requirement})
            if not (e.reason or "").strip():
                errors.append(_("第%(i)s项：请填写补正原因。") % {"i": i})
        if errors:
            raise ValidationError({"items": errors})

    notice_items: list[dict[str, str]] = []

    def prepare(c: Case, now: datetime) -> Step:
        by_code = {r.code: r for r in c.item.materials.all()}
        for e in entries:
            req = by_code.get(e.requirement or "")
            notice_items.append(
                {"requirement": req.code if req else "", "name": req.name if req else "", "reason": e.reason.strip()}
            )
        from_state = before
        c.correction_from = from_state
        c.correction_count += 1
        _stop_clock(c)
        CorrectionNotice.objects.create(
            case=c, items=notice_items, from_state=from_state, issued_by=actor, issued_at=now
        )
        return Step(
            ["correction_from", "correction_count", *CLOCK_FIELDS],
            {"items": notice_items, "notice": c.correction_count},
        )

    def after(c: Case, now: datetime) -> None:
        notify.case_needs_correction(c, notice_items)

    # The state before the transition (the optimistic lock guarantees it is still the state when
    # the transition runs), remembered for resubmit.
    before = str(case.state)
    return _transition(case, actor, "request_correction", prepare, after=after, check=check)


def _clean_notes(notes: Mapping[Any, Any] | Iterable[Any] | None) -> dict[int, str]:
    """Notes per notice item, keyed by the item's number (1-based, as printed on the notice)."""
    if notes is None:
        return {}
    pairs = notes.items() if isinstance(notes, Mapping) else enumerate(notes, start=1)
    out: dict[int, str] = {}
    for key, value in pairs:
        try:
            number = int(key)
        except (TypeError, ValueError):
            raise ValidationError({"notes": [_("补正说明的序号无效：%(key)s。") % {"key": key}]}) from None
        text = str(value or "").strip()
        if len(text) > 500:
            raise ValidationError({"notes": [_("第%(i)s项的说明不能超过 500 字。") % {"i": number}]})
        if text:
            out[number] = text
    return out


def correction_answers(
    case: Case, notice: CorrectionNotice, notes: Mapping[int, str] | None = None
) -> list[dict[str, Any]]:
    """How each item of ``notice`` is answered so far: by a material for its requirement handed in
    after the notice was issued, or by a note (the clerk's or the applicant's explanation). One row
    per item, in the notice's order: ``{"item", "name", "reason", "material", "note", "answered"}``."""
    notes = notes or {}
    source = case.parent if case.parent_id else case  # a sub-case's materials live on its parent
    fresh = {
        code: sha
        for code, sha in Material.objects.filter(
            case=source, superseded_at__isnull=True, uploaded_at__gte=notice.issued_at
        ).values_list("requirement__code", "sha256")
    }
    rows = []
    for number, entry in enumerate(notice.items or [], start=1):
        code = entry.get("requirement") or ""
        material = fresh.get(code, "") if code else ""
        note = notes.get(number, "")
        rows.append(
            {
                "item": number,
                "requirement": code,
                "name": entry.get("name") or "",
                "reason": entry.get("reason") or "",
                "material": material,
                "note": note,
                "answered": bool(material or note),
            }
        )
    return rows


def open_notice(case: Case) -> CorrectionNotice | None:
    return case.corrections.filter(resolved_at__isnull=True).order_by("-issued_at").first()


def resubmit(*, case: Case, actor: User, notes: Mapping[Any, Any] | Iterable[Any] | None = None) -> Case:
    """The applicant (online) or a window (hall) hands in the corrections: needs_correction → the
    state the notice came from (submitted / received / transferred). The acceptance clock restarts.

    Refused (400, naming what is still open) until EVERY item of the open correction notice is
    answered: a new material for the item's requirement handed in after the notice, or a note for
    that item (``notes``: item number → text) — otherwise 一次性告知 means nothing, a case could go
    back to the authority with nothing fixed.
    Side effects: resolves the open notice (recording each item's answer); event."""
    cleaned = _clean_notes(notes)
    answers: list[dict[str, Any]] = []

    def check(c: Case) -> None:
        notice = open_notice(c)
        if notice is not None:
            answers.extend(correction_answers(c, notice, cleaned))
            unknown = sorted(set(cleaned) - {a["item"] for a in answers})
            if unknown:
                raise ValidationError(
                    {"notes": [_("补正告知中没有第%(i)s项。") % {"i": "、".join(str(i) for i in unknown)}]}
                )
            still_open = [a for a in answers if not a["answered"]]
            if still_open:
                listed = "；".join(
                    f"{a['item']}. {a['name'] + '：' if a['name'] else ''}{clause(a['reason'])}" for a in still_open
                )
                raise ValidationError(
                    {
                        "corrections": [
                            _("以下补正事项尚未处理，请上传新材料或逐项填写说明：%(items)s") % {"items": listed}
                        ]
                    }
                )
        if c.correction_from != S.RECEIVED:
            _check_materials_complete(c)

    def prepare(c: Case, now: datetime) -> Step:
        notice = open_notice(c)
        if notice is not None:
            items = [dict(entry) for entry in notice.items or []]
            for entry, answer in zip(items, answers, strict=False):
                entry["answer"] = {"material": answer["material"], "note": answer["note"]}
            notice.items = items
            notice.resolved_at = now
            notice.save(update_fields=["items", "resolved_at"])
        CorrectionNotice.objects.filter(case=c, resolved_at__isnull=True).update(resolved_at=now)
        if c.state in ACCEPTANCE_STATES:
            _start_acceptance_clock(c, now)
        payload = {"answers": [{"item": a["item"], "material": a["material"], "note": a["note"]} for a in answers]}
        return Step(["submitted_at", *CLOCK_FIELDS], payload if answers else {})

    return _transition(case, actor, "resubmit", prepare, check=check)


def _after_decision_step(c: Case, now: datetime) -> None:
    if c.parent_id is not None:
        _follow_children(Case.objects.select_for_update().get(pk=c.parent_id), now)


def accept(*, case: Case, actor: User | None, deemed: bool = False) -> Case:
    """The authority accepts (受理): submitted / transferred → accepted; the decision clock starts
    (committed working days). ``actor=None, deemed=True`` is deemed acceptance (行政许可法 第三十二条)
    by the system once the 5 working days passed.
    Side effects: event; case_accepted SMS; a joint parent may follow."""

    def check(c: Case) -> None:
        if deemed and (not c.auto_accept or c.accept_by is None or timezone.now() <= c.accept_by):
            raise ValidationError({"deemed": [_("尚未超过受理期限或该事项不适用逾期视为受理。")]})
        if not deemed and actor is not None and c.receiving_hall_id is None:
            # An online application never passed a window's verify: the authority accepting it
            # is held to the same minimum grades (raised e.g. by a video check of the originals).
            check_min_grades(c)

    def prepare(c: Case, now: datetime) -> Step:
        c.accepted_at = now
        c.suspended_days = 0
        c.sla_status = ""
        _set_decision_clock(c, now)
        return Step(["accepted_at", "suspended_days", *CLOCK_FIELDS], {"deemed": True} if deemed else {})

    def after(c: Case, now: datetime) -> None:
        if not c.is_joint_parent:
            notify.case_accepted(c)
        _after_decision_step(c, now)

    return _transition(case, actor, "accept", prepare, after=after, check=check)


def reject(*, case: Case, actor: User | None, reason: str) -> Case:
    """不予受理 with a reason: submitted / transferred → rejected (terminal).
    Side effects: event; case_decided SMS; a joint parent follows."""
    text = _reason(reason)

    def prepare(c: Case, now: datetime) -> Step:
        c.decided_at = now
        c.decision_reason = text
        _stop_clock(c)
        return Step(["decided_at", "decision_reason", *CLOCK_FIELDS], {"reason": text})

    def after(c: Case, now: datetime) -> None:
        if not c.is_subcase:
            notify.case_decided(c, _("不予受理（%(reason)s）") % {"reason": text})
        _after_decision_step(c, now)

    return _transition(case, actor, "reject", prepare, after=after)


def start_review(*, case: Case, actor: User | None) -> Case:
    """accepted → under_review (the decision clock keeps running). Side effects: event."""
    return _transition(case, actor, "start_review", lambda c, now: Step([], {}), after=_after_decision_step)


def suspend(*, case: Case, actor: User, reason: str) -> Case:
    """特别程序 (hearing, inspection, expert review): under_review → suspended; the decision clock pauses.
    Side effects: event."""
    text = _reason(reason)

    def prepare(c: Case, now: datetime) -> Step:
        c.suspended_at = now
        c.clock_warn_at = None
        c.clock_due_at = None
        return Step(["suspended_at", "clock_warn_at", "clock_due_at"], {"reason": text})

    return _transition(case, actor, "suspend", prepare)


def resume(*, case: Case, actor: User) -> Case:
    """suspended → under_review; the working days spent suspended extend the decision deadline.
    Side effects: event."""

    def prepare(c: Case, now: datetime) -> Step:
        paused = 0
        if c.suspended_at is not None:
            paused = calendar.working_days_between(calendar.local_date(c.suspended_at), calendar.local_date(now))
        c.suspended_days += paused
        c.suspended_at = None
        _set_decision_clock(c, now)
        return Step(["suspended_at", "suspended_days", *CLOCK_FIELDS], {"paused_working_days": paused})

    return _transition(case, actor, "resume", prepare)


def approve(*, case: Case, actor: User | None) -> Case:
    """准予: under_review → approved; then the system issues the result and routes its delivery
    (pickup → print queue, electronic → delivered; mail waits for a tracking number). A sub-case
    stops at approved and its parent follows.
    Side effects: event(s); result record; case_decided SMS; result_issued signal on commit."""

    def prepare(c: Case, now: datetime) -> Step:
        c.decided_at = now
        _stop_clock(c)
        return Step(["decided_at", *CLOCK_FIELDS], {})

    def after(c: Case, now: datetime) -> None:
        if not c.is_subcase:
            notify.case_decided(c, _("准予"))
            _issue_and_route(c)
        else:
            _after_decision_step(c, now)

    return _transition(case, actor, "approve", prepare, after=after)


def deny(*, case: Case, actor: User | None, reason: str, legal_basis: str = "") -> Case:
    """不予批准 with reason and legal basis (the item's basis when none is given): under_review → denied.
    Side effects: event; case_decided SMS; a joint parent follows."""
    text = _reason(reason)

    def check(c: Case) -> None:
        if not ((legal_basis or "").strip() or c.item.legal_basis.strip()):
            raise ValidationError({"legal_basis": [_("请填写不予批准的法律依据。")]})

    def prepare(c: Case, now: datetime) -> Step:
        c.decided_at = now
        c.decision_reason = text
        c.legal_basis = (legal_basis or "").strip() or c.item.legal_basis.strip()
        _stop_clock(c)
        return Step(
            ["decided_at", "decision_reason", "legal_basis", *CLOCK_FIELDS],
            {"reason": text, "legal_basis": c.legal_basis},
        )

    def after(c: Case, now: datetime) -> None:
        if not c.is_subcase:  # the parent's decision is the one the applicant hears about
            notify.case_decided(c, _("不予批准（%(reason)s）") % {"reason": text})
        _after_decision_step(c, now)

    return _transition(case, actor, "deny", prepare, after=after, check=check)


def _result_number(case: Case, index: int) -> str:
    return f"R{case.number}-{index}"


def issue(*, case: Case, actor: User | None = None) -> Case:
    """The system issues the result record(s): approved → issued. A joint parent gets one result per
    approved sub-case, each from that sub-case's authority. Rendering/signing the document is done by
    the results module on the ``result_issued`` signal after commit.
    Side effects: Result rows; event; result_issued on commit."""

    def prepare(c: Case, now: datetime) -> Step:
        parts = (
            list(c.children.filter(state=S.APPROVED).select_related("authority").order_by("number"))
            if c.is_joint_parent
            else [c]
        )
        title = c.item.result_name or c.item.name
        created: list[Result] = []
        for index, part in enumerate(parts, start=1):
            assert part.authority is not None
            created.append(
                Result.objects.create(
                    case=c,
                    number=_result_number(c, index),
                    result_type=c.item.result_type,
                    title=f"{title}（{part.authority.name}）" if c.is_joint_parent else title,
                    license_type=c.item.code,
                    holder_name=c.applicant_name,
                    holder_id_protected=c.applicant_id_protected,
                    holder_id_hash=c.applicant_id_hash,
                    issuing_department=part.authority,
                    issued_by=actor,
                    issued_at=now,
                )
            )
        for r in created:
            transaction.on_commit(functools.partial(result_issued.send, sender=Result, result=r))
        return Step([], {"results": [r.number for r in created]})

    return _transition(case, actor, "issue", prepare)


def queue_print(*, case: Case, actor: User | None = None) -> Case:
    """The system routes a pickup result to the issuing windows of the delivery hall:
    issued → print_queued. Side effects: event."""
    return _transition(
        case,
        actor,
        "queue_print",
        lambda c, now: Step([], {"hall": c.delivery_hall.code if c.delivery_hall else None}),
    )


def deliver_online(*, case: Case, actor: User | None = None) -> Case:
    """Electronic delivery (the result goes to the applicant's e-licence library): issued → delivered.
    Side effects: event."""

    def prepare(c: Case, now: datetime) -> Step:
        c.delivered_at = now
        return Step(["delivered_at"], {})

    return _transition(case, actor, "deliver_online", prepare)


def _issue_and_route(c: Case) -> None:
    issue(case=c, actor=None)
    if c.delivery_method == DeliveryMethod.PICKUP:
        queue_print(case=c, actor=None)
    elif c.delivery_method == DeliveryMethod.ELECTRONIC:
        deliver_online(case=c, actor=None)


def print_result(*, case: Case, actor: User, blank_serials: Mapping[str, str] | None = None) -> Case:
    """A clerk at an issuing window of the delivery hall prints the result (就近打证):
    print_queued → ready_for_pickup. ``blank_serials`` (result number → serial) names the
    pre-printed blank sheet the clerk actually fed in; without it the hall's next sheet is booked.
    Side effects: event (with the serials); case_ready_for_pickup SMS naming hall and window."""
    window: list[Window] = []
    wanted = {str(k).strip(): str(v or "").strip() for k, v in (blank_serials or {}).items() if str(v or "").strip()}

    live: list[Result] = []  # the case's unrevoked results: read once, for the check and the stock

    def check(c: Case) -> None:
        live.extend(c.results.filter(revoked_at__isnull=True))
        numbers = {r.number for r in live}
        unknown = sorted(set(wanted) - numbers)
        if unknown:
            raise ValidationError({"blank_serials": [_("该办件没有结果 %(n)s。") % {"n": "、".join(unknown)}]})

    def prepare(c: Case, now: datetime) -> Step:
        w = Actor(actor).window_at(c.delivery_hall_id, "issuing")
        assert w is not None  # guaranteed by the rule
        window.append(w)
        payload: dict[str, Any] = {"hall": c.delivery_hall.code if c.delivery_hall else None, "window": w.number}
        stock = hooks.print_stock()
        if stock is not None:
            # Pre-printed blank stock (空白证书) is serially numbered; the serial goes into the event.
            serials = {
                str(r.pk): serial
                for r in live
                if (serial := stock.allocate(result=r, actor=actor, window=w, serial=wanted.get(r.number) or None))
            }
            if serials:
                payload["blank_stock"] = serials
        return Step([], payload)

    def after(c: Case, now: datetime) -> None:
        notify.case_ready_for_pickup(c, window[0])

    return _transition(case, actor, "print", prepare, after=after, check=check)


def hand_over(
    *,
    case: Case,
    actor: User,
    id_checked: bool = True,
    collector_id_number: str = "",
    by_proxy: bool = False,
    collector_name: str = "",
    authorisation: str = "",
    authorisation_checked: bool = False,
) -> Case:
    """The delivery-hall clerk hands the printed result over after checking the collector's ID:
    ready_for_pickup → delivered. A collector ID number, when given, must be the applicant's —
    unless ``by_proxy`` (代领): then someone else collects, and their name, valid ID number and the
    applicant's written authorisation (委托书, its description; the clerk confirms having checked
    the original) are all required and recorded (the ID masked, with its lookup hash, so the ledger
    never holds it in clear). Side effects: event."""
    collector = (collector_id_number or "").replace(" ", "").upper()
    proxy: dict[str, Any] = {}

    def check(c: Case) -> None:
        if id_checked is not True:
            raise ValidationError({"id_checked": [_("请先核验领取人身份证件。")]})
        if not by_proxy:
            if collector and lookup_hash(collector) != c.applicant_id_hash:
                raise ValidationError(
                    {"collector_id_number": [_("领取人证件号码与申请人不一致；他人代领请选择“代领”并登记授权。")]}
                )
            return
        errors: dict[str, list[str]] = {}
        name = (collector_name or "").strip()
        if not name or len(name) > 64:
            errors["collector_name"] = [_("请填写代领人姓名。")]
        number = ""
        try:
            _kind, number, _review = validate_applicant_identifier(collector)
        except ValidationError as exc:
            errors["collector_id_number"] = list(exc.messages) or [_("请填写代领人证件号码。")]
        if number and lookup_hash(number) == c.applicant_id_hash:
            errors["collector_id_number"] = [_("代领人即申请人本人，无需登记代领。")]
        text = (authorisation or "").strip()
        if not text or len(text) > 200:
            errors["authorisation"] = [_("请登记申请人的授权委托书（编号或说明）。")]
        if authorisation_checked is not True:
            errors["authorisation_checked"] = [_("请先核验授权委托书原件。")]
        if errors:
            raise ValidationError(errors)
        proxy.update(
            {
                "collector": "proxy",
                "collector_name": name,
                "collector_id_masked": mask_id_number(number),
                "collector_id_hash": lookup_hash(number),
                "authorisation": text,
                "authorisation_checked": True,
            }
        )

    def prepare(c: Case, now: datetime) -> Step:
        c.delivered_at = now
        payload: dict[str, Any] = {"id_checked": True, "collector_matched": bool(collector) and not proxy}
        payload.update(proxy)
        return Step(["delivered_at"], payload)

    return _transition(case, actor, "hand_over", prepare, check=check)


_TRACKING = re.compile(r"^[A-Za-z0-9-]{6,40}$")


def mail(*, case: Case, actor: User, tracking_number: str) -> Case:
    """Post the result (free postal return): issued → mailed; tracking number required.
    Side effects: event; case_mailed SMS with the tracking number."""
    number = (tracking_number or "").strip()
    if not _TRACKING.match(number):
        raise ValidationError({"tracking_number": [_("请填写有效的邮件单号（6-40位字母或数字）。")]})

    def prepare(c: Case, now: datetime) -> Step:
        c.tracking_number = number
        return Step(["tracking_number"], {"tracking_number": number})

    def after(c: Case, now: datetime) -> None:
        notify.case_mailed(c)

    return _transition(case, actor, "mail", prepare, after=after)


def confirm_receipt(*, case: Case, actor: User | None) -> Case:
    """The applicant, a clerk or the postal callback (system) confirms the mail arrived:
    mailed → delivered. Side effects: event."""

    def prepare(c: Case, now: datetime) -> Step:
        c.delivered_at = now
        return Step(["delivered_at"], {})

    return _transition(case, actor, "confirm_receipt", prepare)


def withdraw(*, case: Case, actor: User, reason: str = "") -> Case:
    """The applicant withdraws before a decision: → withdrawn (terminal). A joint parent takes its
    open sub-cases with it. Side effects: event(s)."""

    def prepare(c: Case, now: datetime) -> Step:
        _stop_clock(c)
        return Step(CLOCK_FIELDS, {"reason": (reason or "").strip()[:500]})

    def after(c: Case, now: datetime) -> None:
        if c.is_joint_parent:
            for child in c.children.select_for_update().exclude(state__in=[*TERMINAL_STATES, S.APPROVED]):
                _transition(child, None, "withdraw", prepare)

    return _transition(case, actor, "withdraw", prepare, after=after)


# --- joint parent ----------------------------------------------------------------------------

_PAST_ACCEPTANCE = {S.ACCEPTED, S.UNDER_REVIEW, S.SUSPENDED, S.APPROVED}
_IN_REVIEW = {S.UNDER_REVIEW, S.SUSPENDED, S.APPROVED}


def _follow_children(parent: Case, now: datetime) -> None:
    """A joint parent follows its sub-cases (system steps): approved when all are approved, denied
    when any is denied (rejected when a part is refused before the parent was accepted)."""
    if parent.state not in (*ACCEPTANCE_STATES, *DECISION_STATES):
        return
    states = list(parent.children.values_list("state", "number", "decision_reason"))
    if not states:
        return
    failed = [(s, n, r) for s, n, r in states if s in (S.DENIED, S.REJECTED)]
    if failed:
        state, number, why = failed[0]
        reason = _("子件 %(number)s %(what)s：%(why)s") % {
            "number": number,
            "what": CaseState(state).label,
            "why": why,
        }
        if parent.state in ACCEPTANCE_STATES and state == S.REJECTED:
            reject(case=parent, actor=None, reason=reason)
            return
        if parent.state in ACCEPTANCE_STATES:
            accept(case=parent, actor=None)
        if parent.state == S.ACCEPTED:
            start_review(case=parent, actor=None)
        deny(case=parent, actor=None, reason=reason, legal_basis=parent.item.legal_basis or reason)
        return
    all_states = {s for s, _n, _r in states}
    if parent.state in ACCEPTANCE_STATES and all_states <= _PAST_ACCEPTANCE:
        accept(case=parent, actor=None)
    if parent.state == S.ACCEPTED and all_states & _IN_REVIEW:
        start_review(case=parent, actor=None)
    if parent.state == S.UNDER_REVIEW and all_states == {S.APPROVED}:
        approve(case=parent, actor=None)


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


# --- materials -------------------------------------------------------------------------------

MATERIAL_STATES = (S.DRAFT, S.RECEIVED, S.NEEDS_CORRECTION)
_MAGIC: list[tuple[bytes, str, str]] = [
    (b"%PDF-", "pdf", "application/pdf"),
    (b"\xff\xd8\xff", "jpg", "image/jpeg"),
    (b"\x89PNG\r\n\x1a\n", "png", "image/png"),
]


def max_upload_bytes() -> int:
    return int(getattr(settings, "MAX_UPLOAD_BYTES", 20 * 1024 * 1024))


def sniff_type(head: bytes) -> tuple[str, str] | None:
    for magic, ext, mime in _MAGIC:
        if head.startswith(magic):
            return ext, mime
    return None


def _material_actor(case: Case, user: User) -> str:
    """The source a material from this user gets, or raise 403."""
    a = Actor(user)
    if a.applicant_of(case) and case.receiving_hall_id is None:
        return MaterialSource.UPLOAD
    if a.clerk_at(case.receiving_hall_id):
        return MaterialSource.WINDOW_SCAN
    raise TransitionForbidden(_("您不能为该办件提交材料。"))


def _requirement(case: Case, code: str | MaterialRequirement) -> MaterialRequirement:
    # licences.actions resolves the requirement before delegating here: reuse it, no second query.
    if isinstance(code, MaterialRequirement):
        if code.item_id == case.item_id:
            return code
        code = code.code
    req = case.item.materials.filter(code=(code or "").strip()).first()
    if req is None:
        raise ValidationError({"requirement": [_("该事项没有编码为“%(code)s”的材料。") % {"code": code}]})
    return req


def _check_material_state(case: Case, user: User) -> None:
    if case.is_subcase:
        raise ValidationError({"case": [_("联办子件的材料随主件提交。")]})
    if case.state not in MATERIAL_STATES:
        raise TransitionConflict(
            _("当前状态“%(state)s”不能再提交材料。") % {"state": CaseState(case.state).label},
            state=case.state,
            allowed=available_transitions(Actor(user), case),
        )


def _supersede(case: Case, req: MaterialRequirement, now: datetime) -> None:
    Material.objects.filter(case=case, requirement=req, superseded_at__isnull=True).update(superseded_at=now)


def add_material_file(*, case: Case, actor: User, requirement: str, upload: Upload, filename: str = "") -> Material:
    """Store one file for a requirement: size limit (413), PDF/JPG/PNG by magic bytes (400), a random
    file name under MEDIA_ROOT (never served directly), its SHA-256. Replaces an earlier file for
    the same requirement. Side effects: the file on storage (removed again if the transaction fails)."""
    source = _material_actor(case, actor)
    _check_material_state(case, actor)
    req = _requirement(case, requirement)
    limit = max_upload_bytes()
    size = getattr(upload, "size", None)
    if size is not None and size > limit:
        raise UploadTooLarge(limit)
    upload.seek(0)
    kind = sniff_type(upload.read(16))
    if kind is None:
        raise ValidationError({"file": [_("仅支持 PDF、JPG、PNG 格式的文件。")]})
    upload.seek(0)
    digest = hashlib.sha256()
    total = 0
    for chunk in iter(lambda: upload.read(1024 * 1024), b""):
        total += len(chunk)
        if total > limit:
            raise UploadTooLarge(limit)
        digest.update(chunk)
    if total == 0:
        raise ValidationError({"file": [_("文件为空。")]})
    upload.seek(0)
    ext, mime = kind
    safe_name = re.sub(r"[^\w.\-\u4e00-\u9fff]", "_", (filename or "").rsplit("/", 1)[-1])[:200]
    with transaction.atomic():
        now = timezone.now()
        _supersede(case, req, now)
        material = Material(
            case=case,
            requirement=req,
            source=source,
            original_name=safe_name,
            content_type=mime,
            size=total,
            sha256=digest.hexdigest(),
            grade=MaterialGrade.UPLOADED,
            uploaded_by=actor,
        )
        material.file.save(f"upload.{ext}", File(upload), save=False)  # type: ignore[arg-type]
        stored = material.file.name
        try:
            material.save()
            ledger_records.record_material(material, case.number)
        except Exception:
            if stored:
                material.file.storage.delete(stored)
            raise
    return material


def add_material_e_license(
    *, case: Case, actor: User, requirement: str | MaterialRequirement, result_id: str | Result
) -> Material:
    """免提交: use the applicant's e-licence (an issued, unrevoked result) for a requirement that names
    that licence type; the applicant's consent is recorded. ``requirement`` / ``result_id`` may be
    the already-loaded objects (licences.actions passes them). Side effects: the material row."""
    _material_actor(case, actor)
    _check_material_state(case, actor)
    req = _requirement(case, requirement)
    if not req.e_license_type:
        raise ValidationError({"e_license": [_("该材料不能以电子证照代替。")]})
    if isinstance(result_id, Result):
        result: Result | None = result_id
    else:
        result = Result.objects.filter(pk=result_id).first() if _is_uuid(result_id) else None
    if result is None or result.holder_id_hash != case.applicant_id_hash or result.revoked_at is not None:
        raise ValidationError({"e_license": [_("未找到申请人名下有效的该电子证照。")]})
    if req.e_license_type not in (result.license_type, result.result_type, result.title):
        raise ValidationError({"e_license": [_("该电子证照不是此材料要求的证照类型。")]})
    with transaction.atomic():
        now = timezone.now()
        _supersede(case, req, now)
        material = Material.objects.create(
            case=case,
            requirement=req,
            source=MaterialSource.E_LICENSE,
            sha256=hashlib.sha256(f"{result.pk}|{result.number}|{result.issued_at.isoformat()}".encode()).hexdigest(),
            e_license=result,
            grade=MaterialGrade.ISSUED,
            consent_at=now,
            valid_until=result.valid_until,
            uploaded_by=actor,
        )
        ledger_records.record_material(material, case.number)
        return material


def add_material_shared(
    *, case: Case, actor: User, requirement: str | MaterialRequirement, material_id: int | str | Material
) -> Material:
    """材料共享: reuse a material the same applicant supplied in an earlier case for the same
    requirement code, while it is valid. ``requirement`` / ``material_id`` may be the already-loaded
    objects (licences.actions passes them). Side effects: the material row (same file, same digest)."""
    _material_actor(case, actor)
    _check_material_state(case, actor)
    req = _requirement(case, requirement)
    source: Material | None
    if isinstance(material_id, Material):
        source = material_id
    else:
        try:
            pk = int(material_id)
        except (TypeError, ValueError):
            pk = -1
        source = Material.objects.select_related("case", "requirement").filter(pk=pk).first()
    today = timezone.localdate()
    if (
        source is None
        or source.case.applicant_id_hash != case.applicant_id_hash
        or source.requirement.code != req.code
        or not source.file
        or (source.valid_until is not None and source.valid_until < today)
    ):
        raise ValidationError({"shared_material": [_("未找到申请人可复用的该材料。")]})
    with transaction.atomic():
        now = timezone.now()
        _supersede(case, req, now)
        material = Material.objects.create(
            case=case,
            requirement=req,
            source=MaterialSource.SHARED,
            file=source.file.name,
            original_name=source.original_name,
            content_type=source.content_type,
            size=source.size,
            sha256=source.sha256,
            shared_from=source,
            # The same bytes as the earlier case's material, with the trust that material earned.
            grade=source.grade,
            consent_at=now,
            valid_until=source.valid_until,
            uploaded_by=actor,
        )
        ledger_records.record_material(material, case.number)
        return material


_PLEDGE_MAX = 2000


def add_material_pledge(*, case: Case, actor: User, requirement: str | MaterialRequirement, text: str) -> Material:
    """告知承诺: the applicant's written pledge instead of a material, where the requirement allows it.
    Its digest is the SHA-256 of the pledge text; its grade is "pledge" (the lowest), so a
    requirement asking for a higher grade still blocks verify. Side effects: the material row and
    its ledger entry."""
    _material_actor(case, actor)
    _check_material_state(case, actor)
    req = _requirement(case, requirement)
    if not req.pledge_allowed:
        raise ValidationError({"pledge": [_("该材料不适用告知承诺。")]})
    body = (text or "").strip()
    if not body:
        raise ValidationError({"pledge": [_("请填写承诺内容。")]})
    if len(body) > _PLEDGE_MAX:
        raise ValidationError({"pledge": [_("承诺内容不能超过 %(n)s 字。") % {"n": _PLEDGE_MAX}]})
    with transaction.atomic():
        _supersede(case, req, timezone.now())
        material = Material.objects.create(
            case=case,
            requirement=req,
            source=MaterialSource.PLEDGE,
            grade=MaterialGrade.PLEDGE,
            pledge_text=body,
            size=len(body.encode()),
            sha256=hashlib.sha256(body.encode()).hexdigest(),
            uploaded_by=actor,
        )
        ledger_records.record_material(material, case.number)
        return material


# --- viewing a material (download / watermarked preview) -------------------------------------


@dataclass(frozen=True)
class OpenedMaterial:
    data: bytes
    content_type: str
    filename: str
    page: int = 1
    pages: int = 1


def material_view_payload(view: MaterialView, case_number: str, sha256: str) -> dict[str, Any]:
    """The ledger payload of one view (also rebuilt by the verifier's ``material_view`` resolver)."""
    return {
        "case": case_number,
        "material": view.material_id,
        "sha256": sha256,
        "viewer": view.viewer_id,
        "viewer_label": view.viewer_label,
        "kind": view.kind,
        "outcome": view.outcome,
        "at": view.at,
    }


def _record_view(case: Case, material: Material, actor: User, kind: str, outcome: str) -> MaterialView:
    with sqlite_writer(), transaction.atomic():
        view = MaterialView.objects.create(
            case=case,
            material=material,
            viewer=actor,
            viewer_label=_label(actor),
            viewer_role=actor.role,
            kind=kind,
            outcome=outcome,
            at=timezone.now(),
        )
        ledger_append(
            subject=ledger_records.case_subject(case.number),
            kind=LedgerKind.OTHER,
            payload=material_view_payload(view, case.number, material.sha256),
            ref=f"material_view:{view.pk}",
        )
    return view


def watermark_lines(case: Case, actor: User, at: datetime) -> list[str]:
    # Beijing time whatever the server's TIME_ZONE: the watermark is read by people in Guizhou.
    local = timezone.localtime(at, zoneinfo.ZoneInfo("Asia/Shanghai"))
    return [
        _("仅供 %(number)s 办理使用") % {"number": case.number},
        _("查阅人：%(name)s（%(username)s）") % {"name": _label(actor), "username": actor.get_username()},
        _("时间：%(at)s（北京时间）") % {"at": local.strftime("%Y-%m-%d %H:%M:%S")},
    ]


def open_material(*, case: Case, material: Material, actor: User, kind: str, page: int = 1) -> OpenedMaterial:
    """Serve one material's file to ``actor`` (whose scope the caller already checked with
    ``selectors.material_for``): the stored bytes are re-hashed first; a digest mismatch or a
    missing file is refused (MaterialTampered / MaterialUnavailable) and logged as an alert.
    ``kind="preview"`` returns a watermarked PNG of ``page`` (PreviewUnavailable when it cannot be
    rendered). Side effects: a MaterialView row with its ledger entry, for served and refused
    attempts alike (committed even when the file is refused)."""
    if kind not in MaterialView.Kind.values:
        raise ValidationError({"kind": [_("未知的查阅方式。")]})
    try:
        data = material_files.read_checked(material)
    except material_files.MaterialTampered as exc:
        _record_view(case, material, actor, kind, MaterialView.Outcome.TAMPERED)
        # An alert, not just a refusal: the file under MEDIA_ROOT was changed after submission.
        logger.error(
            "SECURITY: material %s of case %s failed its SHA-256 check (recorded %s, stored %s); refused to %s",
            material.pk,
            case.number,
            exc.expected,
            exc.actual,
            actor.get_username(),
        )
        raise
    except material_files.MaterialUnavailable:
        _record_view(case, material, actor, kind, MaterialView.Outcome.MISSING)
        logger.error("material %s of case %s has no readable stored file", material.pk, case.number)
        raise
    if kind == MaterialView.Kind.PREVIEW:
        preview = material_files.watermarked_preview(
            data, material.content_type, watermark_lines(case, actor, timezone.now()), page=page
        )
        _record_view(case, material, actor, kind, MaterialView.Outcome.SERVED)
        return OpenedMaterial(
            preview.png, "image/png", f"{case.number}-{material.pk}-p{preview.page}.png", preview.page, preview.pages
        )
    _record_view(case, material, actor, kind, MaterialView.Outcome.SERVED)
    ext = {"application/pdf": "pdf", "image/jpeg": "jpg", "image/png": "png"}.get(material.content_type, "bin")
    return OpenedMaterial(
        data, material.content_type or "application/octet-stream", f"{case.number}-{material.requirement.code}.{ext}"
    )


# --- facts about a case that are not transitions ---------------------------------------------


def record_case_fact(*, case: Case, actor: User | None, name: str, payload: dict[str, Any]) -> CaseEvent:
    """Append an event that records a fact without moving the state (a video verification's
    outcome): from = to = the current state, so the case's chain of events stays unbroken.
    Call inside the caller's transaction. Locks the case row (the next seq is allocated under it)."""
    if not transaction.get_connection().in_atomic_block:
        raise RuntimeError("record_case_fact() must run inside the caller's transaction")
    locked = Case.objects.select_for_update().only("pk", "state", "last_event_seq", "number").get(pk=case.pk)
    locked.last_event_seq += 1
    Case.objects.filter(pk=case.pk).update(last_event_seq=locked.last_event_seq, updated_at=timezone.now())
    case.last_event_seq = locked.last_event_seq
    event = CaseEvent(
        case=case,
        seq=locked.last_event_seq,
        transition=name,
        from_state=locked.state,
        to_state=locked.state,
        actor=actor,
        actor_label=_label(actor),
        at=timezone.now(),
        payload=payload,
    )
    ledger_records.create_case_event(event, case.number)
    return event


def _is_uuid(value: str) -> bool:
    import uuid

    try:
        uuid.UUID(str(value))
    except ValueError:
        return False
    return True


# --- the table the API and the pages dispatch on ------------------------------------------

TRANSITION_ACTIONS: dict[str, Callable[..., Case]] = {
    "submit": submit,
    "verify": verify,
    "transfer": transfer,
    "request_correction": request_correction,
    "resubmit": resubmit,
    "accept": accept,
    "reject": reject,
    "start_review": start_review,
    "suspend": suspend,
    "resume": resume,
    "approve": approve,
    "deny": deny,
    "issue": issue,
    "queue_print": queue_print,
    "print": print_result,
    "hand_over": hand_over,
    "mail": mail,
    "confirm_receipt": confirm_receipt,
    "deliver_online": deliver_online,
    "withdraw": withdraw,
}

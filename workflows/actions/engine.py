"""The transition engine: the common body of every transition action, its events and ledger entries.

Each transition action, in ONE transaction:
1. checks the actor's role and jurisdiction (``workflows.rules``) → ``TransitionForbidden`` (403);
2. runs the django-fsm transition (wrong state → ``TransitionConflict``, 409 with what is allowed);
3. updates timestamps and clocks and saves with ``update_fields`` — ConcurrentTransitionMixin
   adds ``WHERE state = <state we read>`` so of two concurrent writers exactly one wins;
4. appends the CaseEvent (seq n+1: a unique (case, seq) keeps one chain of events) and its
   ledger entry; on PostgreSQL steps 3-4 are ONE statement (the same conditional UPDATE as a CTE
   that the event INSERT selects from, feeding ``ledger_append()``: no row updated, nothing
   written → 409); follow-up system steps of the same case share one more UPDATE, on
   PostgreSQL one statement with their events and entries (``system_chain``);
5. writes the applicant's SMS to the outbox (same transaction; on PostgreSQL in the statement of
   step 3-4, selecting FROM the guarded UPDATE, so a step that loses the race writes no text)
   and schedules anything that talks to the outside world with ``transaction.on_commit``.
Invalid input raises django ``ValidationError`` (400) before anything is written.

``actor=None`` means the system (deemed acceptance, issuing, routing to print, a joint parent
following its children); only internal code passes None.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator, Sequence
from contextlib import contextmanager
from contextvars import ContextVar
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from django.core.exceptions import ValidationError
from django.db import IntegrityError, connection, models, transaction
from django.db.models.sql import UpdateQuery
from django.utils import timezone
from django.utils.translation import gettext as _
from django_fsm import ConcurrentTransition, TransitionNotAllowed, can_proceed

from accounts.models import Role, User
from core import errors as domain
from core.inserts import insert_of, mark_saved
from notifications.actions import mark_written, outbox_inserts, staged_sms
from workdays import calendar
from workflows import extensions, ledger_records
from workflows.models import (
    Case,
    CaseEvent,
    CaseSequence,
    CaseState,
    Material,
)
from workflows.results import forget_results
from workflows.rules import Actor, available_transitions, may

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


def _insert_numbered(case: Case, region_code: str, when: datetime) -> bool:
    """PostgreSQL: take the day's next number of ``region_code`` and INSERT the new ``case`` with it
    in ONE statement (the counter's UPDATE as a CTE the INSERT selects from; the counter row stays
    locked until the transaction ends, as in ``_next_number``). Sets ``case.pk`` and
    ``case.number``. False, with nothing written, when the day's counter row does not exist yet
    (the day's first case: ``_next_number`` creates it)."""
    day = calendar.local_date(when)
    insert, params = insert_of(
        case,
        select_from="n",
        # As _next_number's f"{seq:06d}": at least six digits, never cut.
        computed={"number": "%s || lpad(n.last::text, greatest(6, length(n.last::text)), '0')"},
        values={"number": f"{region_code}-{day:%Y%m%d}-"},
        returning=("id", "number"),
    )
    table = connection.ops.quote_name(CaseSequence._meta.db_table)
    sql = f"WITH n AS (UPDATE {table} SET last = last + 1 WHERE region_code = %s AND day = %s RETURNING last) {insert}"  # noqa: S608
    with connection.cursor() as cur:
        cur.execute(sql, [region_code, day.isoformat(), *params])
        row = cur.fetchone()
    if row is None:
        return False
    case.pk, case.number = row
    mark_saved(case)
    case._update_initial_state()  # as ConcurrentTransitionMixin.save() leaves it
    return True


def _append_event(
    case: Case,
    *,
    name: str,
    from_state: str,
    actor: User | None,
    at: datetime,
    payload: dict[str, Any] | None = None,
    guard: tuple[str, list[Any]] | None = None,
    also: Sequence[tuple[str, Sequence[Any]]] = (),
) -> CaseEvent | None:
    """Write the event and its ledger entry (same transaction; one statement on PostgreSQL).
    With ``guard`` (the transition's conditional UPDATE, PostgreSQL) all three go in one
    statement, and None means the UPDATE matched no row: nothing was written. ``also``
    (PostgreSQL): more writes of the step in the same statement (its SMS)."""
    return _write_event(
        case,
        _event(case, name=name, from_state=from_state, actor=actor, at=at, payload=payload),
        guard=guard,
        also=also,
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


_CREATED_EVENT = "_created_event"


def hold_created_event(case: Case, event: CaseEvent) -> None:
    """``event`` is the first event of ``case``, which this request has just created: until
    anything else happens to the case it is its whole timeline (``created_timeline``)."""
    case.__dict__[_CREATED_EVENT] = (event.seq, event)


def created_timeline(case: Case) -> list[CaseEvent] | None:
    """The timeline of a case created by this request as written, while it is still only its
    first event (nothing has recorded another since: the case's seq is that event's); else None."""
    held = case.__dict__.get(_CREATED_EVENT)
    if held is None or held[0] != case.last_event_seq:
        return None
    return [held[1]]


_HELD_MATERIALS = "_held_materials"


def hold_materials(case: Case, materials: list[Material]) -> None:
    """From a transition's ``check`` or ``prepare``: ``materials`` are the case's live materials
    (with requirement and sighting hall, in the model's order) as the transition leaves them; the
    response shows them (``held_materials``) instead of reading them again. Only for transitions
    into a state in which materials cannot change (workflows.actions.materials.MATERIAL_STATES)
    and nothing but a recorded fact (which takes a seq) changes a material: they are what is
    stored for as long as the case's seq is the one this transition writes."""
    case.__dict__[_HELD_MATERIALS] = (case.last_event_seq + 1, materials)


def held_materials(case: Case) -> list[Material] | None:
    held = case.__dict__.get(_HELD_MATERIALS)
    if held is None or held[0] != case.last_event_seq:
        return None
    return held[1]


_SPAWNED = "_spawned_children"


def hold_spawned_children(parent: Case, children: list[Case]) -> None:
    """From the follow-up of the step that spawned them (workflows.actions.joint): ``children``
    are all the sub-cases of ``parent`` (with their authorities) as that step wrote them."""
    parent.__dict__[_SPAWNED] = (parent.last_event_seq, children)


def take_spawned_children(parent: Case) -> list[Case] | None:
    """The sub-cases the request's own step just spawned, once (the response to that step shows
    them as written); None when no step of this object spawned them, when the parent moved on
    since (its seq), or when they were taken already: a sub-case moves without the parent's seq
    changing, so they are handed over only to the response right after the step."""
    held = parent.__dict__.pop(_SPAWNED, None)
    if held is None or held[0] != parent.last_event_seq:
        return None
    return held[1]


# While a transition's ``prepare`` runs on PostgreSQL: the new rows it hands to ``write_with_step``.
_step_rows: ContextVar[list[models.Model] | None] = ContextVar("workflows_step_rows", default=None)
_WITH_ROWS = "_written_with_rows"


def write_with_step(rows: Sequence[models.Model]) -> None:
    """From a transition's ``prepare``: new rows (no auto primary key, no model signals) that the
    step writes. On PostgreSQL they go in the statement that writes the step's event (CTEs of it:
    one round trip less, e.g. the results an ``issue`` creates), in the same transaction as
    ``bulk_create`` would put them; elsewhere, and outside a transition, ``bulk_create`` now."""
    staged = _step_rows.get()
    if staged is None or not rows:
        if rows:
            type(rows[0])._default_manager.bulk_create(list(rows))
        return
    staged.extend(rows)


def _rows_inserts(event: CaseEvent, *, from_guard: bool) -> list[tuple[str, list[Any]]]:
    return [insert_of(r, select_from="guard" if from_guard else None) for r in event.__dict__.get(_WITH_ROWS, ())]


def _rows_written(event: CaseEvent) -> None:
    for row in event.__dict__.pop(_WITH_ROWS, ()):
        mark_saved(row)


def _write_event(
    case: Case,
    event: CaseEvent,
    *,
    guard: tuple[str, list[Any]] | None = None,
    also: Sequence[tuple[str, Sequence[Any]]] = (),
) -> CaseEvent | None:
    # Same transaction as the event: the ledger entry and the fact commit or roll back together
    # (on PostgreSQL one statement writes both, and the rows the step handed to write_with_step).
    also = [*also, *_rows_inserts(event, from_guard=guard is not None)]
    if ledger_records.create_case_event(event, case.number, guard=guard, also=also) is None:
        return None
    _rows_written(event)
    return event


def _with_rows(event: CaseEvent, rows: list[models.Model]) -> CaseEvent:
    """``event`` is written with ``rows`` (write_with_step) in its statement."""
    if rows:
        event.__dict__[_WITH_ROWS] = list(rows)
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
    forget_results(case)  # what the rolled-back transaction wrote or read of them
    case._update_initial_state()


# True while a transition's follow-up steps run (see _transition).
_in_after: ContextVar[bool] = ContextVar("workflows_in_after", default=False)
# While a system chain runs (system_chain: a transition's follow-up steps, a joint parent following
# its sub-cases): that case, the fields its steps changed and, on PostgreSQL, their held events
# (with the rows and SMS each step handed over). The case's row is locked (by the transition's own
# conditional UPDATE, or SELECT ... FOR UPDATE), so the chain's state changes are written by ONE
# UPDATE when it ends instead of one per step; on PostgreSQL that UPDATE is the guard of one
# statement writing every held event in seq order with its ledger entry (ledger_append_many).
_deferred: ContextVar[tuple[Case, list[str], list[CaseEvent]] | None] = ContextVar("workflows_deferred", default=None)


@contextmanager
def system_chain(case: Case) -> Iterator[None]:
    """The steps taken on ``case`` inside the block are one chain: written when it ends by ONE
    UPDATE of the fields they changed, conditional on the state the row holds now (as
    ConcurrentTransitionMixin's save would be), and on PostgreSQL in ONE statement with that
    UPDATE as guard: their events in seq order with their ledger entries (``ledger_append_many``),
    the rows they created and their SMS. Only for a row whose state the caller wrote in this
    transaction, or locked (SELECT ... FOR UPDATE): nobody else can move it meanwhile. Used for
    a transition's follow-up steps (approve → issue → queue_print) and a joint parent following
    its sub-cases. Steps inside run without a savepoint: if one fails, the whole step fails."""
    pending: list[str] = []
    held: list[CaseEvent] = []
    written_state = case.state  # what the row holds now
    token = _in_after.set(True)
    chain = _deferred.set((case, pending, held))
    try:
        yield
    finally:
        _deferred.reset(chain)
        _in_after.reset(token)
    if pending and held:
        guard = _conditional_update(case, list(dict.fromkeys(pending)), written_state)
        if not _write_events(case, held, guard=guard):
            raise ConcurrentTransition("the case left the state this chain started from")
        case._update_initial_state()
    elif pending:
        # SQLite (events written as they were taken): one UPDATE for every step of the chain.
        case.save(update_fields=list(dict.fromkeys(pending)))


def _write_events(case: Case, events: list[CaseEvent], *, guard: tuple[str, list[Any]]) -> bool:
    """PostgreSQL: ``events`` of ``case`` (seq order), their entries, and the rows and SMS each step
    handed over, in one statement with ``guard``; False when the guard matched no row."""
    also = [insert for event in events for insert in _rows_inserts(event, from_guard=True)]
    if not ledger_records.create_case_events(events, case.number, guard=guard, also=also):
        return False
    for event in events:
        _rows_written(event)
    return True


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
    notify: Callable[[Case], None] | None = None,
) -> Case:
    """The common body of every transition action (see module docstring).

    ``check`` validates input against the case before the state changes (ValidationError → 400);
    ``prepare`` sets the extra fields after the state changed; ``notify`` writes the step's SMS to
    the outbox (``workflows.notify``; on PostgreSQL in the statement of the step's own guarded
    UPDATE: one round trip less, and written only if the step wins); ``after`` runs follow-up steps in
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
            if case.state == CaseState.DELIVERED and case.pk is not None:
                # Told on commit, never if this step rolls back (core.extensions.Event).
                extensions.case_delivered.on_commit(case_id=case.pk)
            rows: list[models.Model] = []
            rows_token = _step_rows.set(rows if connection.vendor == "postgresql" else None)
            try:
                step = prepare(case, now) if prepare is not None else Step(fields=[], payload={})
            finally:
                _step_rows.reset(rows_token)
            read_seq = case.last_event_seq
            case.last_event_seq += 1
            fields = ["state", "last_event_seq", "updated_at", *step.fields]
            deferred = _deferred.get() if nested else None
            event_args = {"name": name, "from_state": from_state, "actor": user, "at": now, "payload": step.payload}
            in_chain = deferred is not None and deferred[0] is case
            if deferred is not None and in_chain:
                # A follow-up step on a row this transaction holds (the transition's own, or one
                # locked for a system chain): written when the chain ends (system_chain).
                deferred[1].extend(fields)
                if connection.vendor == "postgresql":
                    # Its event, its new rows and its SMS go in the chain's one statement, after
                    # the events held before it (seq order).
                    with staged_sms() as texts:
                        if notify is not None:
                            notify(case)
                        mark_written(texts)  # the chain's statement writes them, with the event
                    deferred[2].append(_with_rows(_event(case, **event_args), [*rows, *texts]))
                else:
                    _append_event(case, **event_args)
                    if notify is not None:
                        notify(case)
            elif connection.vendor == "postgresql":
                # One round trip: the conditional UPDATE (the state we read, as the mixin's save
                # checks it), the event and its ledger entry, and the step's SMS. No row updated →
                # nothing written.
                guard = _conditional_update(case, list(dict.fromkeys(fields)), from_state, read_seq)
                with staged_sms() as texts:
                    if notify is not None:
                        notify(case)
                    also = outbox_inserts(texts, from_guard=True)
                    event = _with_rows(_event(case, **event_args), rows)
                    if _write_event(case, event, guard=guard, also=also) is None:
                        raise ConcurrentTransition("the case left the state (or the event seq) we read")
                    mark_written(texts)
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
                if notify is not None:
                    notify(case)
            if after is not None and in_chain:
                # This step is itself held in a chain of this case: its follow-ups join that chain.
                after(case, now)
            elif after is not None:
                with system_chain(case):  # the row holds the state this transition wrote
                    after(case, now)
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

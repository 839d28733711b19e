"""The authority's steps (accept, reject, review, suspend, resume, approve, deny), and a joint
parent following its sub-cases (system steps of the same kinds)."""

from __future__ import annotations

from datetime import datetime

from django.core.exceptions import ValidationError
from django.db.models import Prefetch
from django.utils import timezone
from django.utils.translation import gettext as _

from accounts.models import User
from workdays import calendar
from workflows import notify
from workflows.actions.clocks import CLOCK_FIELDS, _set_decision_clock, _stop_clock
from workflows.actions.delivery import _issue_and_route
from workflows.actions.engine import Step, _reason, _transition, hold_materials, system_chain
from workflows.actions.submission import check_min_grades
from workflows.models import (
    ACCEPTANCE_STATES,
    DECISION_STATES,
    Case,
    CaseState,
)

S = CaseState


def _after_decision_step(c: Case, now: datetime) -> None:
    if c.parent_id is not None:
        parent = _locked_parent(c.parent_id)
        # The parent's row is locked: the steps it takes (accept → start_review, approve → issue →
        # queue_print) are one chain, written in one statement.
        with system_chain(parent):
            _follow_children(parent, now)


def _locked_parent(pk: int) -> Case:
    """A joint parent, its row locked (only its own: ``of``), with what following its sub-cases
    reads: its item (the SMS, the result's title), its delivery hall (routing the result) and its
    sub-cases with their authorities (the states to follow, the parts to issue). Two queries."""
    children = Prefetch("children", queryset=Case.objects.select_related("authority"))  # the default order
    return (
        Case.objects.select_for_update(of=("self",))
        .select_related("item", "delivery_hall")
        .prefetch_related(children)
        .get(pk=pk)
    )


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
            materials = check_min_grades(c)
            if materials is not None:
                hold_materials(c, materials)  # accepted: the materials cannot change any more

    def prepare(c: Case, now: datetime) -> Step:
        c.accepted_at = now
        c.suspended_days = 0
        c.sla_status = ""
        _set_decision_clock(c, now)
        return Step(["accepted_at", "suspended_days", *CLOCK_FIELDS], {"deemed": True} if deemed else {})

    def texts(c: Case) -> None:
        if not c.is_joint_parent:
            notify.case_accepted(c)

    return _transition(case, actor, "accept", prepare, after=_after_decision_step, check=check, notify=texts)


def reject(*, case: Case, actor: User | None, reason: str) -> Case:
    """不予受理 with a reason: submitted / transferred → rejected (terminal).
    Side effects: event; case_decided SMS; a joint parent follows."""
    text = _reason(reason)

    def prepare(c: Case, now: datetime) -> Step:
        c.decided_at = now
        c.decision_reason = text
        _stop_clock(c)
        return Step(["decided_at", "decision_reason", *CLOCK_FIELDS], {"reason": text})

    def texts(c: Case) -> None:
        if not c.is_subcase:
            notify.case_decided(c, _("不予受理（%(reason)s）") % {"reason": text})

    return _transition(case, actor, "reject", prepare, after=_after_decision_step, notify=texts)


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
    Side effects: event(s); result record; case_decided SMS; result_issued event on commit."""

    def prepare(c: Case, now: datetime) -> Step:
        c.decided_at = now
        _stop_clock(c)
        return Step(["decided_at", *CLOCK_FIELDS], {})

    def texts(c: Case) -> None:
        if not c.is_subcase:
            notify.case_decided(c, _("准予"))

    def after(c: Case, now: datetime) -> None:
        if not c.is_subcase:
            _issue_and_route(c)
        else:
            _after_decision_step(c, now)

    return _transition(case, actor, "approve", prepare, after=after, notify=texts)


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

    def texts(c: Case) -> None:
        if not c.is_subcase:  # the parent's decision is the one the applicant hears about
            notify.case_decided(c, _("不予批准（%(reason)s）") % {"reason": text})

    return _transition(case, actor, "deny", prepare, after=_after_decision_step, check=check, notify=texts)


# --- joint parent ----------------------------------------------------------------------------

_PAST_ACCEPTANCE = {S.ACCEPTED, S.UNDER_REVIEW, S.SUSPENDED, S.APPROVED}
_IN_REVIEW = {S.UNDER_REVIEW, S.SUSPENDED, S.APPROVED}


def _follow_children(parent: Case, now: datetime) -> None:
    """A joint parent follows its sub-cases (system steps): approved when all are approved, denied
    when any is denied (rejected when a part is refused before the parent was accepted)."""
    if parent.state not in (*ACCEPTANCE_STATES, *DECISION_STATES):
        return
    # Read with the parent (_locked_parent), after this transaction wrote the sub-case's new state.
    states = [(ch.state, ch.number, ch.decision_reason) for ch in parent.children.all()]
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

"""After the decision: issuing the result, routing it, printing, handing over, mailing; and withdrawal."""

from __future__ import annotations

import re
from collections.abc import Mapping
from datetime import datetime
from typing import Any

from django.core.exceptions import ValidationError
from django.utils.translation import gettext as _

from accounts.identity import validate_applicant_identifier
from accounts.models import User
from accounts.protect import lookup_hash, mask_id_number
from halls.models import Window
from workflows import extensions, notify
from workflows.actions.clocks import CLOCK_FIELDS, _stop_clock
from workflows.actions.engine import Step, _transition, write_with_step
from workflows.models import (
    TERMINAL_STATES,
    Case,
    CaseState,
    DeliveryMethod,
)
from workflows.results import Result, hold_results
from workflows.rules import Actor

S = CaseState


def _result_number(case: Case, index: int) -> str:
    return f"R{case.number}-{index}"


def _approved_parts(parent: Case) -> list[Case]:
    """The approved sub-cases of a joint parent, by number, with their authorities: the ones
    ``_follow_children`` read with the parent when it is that step that issues (no second read)."""
    children = getattr(parent, "_prefetched_objects_cache", {}).get("children")
    if children is None:
        return list(parent.children.filter(state=S.APPROVED).select_related("authority").order_by("number"))
    return sorted((ch for ch in children if ch.state == S.APPROVED), key=lambda ch: ch.number)


def issue(*, case: Case, actor: User | None = None) -> Case:
    """The system issues the result record(s): approved → issued. A joint parent gets one result per
    approved sub-case, each from that sub-case's authority. Rendering/signing the document is done by
    the results module on the ``result_issued`` event after commit.
    Side effects: Result rows; event; the result_issued event on commit."""

    def prepare(c: Case, now: datetime) -> Step:
        parts = _approved_parts(c) if c.is_joint_parent else [c]
        title = c.item.result_name or c.item.name
        created: list[Result] = []
        for index, part in enumerate(parts, start=1):
            assert part.authority is not None
            created.append(
                Result(
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
        # Written with the issue event (on PostgreSQL in its statement; one INSERT each, else one
        # bulk INSERT); the ids are the model's uuid4 defaults, set before the INSERT.
        write_with_step(created)
        # The case had no result before (the numbers are unique): these are all of them.
        hold_results(c, created)
        for r in created:
            extensions.result_issued.on_commit(result=r)
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
        # Every result of the case, read once: the live ones for the check and the stock, and all
        # of them (with their issuing department) for the response (workflows.results.held_results).
        stock = extensions.print_stock.one()
        # What the hall's blank stock has to say about them comes with them (one read).
        extra = stock.result_annotations(hall_id=c.delivery_hall_id) if stock is not None else {}
        rows = list(c.results.select_related("issuing_department").annotate(**extra))
        hold_results(c, rows)
        live.extend(r for r in rows if r.revoked_at is None)
        numbers = {r.number for r in live}
        unknown = sorted(set(wanted) - numbers)
        if unknown:
            raise ValidationError({"blank_serials": [_("该办件没有结果 %(n)s。") % {"n": "、".join(unknown)}]})

    def prepare(c: Case, now: datetime) -> Step:
        w = Actor(actor).window_at(c.delivery_hall_id, "issuing")
        assert w is not None  # guaranteed by the rule
        window.append(w)
        payload: dict[str, Any] = {"hall": c.delivery_hall.code if c.delivery_hall else None, "window": w.number}
        stock = extensions.print_stock.one()
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

    def texts(c: Case) -> None:
        notify.case_ready_for_pickup(c, window[0])

    return _transition(case, actor, "print", prepare, check=check, notify=texts)


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

    return _transition(case, actor, "mail", prepare, notify=notify.case_mailed)


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

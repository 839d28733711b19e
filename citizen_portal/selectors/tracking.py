"""Tracking one's own cases (我的办件): lists, the live status, materials, timeline, results.

Everything here reads for ONE citizen: every case query is filtered by ``applicant=user`` so a
citizen can never reach another applicant's case, whatever the workflow's wider scopes allow."""

from __future__ import annotations

import hashlib
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from django.db.models import Count, Max, QuerySet, Sum
from django.urls import reverse
from django.utils.translation import gettext as _

from accounts.models import User
from halls.models import Hall
from ratings.actions import RATEABLE_STATES
from ratings.models import Rating
from services.models import MaterialRequirement
from workflows.actions import MATERIAL_STATES, current_materials
from workflows.models import (
    ACCEPTANCE_STATES,
    DECISION_STATES,
    TERMINAL_STATES,
    Case,
    CaseState,
    CorrectionNotice,
    Material,
)
from workflows.registry import TRANSITION_LABELS
from workflows.results import Result
from workflows.rules import Actor, available_transitions

# What a citizen may do from their own pages (the workflow's rules decide whether they may now).
CITIZEN_TRANSITIONS = ("submit", "resubmit", "confirm_receipt", "withdraw")

CASE_FILTERS: dict[str, tuple[str, ...]] = {
    # 需要我处理: drafts to finish, corrections to hand in, mail to confirm, results to collect.
    "todo": ("draft", "needs_correction", "mailed", "ready_for_pickup"),
    "open": (
        "submitted",
        "received",
        "verified",
        "transferred",
        "accepted",
        "under_review",
        "suspended",
        "approved",
        "issued",
        "print_queued",
    ),
    "done": ("delivered", "rejected", "denied", "withdrawn"),
}


def my_cases(user: User, *, group: str = "") -> QuerySet[Case]:
    """The citizen's own applications (joint parents, never their sub-cases), newest first."""
    qs = (
        Case.objects.filter(applicant_id=user.pk, parent__isnull=True)
        .select_related("item", "authority", "jurisdiction", "delivery_hall")
        .defer("jurisdiction__boundary")
        .order_by("-created_at", "-pk")
    )
    if group in CASE_FILTERS:
        qs = qs.filter(state__in=CASE_FILTERS[group])
    return qs


@dataclass(frozen=True)
class Deadline:
    """The running clock the applicant cares about: acceptance (5 working days) or decision."""

    kind: str  # "accept" | "decide"
    at: datetime
    paused: bool


def deadline_of(case: Case) -> Deadline | None:
    """None when no clock runs for the applicant (draft, correction pending, decided, finished)."""
    if case.state in ACCEPTANCE_STATES and case.accept_by is not None:
        return Deadline(kind="accept", at=case.accept_by, paused=False)
    if case.state in (*DECISION_STATES, CaseState.SUSPENDED) and case.decide_by is not None:
        return Deadline(kind="decide", at=case.decide_by, paused=case.state == CaseState.SUSPENDED)
    return None


def my_case(user: User, number: str) -> Case | None:
    """One of the citizen's own cases by number; None (→ 404) for anyone else's."""
    return (
        Case.objects.filter(applicant_id=user.pk, number=number)
        .select_related("item", "jurisdiction", "authority", "receiving_hall", "delivery_hall", "parent")
        .defer("jurisdiction__boundary")
        .first()
    )


@dataclass(frozen=True)
class CaseStatus:
    """The few columns the live tracker polls: one indexed row (plus one aggregate for a joint parent)."""

    number: str
    state: str
    sla_status: str
    updated_at: datetime
    events: int
    children_key: str

    @property
    def label(self) -> str:
        return str(CaseState(self.state).label)

    @property
    def terminal(self) -> bool:
        return self.state in TERMINAL_STATES

    @property
    def etag(self) -> str:
        raw = f"{self.state}|{self.events}|{self.updated_at.isoformat()}|{self.sla_status}|{self.children_key}"
        return '"' + hashlib.sha256(raw.encode()).hexdigest()[:20] + '"'


def case_status(user: User, number: str) -> CaseStatus | None:
    row = (
        Case.objects.filter(applicant_id=user.pk, number=number)
        .values("pk", "state", "sla_status", "updated_at", "last_event_seq", "mode", "parent_id")
        .first()
    )
    if row is None:
        return None
    children_key = ""
    if row["mode"] == "joint" and row["parent_id"] is None:
        # A sub-case moving at its authority changes what the parent's page shows.
        agg = Case.objects.filter(parent_id=row["pk"]).aggregate(
            n=Count("pk"), last=Max("updated_at"), seq=Sum("last_event_seq")
        )
        children_key = f"{agg['n']}:{agg['seq']}:{agg['last'].isoformat() if agg['last'] else ''}"
    return CaseStatus(
        number=number,
        state=row["state"],
        sla_status=row["sla_status"],
        updated_at=row["updated_at"],
        events=row["last_event_seq"],
        children_key=children_key,
    )


def citizen_transitions(user: User, case: Case) -> list[str]:
    """The steps this citizen may take on this case now (state, conditions and the workflow's rules)."""
    allowed = available_transitions(Actor(user), case)
    return [t for t in CITIZEN_TRANSITIONS if t in allowed]


def materials_editable(user: User, case: Case) -> bool:
    """Can the citizen add or replace materials now? Online cases in draft or awaiting correction;
    a case received at a hall gets its materials at a window (the workflow refuses otherwise)."""
    return (
        case.state in MATERIAL_STATES
        and case.receiving_hall_id is None
        and case.parent_id is None
        and case.applicant_id == user.pk
    )


@dataclass
class RequirementRow:
    """One material requirement of the case's item with what the applicant has supplied for it."""

    requirement: MaterialRequirement
    material: Material | None
    missing: bool
    e_licences: list[Any] = field(default_factory=list)
    shared: list[Material] = field(default_factory=list)
    problem: str = ""


def requirement_rows(case: Case, *, with_reuse: bool, notice: CorrectionNotice | None = None) -> list[RequirementRow]:
    """Per requirement: the current material, whether a required one is missing, what the open
    correction notice says about it, and (when materials can change) the e-licences and earlier
    materials the applicant may reuse instead of uploading (免提交 / 材料共享)."""
    source = case.parent if case.parent_id and case.parent is not None else case
    current = {m.requirement_id: m for m in current_materials(source)}
    reuse: dict[str, dict[str, Any]] = {}
    if with_reuse:
        from licences.selectors import reusable_for_case

        reuse = {row["requirement"]: row for row in reusable_for_case(source)}
    problems: dict[str, str] = {}
    if notice is not None:
        for entry in notice.items:
            if entry.get("requirement"):
                problems[entry["requirement"]] = entry.get("reason", "")
    rows = []
    for req in source.item.materials.all():
        m = current.get(req.pk)
        extra = reuse.get(req.code, {})
        rows.append(
            RequirementRow(
                requirement=req,
                material=m,
                missing=req.required and m is None,
                e_licences=list(extra.get("e_licences", [])),
                shared=list(extra.get("shared_materials", [])),
                problem=problems.get(req.code, ""),
            )
        )
    return rows


def open_notice(case: Case) -> CorrectionNotice | None:
    """The correction notice (一次性告知) the applicant still has to answer, if any."""
    return case.corrections.filter(resolved_at__isnull=True).order_by("-issued_at").first()


@dataclass(frozen=True)
class TimelineEntry:
    seq: int
    at: datetime
    label: str
    state_label: str
    by: str
    detail: str


# Window steps happen at the hall that delivers the result, the rest at the receiving hall.
_DELIVERY_HALL_STEPS = {"print", "hand_over", "mail", "confirm_receipt"}


def _where(case: Case, actor: User | None, transition: str) -> str:
    """Who took a step, as the applicant should see it: the department or hall, never a staff name."""
    if actor is None:
        return "" if transition == "create" else str(_("系统自动"))
    if actor.pk == case.applicant_id:
        return str(_("本人"))
    if actor.role == "approver":
        dept = actor.department if actor.department_id else case.authority
        return dept.name if dept is not None else ""
    if actor.role == "window_clerk":
        hall = case.delivery_hall if transition in _DELIVERY_HALL_STEPS else case.receiving_hall
        hall = hall or case.receiving_hall or case.delivery_hall
        return hall.name if hall is not None else str(_("窗口"))
    return ""


def timeline(case: Case) -> list[TimelineEntry]:
    """The case's events in order, in words a citizen understands: which step, the state it led to,
    where it happened (never a staff member's name), and the details that matter to the applicant."""
    entries = []
    for e in case.events.select_related("actor__department").order_by("seq"):
        payload = e.payload or {}
        by = _where(case, e.actor, e.transition)
        detail = ""
        if payload.get("reason"):
            detail = str(_("理由：%(r)s")) % {"r": payload["reason"]}
        elif e.transition == "mail" and payload.get("tracking_number"):
            detail = str(_("邮件单号：%(n)s")) % {"n": payload["tracking_number"]}
        elif e.transition == "print" and payload.get("window"):
            detail = str(_("%(w)s号窗口")) % {"w": payload["window"]}
        elif e.transition == "request_correction":
            names = [i.get("name") or i.get("reason", "") for i in payload.get("items", [])]
            detail = str(_("需补正：%(items)s")) % {"items": "、".join(n for n in names if n)}
        elif e.transition == "issue" and payload.get("results"):
            detail = str(_("证照编号：%(n)s")) % {"n": "、".join(payload["results"])}
        entries.append(
            TimelineEntry(
                seq=e.seq,
                at=e.at,
                label=str(TRANSITION_LABELS.get(e.transition, e.transition)),
                state_label=str(CaseState(e.to_state).label) if e.to_state in CaseState.values else e.to_state,
                by=by,
                detail=detail,
            )
        )
    return entries


@dataclass(frozen=True)
class Pickup:
    hall: Hall
    window: str


def pickup_details(case: Case) -> Pickup | None:
    """Where to collect a printed result: the delivery hall and the issuing window that printed it
    (or, before printing, the hall's first issuing window)."""
    from halls.selectors import first_issuing_window

    if case.delivery_method != "pickup" or case.delivery_hall is None:
        return None
    printed = case.events.filter(transition="print").order_by("-seq").values_list("payload", flat=True).first()
    window = str((printed or {}).get("window") or "")
    if not window:
        first = first_issuing_window(case.delivery_hall)
        window = first.number if first is not None else ""
    return Pickup(hall=case.delivery_hall, window=window)


@dataclass(frozen=True)
class ResultLink:
    result: Result
    pdf_url: str
    verify_url: str
    revoked: bool


def result_links(case: Case) -> list[ResultLink]:
    """The case's results with the permission-checked PDF and the public verification page."""
    from licences.selectors import pdf_url

    return [
        ResultLink(result=r, pdf_url=pdf_url(r), verify_url=r.verify_path, revoked=r.revoked_at is not None)
        for r in case.results.select_related("case", "issuing_department").order_by("number")
    ]


@dataclass(frozen=True)
class RatingLink:
    url: str
    rated: bool
    level_label: str


def rating_link(case: Case) -> RatingLink | None:
    """The 好差评 link for a finished case (一事一评), or None when it cannot be rated (yet)."""
    if case.state not in RATEABLE_STATES or case.parent_id is not None:
        return None
    rating = Rating.objects.filter(case=case).only("pk", "level").first()
    return RatingLink(
        url=reverse("ratings:rate-case", args=[case.number]),
        rated=rating is not None,
        level_label=str(rating.get_level_display()) if rating is not None else "",
    )


def children_of(case: Case) -> list[Case]:
    """A joint parent's sub-cases (one per deciding authority)."""
    if not case.is_joint_parent:
        return []
    return list(case.children.select_related("authority").order_by("number"))


def my_licences(user: User) -> list[Any]:
    """The citizen's e-licence library (电子证照), newest first."""
    from licences.selectors import library_for

    return list(library_for(user).select_related("result__case").order_by("-issued_at", "pk"))


def assistance_of(case: Case) -> Any:
    """The 帮办代办 record of a case (who applied on the applicant's behalf), if any."""
    from citizen_portal.models import AssistedApplication

    return AssistedApplication.objects.filter(case=case).first()

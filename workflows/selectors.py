"""Reads of cases, scoped by the caller's jurisdiction (halls.scope.scope_for)."""

from __future__ import annotations

import math
import operator
import re
from collections.abc import Sequence
from functools import reduce
from typing import Any

from django.db.models import Exists, OuterRef, Q, QuerySet

from accounts.models import Role, User
from accounts.protect import lookup_hash
from core.baked import BakedQuery
from govmap.models import Region
from halls.models import Hall
from halls.scope import Scope, scope_for
from services.models import Item
from workflows.models import (
    ACCEPTANCE_STATES,
    DECISION_STATES,
    TERMINAL_STATES,
    Case,
    CaseEvent,
    CaseState,
    CorrectionNotice,
    Material,
    MaterialView,
    Mode,
    SlaStatus,
)

S = CaseState


# --- who may see a case: one list of rules, rendered as SQL and as Python ---------------------
#
# Each rule is one reason a user may see a case, written twice side by side: ``q`` (a filter for
# the list queries) and ``matches`` (the same decision on one loaded case, so the case lookup every
# API call makes needs no scoped SQL). ``visible_q`` ORs the rules' filters, ``may_see`` asks their
# ``matches`` in order; to add a reason, add one rule to ``RULES``.
# tests/workflows/test_visibility.py checks both sides of every rule agree, and the two results.


class Rule:
    """One reason to see a case. ``applies`` says cheaply whether it reaches this user's scope at
    all; only then are ``q`` (``Q()``: every case, as ``Scope.region_q`` has it) or ``matches`` asked.

    A draft is the applicant's alone: until it is submitted it is a private working copy, so no
    rule but the applicant's (``reaches_drafts``) reaches it — not even a province admin's."""

    name = ""
    reaches_drafts = False

    def applies(self, scope: Scope) -> bool:
        raise NotImplementedError

    def q(self, user: User, scope: Scope) -> Q:
        raise NotImplementedError

    def matches(self, user: User, scope: Scope, case: Case) -> bool:
        raise NotImplementedError


class OwnCase(Rule):
    """Citizens (and a window acting for one) see the cases they apply for, drafts included."""

    name = "applicant"
    reaches_drafts = True

    def applies(self, scope: Scope) -> bool:
        return True

    def q(self, user: User, scope: Scope) -> Q:
        return Q(applicant_id=user.pk)

    def matches(self, user: User, scope: Scope, case: Case) -> bool:
        return case.applicant_id is not None and case.applicant_id == user.pk


class Everything(Rule):
    """Province admins and superusers (``Scope.everything``) see every submitted case."""

    name = "province"

    def applies(self, scope: Scope) -> bool:
        return scope.everything

    def q(self, user: User, scope: Scope) -> Q:
        return Q()

    def matches(self, user: User, scope: Scope, case: Case) -> bool:
        return True


class AtHall(Rule):
    """Clerks and hall supervisors see the cases received or delivered at a hall they are posted at."""

    name = "hall"

    def applies(self, scope: Scope) -> bool:
        return bool(scope.hall_ids)

    def q(self, user: User, scope: Scope) -> Q:
        halls = list(scope.hall_ids)
        return Q(receiving_hall_id__in=halls) | Q(delivery_hall_id__in=halls)

    def matches(self, user: User, scope: Scope, case: Case) -> bool:
        return case.receiving_hall_id in scope.hall_ids or case.delivery_hall_id in scope.hall_ids


class OfAuthority(Rule):
    """Approvers see the cases their department decides."""

    name = "authority"

    def applies(self, scope: Scope) -> bool:
        return bool(scope.department_ids)

    def q(self, user: User, scope: Scope) -> Q:
        return Q(authority_id__in=list(scope.department_ids))

    def matches(self, user: User, scope: Scope, case: Case) -> bool:
        return case.authority_id in scope.department_ids


class InRegion(Rule):
    """Supervisors and region admins see the cases whose jurisdiction, receiving hall or authority
    lies in their region (an adcode prefix). ``matches`` needs the case's receiving hall and
    authority loaded (``case_for`` loads them)."""

    name = "region"

    def applies(self, scope: Scope) -> bool:
        return bool(scope.region_prefixes)

    def q(self, user: User, scope: Scope) -> Q:
        return (
            scope.region_q("jurisdiction__adcode")
            | scope.region_q("receiving_hall__region__adcode")
            | scope.region_q("authority__region__adcode")
        )

    def matches(self, user: User, scope: Scope, case: Case) -> bool:
        adcodes = (
            case.jurisdiction_id,
            case.receiving_hall.region_id if case.receiving_hall_id and case.receiving_hall else None,
            case.authority.region_id if case.authority_id and case.authority else None,
        )
        return any(scope.covers_region(a) for a in adcodes)


class JointParentOfSubcase(Rule):
    """An approver also sees (read only) the joint parent of a sub-case their department decides.

    The only rule that costs a query on one case, so it comes last. EXISTS, not a join through
    children: a join repeats the parent once per child and needs DISTINCT over the whole row (slow
    to plan on wide rows), EXISTS keeps one row per case."""

    name = "joint parent"

    def _subcases(self, scope: Scope, parent: Any) -> QuerySet[Case]:
        return Case.objects.filter(parent_id=parent, authority_id__in=list(scope.department_ids))

    def applies(self, scope: Scope) -> bool:
        return bool(scope.department_ids)

    def q(self, user: User, scope: Scope) -> Q:
        return Q(Exists(self._subcases(scope, OuterRef("pk"))))

    def matches(self, user: User, scope: Scope, case: Case) -> bool:
        # Sub-cases exist only under joint parents: any other case is refused without asking.
        if case.parent_id is not None or case.mode != Mode.JOINT:
            return False
        return self._subcases(scope, case.pk).exists()


# In the order ``may_see`` asks them: the applicant's first (it alone reaches drafts), the query last.
RULES: tuple[Rule, ...] = (OwnCase(), Everything(), AtHall(), OfAuthority(), InRegion(), JointParentOfSubcase())


def visible_q(user: User | None) -> Q:
    """The cases ``user`` may see: the OR of every rule that reaches them (``RULES``), drafts only
    through the rules that reach drafts (the applicant's)."""
    scope = scope_for(user)
    if user is None or scope.user_id is None:
        return Q(pk__in=[])
    with_drafts: list[Q] = []
    submitted: list[Q] = []
    for rule in RULES:
        if rule.applies(scope):
            (with_drafts if rule.reaches_drafts else submitted).append(rule.q(user, scope))
    if submitted:
        # An empty Q is every case (Everything): the other rules add nothing to it.
        staff = Q() if not all(submitted) else reduce(operator.or_, submitted)
        with_drafts.append(staff & ~Q(state=S.DRAFT))
    return reduce(operator.or_, with_drafts) if with_drafts else Q(pk__in=[])


# Columns a case's related rows carry that no case response shows: the jurisdiction's boundary
# (a GeoJSON polygon, kilobytes per region) would otherwise be read with every case.
LARGE_RELATED = ("jurisdiction__boundary",)


def visible_cases(user: User | None) -> QuerySet[Case]:
    """Every remaining condition is on the case row or a to-one join: no row repeats, no DISTINCT."""
    return Case.objects.filter(visible_q(user))


# One case by its number with the to-one rows every response shows, compiled once per process
# (core.baked). The number is unique: no ORDER BY (Django would also hash every selected column of
# the wide joined row to place one).
_case_by_number = BakedQuery(
    lambda number: (
        Case.objects.filter(number=number)
        .select_related("item", "jurisdiction", "authority", "receiving_hall", "delivery_hall", "parent")
        .defer(*LARGE_RELATED)
        .order_by()[:1]
    )
)


def may_see(user: User | None, case: Case) -> bool:
    """``visible_q(user)`` decided on one loaded case: the same rules' ``matches``, in order.

    The case lookup every API call makes (``case_for``) reads the case by its unique number and
    asks this instead of compiling the scope's OR-of-joins per request. The two must agree:
    tests/workflows/test_visibility.py checks them against each other (and each rule's two sides)
    for every user and case of a world walked through all three modes (drafts, sub-cases and joint
    parents included). ``case`` must carry its receiving hall and authority (``case_for`` loads them).
    """
    scope = scope_for(user)
    if user is None or scope.user_id is None:
        return False
    draft = case.state == S.DRAFT
    for rule in RULES:
        if (rule.reaches_drafts or not draft) and rule.applies(scope) and rule.matches(user, scope, case):
            return True
    return False


def case_for(user: User | None, number: str) -> Case | None:
    """One case by number if ``user`` may see it, else None (→ 404, never revealing existence).

    One query in the usual case: the unique number with the to-one rows every response shows,
    then the scope decided on the row (``may_see``; the caller's scope is derived once per request,
    see halls.scope.scope_for). An approver reading a joint parent costs one EXISTS more.
    """
    if not isinstance(number, str) or not number:
        return None
    found = _case_by_number(number)
    if not found or not may_see(user, found[0]):
        return None
    return found[0]


def case_list(
    user: User | None, *, state: str = "", mode: str = "", sla: str = "", only: Sequence[str] = ()
) -> QuerySet[Case]:
    """The cases ``user`` may see, newest first. ``only``: the columns the caller reads (``field``
    or ``relation__field``); the to-one rows they name are joined and nothing else is loaded."""
    if only:
        relations = list(dict.fromkeys(f.split("__", 1)[0] for f in only if "__" in f))
        qs = visible_cases(user).select_related(*relations).only(*only)
    else:
        qs = (
            visible_cases(user)
            .select_related("item", "authority", "receiving_hall", "delivery_hall", "jurisdiction")
            .defer(*LARGE_RELATED)
        )
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


# --- the workbenches' search, personal lists and pickers ---------------------------------------

_CASE_NUMBER = re.compile(r"^[0-9-]{4,32}$")


def search(qs: QuerySet[Case], q: str) -> QuerySet[Case]:
    """Narrow ``qs`` by what a clerk types: a case number (or its start), an applicant's name, or
    an ID number / USCC (matched by its lookup hash: the numbers are stored encrypted)."""
    q = (q or "").strip()
    if not q:
        return qs
    compact = q.replace(" ", "").upper()
    if len(compact) in (15, 18) and compact[:6].isdigit():
        # An ID number or a USCC: an exact match only (never a partial search over identities).
        return qs.filter(applicant_id_hash=lookup_hash(compact))
    if _CASE_NUMBER.match(q):
        return qs.filter(number__startswith=q)
    return qs.filter(Q(applicant_name__icontains=q) | Q(number__icontains=q))


def filtered(qs: QuerySet[Case], *, q: str = "", state: str = "", sla: str = "") -> QuerySet[Case]:
    qs = search(qs, q)
    states = [s for s in (state or "").split(",") if s in CaseState.values]
    if states:
        qs = qs.filter(state__in=states)
    if sla in SlaStatus.values:
        qs = qs.filter(sla_status=sla)
    return qs


def my_cases(user: User, *, done: bool) -> QuerySet[Case]:
    """The cases this person took a step in: still open (在办: somewhere in the flow, maybe at
    another office now — e.g. transferred to the authority) or finished (已办)."""
    touched = CaseEvent.objects.filter(actor_id=user.pk).values("case_id")
    qs = visible_cases(user).filter(pk__in=touched)
    qs = qs.filter(state__in=TERMINAL_STATES) if done else qs.exclude(state__in=TERMINAL_STATES)
    return qs.select_related("item", "authority", "receiving_hall", "delivery_hall", "jurisdiction").order_by(
        "-updated_at", "-pk"
    )


def pick_items(q: str, *, limit: int = 20) -> list[dict[str, Any]]:
    """Items a window can receive (proxy or joint), matching the typed words (name, code,
    keywords), for the typeahead."""
    qs = Item.objects.filter(is_active=True).filter(Q(proxy=True) | Q(joint=True))
    for word in (q or "").split()[:4]:
        qs = qs.filter(Q(name__icontains=word) | Q(code__icontains=word) | Q(keywords__icontains=word))
    return [
        {"value": i.code, "label": i.name, "detail": i.code, "proxy": i.proxy, "joint": i.joint}
        for i in qs.order_by("name")[:limit]
    ]


def pick_regions(q: str, *, limit: int = 20) -> list[dict[str, Any]]:
    qs = Region.objects.filter(level__in=["city", "county"])
    q = (q or "").strip()
    if q:
        qs = qs.filter(Q(name__icontains=q) | Q(adcode__startswith=q))
    return [{"value": r.adcode, "label": r.name, "detail": r.adcode} for r in qs.order_by("adcode")[:limit]]


def pick_issuing_halls(q: str, *, near: Hall | None = None, limit: int = 20) -> list[dict[str, Any]]:
    """Halls with an issuing (打证) window, nearest to ``near`` first (the receiving hall: the
    applicant usually collects close to where they applied)."""
    qs = Hall.objects.filter(is_active=True, windows__issuing=True).distinct()
    for word in (q or "").split()[:4]:
        qs = qs.filter(Q(name__icontains=word) | Q(code__icontains=word) | Q(address__icontains=word))
    rows = list(qs.values("code", "name", "lat", "lon")[:2000])
    if near is not None:
        rows.sort(key=lambda h: (haversine_km(near.lat, near.lon, h["lat"], h["lon"]), h["code"]))
    else:
        rows.sort(key=lambda h: h["code"])
    out = []
    for h in rows[:limit]:
        km = haversine_km(near.lat, near.lon, h["lat"], h["lon"]) if near is not None else None
        out.append({"value": h["code"], "label": h["name"], "detail": f"{km:.1f} km" if km is not None else h["code"]})
    return out


def haversine_km(lat1: float, lon1: float, lat2: float, lon2: float) -> float:
    r = 6371.0088
    p1, p2 = math.radians(lat1), math.radians(lat2)
    dp, dl = p2 - p1, math.radians(lon2 - lon1)
    a = math.sin(dp / 2) ** 2 + math.cos(p1) * math.cos(p2) * math.sin(dl / 2) ** 2
    return 2 * r * math.asin(math.sqrt(a))


def material_for(user: User | None, number: str, material_id: int | str) -> tuple[Case, Material] | None:
    """A case the user may see (its duty covers it: receiving or delivery hall, authority,
    supervisors in scope, the applicant) and one of its materials — a sub-case's file is its
    parent's — else None (→ 404 for every other caller, never revealing that it exists)."""
    try:
        pk = int(material_id)
    except (TypeError, ValueError):
        return None
    case = case_for(user, number)
    if case is None:
        return None
    owner_id = case.parent_id or case.pk
    material = Material.objects.select_related("requirement").filter(pk=pk, case_id=owner_id).first()
    if material is None:
        return None
    return case, material


def material_views(case: Case) -> QuerySet[MaterialView]:
    """The view log of a case's materials (its parent's too for a sub-case), oldest first."""
    ids = [case.pk] + ([case.parent_id] if case.parent_id else [])
    return (
        MaterialView.objects.filter(Q(case_id__in=ids) | Q(material__case_id__in=ids))
        .select_related("material__requirement")
        .order_by("at", "pk")
    )

"""Reads for the citizens' site: city sites, zones, items and where to get them done."""

from __future__ import annotations

import hashlib
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from django.db.models import Count, Max, Q, QuerySet, Sum
from django.urls import reverse
from django.utils import timezone
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy

from accounts.models import User
from citizen_portal.models import CitySite, PolicyDocument, PolicyStatus, SiteNotice
from govmap.models import Region
from halls.models import Hall, HallType
from ratings.actions import RATEABLE_STATES
from ratings.models import Rating
from services.models import IndustryZone, Item, MaterialRequirement
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


def city_sites() -> QuerySet[CitySite]:
    """The ten city sites (nine cities/prefectures + 贵安新区), in the administrators' order."""
    return CitySite.objects.filter(is_active=True).select_related("region", "hall").order_by("position", "key")


def city_site(key: str) -> CitySite | None:
    return city_sites().filter(key=(key or "").strip()).first()


def site_for_host(host: str) -> CitySite | None:
    """The site that owns a host name (its own domain), if any: the port is ignored."""
    name = (host or "").split(":", 1)[0].strip().lower()
    return city_sites().filter(host=name).first() if name else None


def site_halls(site: CitySite) -> list[Hall]:
    if site.region is not None:
        return list(halls_of_city(site.region))
    return [site.hall] if site.hall is not None else []


def item_usage() -> dict[int, int]:
    """How often each item is used (cases of all time), for ranking. One GROUP BY."""
    return dict(Case.objects.values_list("item_id").annotate(n=Count("id")).values_list("item_id", "n"))


def site_items(site: CitySite, limit: int = 20) -> list[Item]:
    """Items decided by the city's (or its counties') own departments, the most used first."""
    usage = item_usage()
    items = list(
        Item.objects.filter(is_active=True, handling_level__in=["city", "county"]).select_related("department_kind")
    )
    items.sort(key=lambda i: (-usage.get(i.pk, 0), i.code))
    return items[:limit]


def site_notices(site: CitySite) -> QuerySet[SiteNotice]:
    return site.notices.filter(is_active=True, published_at__lte=timezone.now())


def zones_with_counts() -> QuerySet[IndustryZone]:
    return IndustryZone.objects.annotate(n=Count("items", filter=Q(items__is_active=True))).order_by("code")


def halls_of_city(region: Region) -> QuerySet[Hall]:
    prefix = region.adcode[:4]
    return (
        Hall.objects.filter(
            region__adcode__startswith=prefix, type__in=[HallType.COMPREHENSIVE, HallType.BRANCH], is_active=True
        )
        .select_related("region")
        .order_by("level", "code")
    )


def popular_items(limit: int = 12) -> QuerySet[Item]:
    return Item.objects.filter(is_active=True, proxy=True).select_related("department_kind").order_by("code")[:limit]


# --- applying online and tracking one's own cases (我的办件) -------------------------------------
#
# Everything below reads for ONE citizen: every case query is filtered by ``applicant=user`` so a
# citizen can never reach another applicant's case, whatever the workflow's wider scopes allow.


@dataclass(frozen=True)
class RegionGroup:
    """A city/prefecture and the regions under it that can be chosen (an <optgroup>)."""

    city: Region
    options: list[Region]


_REGION_FIELDS = ("adcode", "name", "level", "parent_id")


def _light_regions() -> QuerySet[Region]:
    # Never load the boundaries (large GeoJSON documents) for a picker.
    return Region.objects.only(*_REGION_FIELDS).order_by("adcode")


def jurisdiction_groups(item: Item, province: str = "520000") -> tuple[list[Region], list[RegionGroup]]:
    """The jurisdictions (属地) an applicant can name for ``item``, grouped by city.

    A county-level item is decided by a county's department: only counties can name it. A city-level
    item accepts the city itself or any of its counties (routing climbs to the city); a province-level
    item also accepts the province. Returns (top-level options, groups).
    """
    regions = list(_light_regions().filter(adcode__startswith=province[:2]))
    cities = [r for r in regions if r.level == "city"]
    counties: dict[str, list[Region]] = {}
    for r in regions:
        if r.level == "county" and r.parent_id:
            counties.setdefault(r.parent_id, []).append(r)
    top = [r for r in regions if r.level == "province"] if item.handling_level == "province" else []
    with_city = item.handling_level in ("province", "city")
    groups = [
        RegionGroup(city=c, options=([c] if with_city else []) + counties.get(c.adcode, []))
        for c in cities
        if with_city or counties.get(c.adcode)
    ]
    return top, groups


def county_groups(province: str = "520000") -> list[RegionGroup]:
    """Every county grouped by its city: where to look for a delivery hall."""
    regions = list(_light_regions().filter(adcode__startswith=province[:2], level__in=["city", "county"]))
    by_city: dict[str, list[Region]] = {}
    for r in regions:
        if r.level == "county" and r.parent_id:
            by_city.setdefault(r.parent_id, []).append(r)
    return [RegionGroup(city=c, options=by_city.get(c.adcode, [])) for c in regions if c.level == "city"]


def region_by_code(adcode: str) -> Region | None:
    return _light_regions().filter(adcode=(adcode or "").strip()).first() if adcode else None


def home_region(user: object) -> Region | None:
    """The county of the citizen's household registration as the ID number records it (its first six
    digits): a sensible default 属地. An ID keeps the code of first registration, so this is only a
    default the applicant can change; None when the code is unknown or the account has no ID."""
    from accounts.protect import reveal

    protected = getattr(user, "id_number_protected", "")
    if not protected:
        return None
    try:
        number = reveal(protected)
    except Exception:  # a key rotation or a corrupt value must not break the form
        return None
    return region_by_code(number[:6]) if len(number) == 18 else None


_HALL_TYPE_RANK = {
    HallType.COMPREHENSIVE.value: 0,
    HallType.BRANCH.value: 1,
    HallType.STATION.value: 2,
    HallType.KIOSK.value: 3,
}
_HALL_LEVEL_RANK = {"province": 0, "city": 1, "county": 2, "township": 3, "village": 4}


def delivery_halls(region: Region | str | None) -> list[Hall]:
    """Halls under ``region`` with an issuing window (就近打证), the main service centres first."""
    from halls.selectors import halls_with_issuing_window

    if region in (None, ""):
        return []
    halls = list(
        halls_with_issuing_window(region)
        .select_related("region")
        .only("code", "name", "type", "level", "address", "opening_hours", "region__adcode", "region__name")
    )
    # Centres before township stations; a county's own centre before a city's hall in that county.
    halls.sort(key=lambda h: (_HALL_TYPE_RANK.get(str(h.type), 9), _HALL_LEVEL_RANK.get(str(h.level), 9), h.code))
    return halls


def default_delivery_hall(region: Region | None) -> Hall | None:
    """Where a result is printed unless the applicant chooses otherwise: the first issuing hall of
    the jurisdiction's county (or, for a city / province jurisdiction, of that region)."""
    halls = delivery_halls(region) if region is not None else []
    return halls[0] if halls else None


_JURISDICTION_LEVELS = {"county": ("county",), "city": ("city", "county"), "province": ("province", "city", "county")}


def default_jurisdiction(item: Item, user: object, code: str = "") -> Region | None:
    """The 属地 the form shows: the one asked for, else the household registration's county when it
    can name the item's authority."""
    if code:
        return region_by_code(code)
    home = home_region(user)
    if home is None or home.level not in _JURISDICTION_LEVELS.get(item.handling_level, ()):
        return None
    return home


@dataclass(frozen=True)
class HallChoice:
    """The delivery-hall picker: the county searched, its issuing halls and the one selected."""

    region: Region | None
    halls: list[Hall]
    selected: str


def hall_choice(jurisdiction: Region | None, region_code: str = "", hall_code: str = "") -> HallChoice:
    """The county asked for, else the county of the jurisdiction's default hall (就近打证); the hall
    asked for if it is one of that county's issuing halls, else the first of them."""
    region = region_by_code(region_code)
    if region is None and jurisdiction is not None:
        default = default_delivery_hall(jurisdiction)
        if default is not None:
            region = region_by_code(str(default.region_id))
            hall_code = hall_code or default.code
    halls = delivery_halls(region) if region is not None else []
    if not any(h.code == hall_code for h in halls):
        hall_code = halls[0].code if halls else ""
    return HallChoice(region=region, halls=halls, selected=hall_code)


# --- my cases ----------------------------------------------------------------------------------

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


# --- zones: policy and query services --------------------------------------------------------------


def zone_policies(zone: IndustryZone, q: str = "") -> QuerySet[PolicyDocument]:
    """A zone's published policy documents, newest first; `q` searches title, number, body and issuer."""
    qs = PolicyDocument.objects.filter(zones=zone, status=PolicyStatus.PUBLISHED)
    q = (q or "").strip()
    if q:
        qs = qs.filter(
            Q(title__icontains=q) | Q(doc_number__icontains=q) | Q(body__icontains=q) | Q(issuing_body__icontains=q)
        )
    return qs.order_by("-published_on", "id")


def published_policy(pk: int) -> PolicyDocument | None:
    return (
        PolicyDocument.objects.filter(pk=pk, status=PolicyStatus.PUBLISHED).prefetch_related("items", "zones").first()
    )


def public_case(number: str, id_number: str) -> Case | None:
    """查询服务: a case found by its number AND the applicant's ID number (both must match; drafts are
    the applicant's alone and never found). Compares the keyed digest, never the number itself."""
    from accounts.protect import lookup_hash

    number = (number or "").strip().upper()
    id_number = (id_number or "").strip().upper()
    if not number or not id_number:
        return None
    return (
        Case.objects.filter(number=number, applicant_id_hash=lookup_hash(id_number))
        .exclude(state=CaseState.DRAFT)
        .select_related("item", "authority", "delivery_hall")
        .first()
    )


def public_case_status(number: str) -> CaseStatus | None:
    """The tracker's poll for a case already found by number + ID in this session (see the view)."""
    row = (
        Case.objects.filter(number=number)
        .exclude(state=CaseState.DRAFT)
        .values("state", "sla_status", "updated_at", "last_event_seq")
        .first()
    )
    if row is None:
        return None
    return CaseStatus(
        number=number,
        state=row["state"],
        sla_status=row["sla_status"],
        updated_at=row["updated_at"],
        events=row["last_event_seq"],
        children_key="",
    )


@dataclass(frozen=True)
class HallQueue:
    hall: Hall
    waiting: int


def hall_queues(region: Region) -> list[HallQueue]:
    """Halls of a city or county that take tickets, with how many wait now (one GROUP BY)."""
    from halls import queue
    from halls.selectors import region_q

    halls = [
        h
        for h in Hall.objects.filter(region_q(region), is_active=True)
        .exclude(type=HallType.KIOSK)
        .select_related("region")
        .order_by("level", "code")[:200]
        if queue.hall_takes_tickets(h)
    ]
    waiting = queue.waiting_counts([h.pk for h in halls])
    return [HallQueue(hall=h, waiting=waiting.get(h.pk, 0)) for h in halls]


# --- the item guide (办事指南) ----------------------------------------------------------------------


@dataclass(frozen=True)
class Guide:
    who_may_apply: str
    conditions: str
    where: str
    samples: dict[int, Any]  # requirement pk → MaterialSample


_LEVEL_WHERE = {
    "province": gettext_lazy("省级%(kind)s政务服务窗口"),
    "city": gettext_lazy("属地市（州）%(kind)s政务服务窗口"),
    "county": gettext_lazy("属地县（市、区）%(kind)s政务服务窗口"),
}


def item_guide(item: Item) -> Guide:
    """Who may apply, conditions and where, as the administrators wrote them; where they wrote
    nothing, what the catalog itself says (handling level, 通办 windows) and the legal basis."""
    from citizen_portal.models import ItemGuide, MaterialSample

    guide = ItemGuide.objects.filter(item=item).first()
    where = str(_LEVEL_WHERE.get(item.handling_level, _LEVEL_WHERE["county"])) % {"kind": item.department_kind.name}
    if item.proxy:
        where += str(_("；也可在全省任一政务服务中心的“跨域通办”窗口异地提交"))
    if item.online:
        where += str(_("；可全程网上办理"))
    samples = {s.requirement_id: s for s in MaterialSample.objects.filter(requirement__item=item)}
    return Guide(
        who_may_apply=guide.who_may_apply if guide else str(_("符合设定依据所规定条件的申请人（详见下方设定依据）")),
        conditions=guide.conditions if guide else "",
        where=(guide.where if guide and guide.where else where),
        samples=samples,
    )


def assistance_of(case: Case) -> Any:
    """The 帮办代办 record of a case (who applied on the applicant's behalf), if any."""
    from citizen_portal.models import AssistedApplication

    return AssistedApplication.objects.filter(case=case).first()

"""Reads of the catalog: item search, departments, and routing an item to its competent authority.

The catalog is public (every citizen may read it), so these selectors take no user scope.
"""

from __future__ import annotations

from django.core.exceptions import ValidationError
from django.db.models import Case, Count, IntegerField, Prefetch, Q, QuerySet, Subquery, Value, When
from django.db.models.functions import Coalesce
from django.utils.translation import gettext as _
from django.utils.translation import pgettext

from govmap.models import Region, RegionLevel
from services.models import Department, DepartmentKind, HandlingLevel, IndustryZone, Item, MaterialRequirement, Mode

# Province (0) is above city (1), above county (2).
LEVEL_RANK: dict[str, int] = {HandlingLevel.PROVINCE: 0, HandlingLevel.CITY: 1, HandlingLevel.COUNTY: 2}
MAX_QUERY_LENGTH = 100


def items_with_details() -> QuerySet[Item]:
    """Items with everything the API and the portal show, in a fixed number of queries."""
    return (
        Item.objects.select_related("department_kind")
        .prefetch_related(
            Prefetch("materials", queryset=MaterialRequirement.objects.order_by("position", "code")),
            "zones",
            "co_department_kinds",
        )
        .order_by("code")
    )


def search_items(
    q: str = "",
    mode: str | None = None,
    department_kind: str | None = None,
    zone: str | None = None,
    *,
    include_inactive: bool = False,
) -> QuerySet[Item]:
    """Active items matching all given filters.

    `q` matches the name, the code and the search keywords (case-insensitive substring);
    `mode` is online / proxy / joint; `department_kind` and `zone` are codes. An unknown mode, kind
    or zone raises ValidationError (an empty result would hide a typo).
    """
    errors: dict[str, list[str]] = {}
    q = (q or "").strip()
    if len(q) > MAX_QUERY_LENGTH:
        errors["q"] = [_("检索词不能超过 %(n)s 个字") % {"n": MAX_QUERY_LENGTH}]
    if mode and mode not in Mode.values:
        allowed = pgettext("list separator", "、").join(f"{code}（{label}）" for code, label in Mode.choices)
        errors["mode"] = [_("未知的办理模式「%(mode)s」，可选：%(allowed)s") % {"mode": mode, "allowed": allowed}]
    if department_kind and not DepartmentKind.objects.filter(code=department_kind).exists():
        errors["department"] = [_("未知的部门类别「%(kind)s」") % {"kind": department_kind}]
    if zone and not IndustryZone.objects.filter(code=zone).exists():
        errors["zone"] = [_("未知的行业专区「%(zone)s」") % {"zone": zone}]
    if errors:
        raise ValidationError(errors)

    qs = items_with_details()
    if not include_inactive:
        qs = qs.filter(is_active=True)
    if q:
        qs = qs.filter(Q(name__icontains=q) | Q(code__icontains=q) | Q(keywords__icontains=q))
        # Items whose name says what was searched come first (户籍迁移 before 学籍转接, which only
        # matches a keyword), then code order as before.
        qs = qs.annotate(
            search_rank=Case(
                When(name__startswith=q, then=Value(0)),
                When(name__icontains=q, then=Value(1)),
                When(code__icontains=q, then=Value(2)),
                default=Value(3),
                output_field=IntegerField(),
            )
        ).order_by("search_rank", "code")
    if mode:
        qs = qs.filter(**{mode: True})
    if department_kind:
        qs = qs.filter(department_kind_id=department_kind)
    if zone:
        qs = qs.filter(zones__code=zone)
    return qs


def get_item(code: str) -> Item:
    """One active item by code, with details; raises Item.DoesNotExist."""
    return items_with_details().get(code=code, is_active=True)


def list_departments(*, region: str | None = None, kind: str | None = None) -> QuerySet[Department]:
    """Departments, optionally of one region (adcode) and/or one kind; unknown filters raise ValidationError."""
    errors: dict[str, list[str]] = {}
    if region and not Region.objects.filter(adcode=region).exists():
        errors["region"] = [_("未知的行政区划代码「%(region)s」") % {"region": region}]
    if kind and not DepartmentKind.objects.filter(code=kind).exists():
        errors["kind"] = [_("未知的部门类别「%(kind)s」") % {"kind": kind}]
    if errors:
        raise ValidationError(errors)
    qs = Department.objects.order_by("code")
    if region:
        qs = qs.filter(region_id=region)
    if kind:
        qs = qs.filter(kind_id=kind)
    return qs


def _departments() -> QuerySet[Department]:
    # The region's boundary is a large GeoJSON document nobody routing a case needs.
    return Department.objects.select_related("kind", "region").defer("region__boundary")


def _ancestor_at(region: Region, level: str) -> Region | None:
    node: Region | None = region
    while node is not None and node.level != level:
        if node.parent_id is None:
            return None
        if Region.parent.is_cached(node):  # type: ignore[attr-defined]
            node = node.parent
        else:
            # Skip the boundary: a GeoJSON document is costly to decode and not needed here.
            node = Region.objects.only("adcode", "name", "level", "parent").get(pk=node.parent_id)
    return node


def _region_at_item_level(*, item: Item, jurisdiction: Region) -> Region:
    level = item.handling_level
    if LEVEL_RANK.get(jurisdiction.level, -1) < LEVEL_RANK[level]:
        wanted = {"city": _("市（州）"), "county": _("县（市、区）")}[level]
        raise ValidationError(
            {
                "jurisdiction": [
                    _(
                        "事项「%(item)s」由%(level)s部门办理，所选属地「%(region)s」是%(region_level)s，"
                        "请选择具体的%(wanted)s"
                    )
                    % {
                        "item": item.name,
                        "level": HandlingLevel(level).label,
                        "region": jurisdiction.name,
                        "region_level": RegionLevel(jurisdiction.level).label,
                        "wanted": wanted,
                    }
                ]
            }
        )
    target = _ancestor_at(jurisdiction, level)
    if target is None:
        raise ValidationError(
            {
                "jurisdiction": [
                    _("无法确定「%(region)s」所属的%(level)s行政区划")
                    % {"region": jurisdiction.name, "level": HandlingLevel(level).label}
                ]
            }
        )
    return target


def competent_department(*, item: Item, jurisdiction: Region) -> Department:
    """The authority that decides `item` for an applicant whose jurisdiction (属地) is `jurisdiction`.

    That is the department of the item's kind at the item's handling level: a county-level item
    from a county goes to that county's department, a city-level item to the county's city, a
    province-level item to the province. A jurisdiction above the item's level (a city for a
    county-level item) cannot name one authority and raises ValidationError, as does a region
    with no department of that kind configured.
    """
    target = _region_at_item_level(item=item, jurisdiction=jurisdiction)
    try:
        return _departments().get(kind_id=item.department_kind_id, region=target)
    except Department.DoesNotExist:
        raise ValidationError(
            {
                "jurisdiction": [
                    _("%(region)s尚未设置办理「%(item)s」的%(kind)s部门")
                    % {"region": target.name, "item": item.name, "kind": item.department_kind.name}
                ]
            }
        ) from None


def joint_departments(*, item: Item, jurisdiction: Region) -> list[Department]:
    """For a joint (多地联办 / "一件事") item: the lead authority first, then one per joint kind
    (in kind code order).

    All at the item's handling level for the jurisdiction; a missing department raises
    ValidationError naming it.
    """
    # One query for every part (a joint case is routed at intake and again when it is transferred):
    # the region's departments of the lead kind or a co-deciding kind, each row also saying how
    # many kinds the item names. Only when a part is missing (or the catalog is odd: a co-deciding
    # kind equal to the lead's) does the part-by-part routing below run, for its exact message.
    target = _region_at_item_level(item=item, jurisdiction=jurisdiction)
    link = Item.co_department_kinds.through
    co_kinds = link.objects.filter(item_id=item.pk)
    wanted = Subquery(co_kinds.order_by().values("item_id").annotate(n=Count("*")).values("n"))  # type: ignore[misc]  # the stubs miss annotations after values()
    rows = list(
        _departments()
        .filter(region=target)
        .filter(Q(kind_id=item.department_kind_id) | Q(kind_id__in=co_kinds.values("departmentkind_id")))
        .annotate(kinds_wanted=Coalesce(wanted, 0) + 1)
        .order_by("kind_id")
    )
    lead = [d for d in rows if d.kind_id == item.department_kind_id]
    if lead and len(rows) == rows[0].kinds_wanted:
        return [*lead, *(d for d in rows if d.kind_id != item.department_kind_id)]
    return _joint_departments_by_part(item=item, jurisdiction=jurisdiction)


def _joint_departments_by_part(*, item: Item, jurisdiction: Region) -> list[Department]:
    lead = competent_department(item=item, jurisdiction=jurisdiction)
    target = lead.region
    co_kinds = list(item.co_department_kinds.all())
    found = {d.kind_id: d for d in _departments().filter(region=target, kind_id__in=[k.code for k in co_kinds])}
    missing = [k.name for k in co_kinds if k.code not in found]
    if missing:
        raise ValidationError(
            {
                "jurisdiction": [
                    _("%(region)s尚未设置办理「%(item)s」的联办部门：%(missing)s")
                    % {
                        "region": target.name,
                        "item": item.name,
                        "missing": pgettext("list separator", "、").join(missing),
                    }
                ]
            }
        )
    return [lead, *(found[k.code] for k in co_kinds)]

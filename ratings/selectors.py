"""Reads of ratings and rectifications, scoped by the caller's jurisdiction.

Every figure comes from the tally tables (ratings.models), never from counting raw ratings, so a
province-wide summary over a year reads at most (days × counties) small rows.

Public functions other parts use:

* ``county_satisfaction(date_from=None, date_to=None) -> {county adcode: {...}}`` — the map's county
  choropleth (see its docstring for the shape).
* ``hall_rating_stats(hall_ids) -> {hall_id: (avg, count, bad_count)}`` — registered with
  ``halls.hall_stats`` so the hall API, nearest halls and the map GeoJSON show ratings.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from typing import Any

from django.db.models import Count, Q, QuerySet, Sum
from django.http import Http404
from django.utils import timezone
from django.utils.translation import gettext as _

from accounts.models import Role, User
from accounts.scope import Scope, region_prefix
from govmap.models import Region
from halls.models import Hall, Window
from halls.scope import scope_for
from ratings.models import (
    LEVELS,
    UNANSWERED_STATES,
    HallDayTally,
    HallTally,
    Rating,
    Rectification,
    RegionDayTally,
    WindowDayTally,
)
from workdays import calendar

SUPERVISING_ROLES = (Role.SUPERVISOR, Role.HALL_SUPERVISOR, Role.ADMIN)
LEVEL_SUMS = {f"c{n}": Sum(f"c{n}") for n in LEVELS}


def _prefix_q(
    prefix: str, *, province: str = "province_code", city: str = "city_code", county: str = "county_code"
) -> Q:
    column = {2: province, 4: city}.get(len(prefix), county)
    return Q(**{column: prefix})


# --- who sees what ---------------------------------------------------------------------------------


@dataclass(frozen=True)
class RatingScope:
    """What a supervisor may see: everything, some regions (adcode prefixes) or some halls."""

    everything: bool = False
    prefixes: tuple[str, ...] = ()
    hall_ids: frozenset[int] = field(default_factory=frozenset)

    @property
    def empty(self) -> bool:
        return not self.everything and not self.prefixes and not self.hall_ids

    def region_q(self) -> Q:
        """Filter for rows with province/city/county_code columns (tallies, ratings, rectifications)."""
        if self.everything:
            return Q()
        q = Q(pk__in=[])
        for p in self.prefixes:
            q |= _prefix_q(p)
        return q

    def hall_q(self, column: str = "hall_id") -> Q:
        if self.everything or self.prefixes:
            return self.region_q()
        return Q(**{f"{column}__in": list(self.hall_ids)})

    def covers_region(self, adcode: str) -> bool:
        return self.everything or any(adcode.startswith(p) for p in self.prefixes)

    def covers_hall(self, hall: Hall) -> bool:
        return self.everything or hall.pk in self.hall_ids or self.covers_region(str(hall.region_id))


def rating_scope(user: User | None) -> RatingScope:
    """Supervisors see their region; hall supervisors their halls; admins everything (or their
    region). Everyone else sees nothing (the API answers 403)."""
    scope: Scope = scope_for(user)
    if scope.user_id is None:
        return RatingScope()
    if scope.everything:
        return RatingScope(everything=True)
    if scope.role in (Role.SUPERVISOR, Role.ADMIN):
        return RatingScope(prefixes=scope.region_prefixes)
    if scope.role == Role.HALL_SUPERVISOR:
        return RatingScope(hall_ids=scope.hall_ids)
    return RatingScope()


def may_supervise(user: User | None) -> bool:
    return bool(user and user.is_authenticated and (user.is_superuser or user.role in SUPERVISING_ROLES))


# --- filters ---------------------------------------------------------------------------------------


@dataclass(frozen=True)
class Filters:
    """A resolved, in-scope filter: at most one of region / hall / window, plus a date range."""

    scope: RatingScope
    region: Region | None = None
    hall: Hall | None = None
    window: Window | None = None
    date_from: dt.date | None = None
    date_to: dt.date | None = None

    @property
    def prefix(self) -> str | None:
        return region_prefix(self.region.adcode) if self.region is not None else None

    def days_q(self, column: str = "day") -> Q:
        q = Q()
        if self.date_from:
            q &= Q(**{f"{column}__gte": self.date_from})
        if self.date_to:
            q &= Q(**{f"{column}__lte": self.date_to})
        return q

    def query(self) -> dict[str, str]:
        """The filter as query parameters (for links that keep it)."""
        out: dict[str, str] = {}
        if self.window is not None:
            out["window"] = str(self.window.pk)
        elif self.hall is not None:
            out["hall"] = self.hall.code
        elif self.region is not None:
            out["region"] = self.region.adcode
        if self.date_from:
            out["from"] = self.date_from.isoformat()
        if self.date_to:
            out["to"] = self.date_to.isoformat()
        return out


def resolve_filters(
    user: User | None,
    *,
    region: str | None = None,
    hall: str | None = None,
    window: str | int | None = None,
    date_from: dt.date | None = None,
    date_to: dt.date | None = None,
) -> Filters:
    """Check the requested region / hall / window against the caller's scope: anything unknown or
    outside it raises Http404 (a Zunyi supervisor asking for Guiyang learns nothing)."""
    scope = rating_scope(user)
    f_region = f_hall = f_window = None
    if window:
        try:
            f_window = Window.objects.select_related("hall", "hall__region").get(pk=int(window))
        except (ValueError, Window.DoesNotExist):
            raise Http404 from None
        f_hall = f_window.hall
    elif hall:
        f_hall = Hall.objects.select_related("region").filter(code=hall).first()
        if f_hall is None:
            raise Http404
    elif region:
        f_region = Region.objects.filter(adcode=region).first()
        if f_region is None:
            raise Http404
    if f_hall is not None and not scope.covers_hall(f_hall):
        raise Http404
    if f_region is not None and not scope.covers_region(f_region.adcode):
        raise Http404
    return Filters(scope, f_region, f_hall, f_window, date_from, date_to)


# --- figures ---------------------------------------------------------------------------------------


def _figures(row: Mapping[str, Any]) -> dict[str, Any]:
    by_level = {str(n): int(row.get(f"c{n}") or 0) for n in LEVELS}
    count = sum(by_level.values())
    bad = by_level["1"] + by_level["2"]
    total = sum(n * v for n, v in zip(LEVELS, (by_level[str(n)] for n in LEVELS), strict=True))
    return {
        "count": count,
        "by_level": by_level,
        # 好评 (满意度) = 非常满意 + 满意 + 基本满意 over all counted ratings (GB/T 39734-2020).
        "satisfaction_rate": round((count - bad) / count, 4) if count else None,
        "bad_count": bad,
        "average": round(total / count, 2) if count else None,
    }


def _tally_source(f: Filters) -> QuerySet[Any]:
    """The smallest tally table that answers the filter, already filtered."""
    if f.window is not None:
        return WindowDayTally.objects.filter(f.days_q(), window_id=f.window.pk)
    if f.hall is not None:
        return HallDayTally.objects.filter(f.days_q(), hall_id=f.hall.pk)
    if f.region is not None:
        return RegionDayTally.objects.filter(f.days_q(), _prefix_q(f.prefix or ""))
    if f.scope.everything or f.scope.prefixes:
        return RegionDayTally.objects.filter(f.days_q(), f.scope.region_q())
    return HallDayTally.objects.filter(f.days_q(), hall_id__in=list(f.scope.hall_ids))


def _rect_q(f: Filters) -> Q:
    q = Q(counted=True) & f.days_q("rated_on")
    if f.window is not None:
        q &= Q(rating__window_id=f.window.pk)
    elif f.hall is not None:
        q &= Q(hall_id=f.hall.pk)
    elif f.region is not None:
        q &= _prefix_q(f.prefix or "")
    else:
        q &= f.scope.hall_q()
    return q


def on_time_rate(f: Filters, *, now: dt.datetime | None = None) -> dict[str, Any]:
    """Share of bad ratings answered by their deadline, among those answered or already overdue."""
    now = now or timezone.now()
    agg = Rectification.objects.filter(_rect_q(f)).aggregate(
        total=Count("pk"),
        due=Count("pk", filter=Q(replied_at__isnull=False) | Q(deadline__lt=now)),
        on_time=Count("pk", filter=Q(replied_on_time=True)),
        overdue_open=Count("pk", filter=Q(state__in=list(UNANSWERED_STATES), deadline__lt=now)),
        unanswered=Count("pk", filter=Q(state__in=list(UNANSWERED_STATES))),
    )
    due = agg["due"] or 0
    return {
        "rectifications": agg["total"] or 0,
        "rectified_on_time_rate": round(agg["on_time"] / due, 4) if due else None,
        "overdue_open": agg["overdue_open"] or 0,
        "unanswered": agg["unanswered"] or 0,
    }


def summary(f: Filters) -> dict[str, Any]:
    """API.md summary: {count, by_level, satisfaction_rate, bad_count, rectified_on_time_rate}."""
    row = _tally_source(f).aggregate(**LEVEL_SUMS)
    out = _figures(row)
    out.update(on_time_rate(f))
    return out


def weekly_trend(f: Filters, *, weeks: int = 12, today: dt.date | None = None) -> list[dict[str, Any]]:
    """Per ISO week (Monday start): count and satisfaction rate, oldest first, empty weeks kept."""
    today = today or calendar.local_date(timezone.now())
    end = f.date_to or today
    start = f.date_from or (end - dt.timedelta(weeks=weeks))
    start -= dt.timedelta(days=start.weekday())
    ranged = Filters(f.scope, f.region, f.hall, f.window, start, end)
    rows = _tally_source(ranged).values("day").annotate(**LEVEL_SUMS).order_by()
    buckets: dict[dt.date, dict[str, int]] = {}
    monday = start
    while monday <= end:
        buckets[monday] = {f"c{n}": 0 for n in LEVELS}
        monday += dt.timedelta(days=7)
    for row in rows:
        day: dt.date = row["day"]
        week = day - dt.timedelta(days=day.weekday())
        bucket = buckets.setdefault(week, {f"c{n}": 0 for n in LEVELS})
        for n in LEVELS:
            bucket[f"c{n}"] += int(row[f"c{n}"] or 0)
    return [{"week": week, **_figures(counts)} for week, counts in sorted(buckets.items())]


def breakdown(f: Filters) -> tuple[str, list[dict[str, Any]]]:
    """The next level of the drill-down under the filter, with figures per row, best first:
    province → cities → counties → halls → windows. Returns (level, rows)."""
    if f.window is not None:
        return "window", []
    if f.hall is not None:
        rows = (
            WindowDayTally.objects.filter(f.days_q(), hall_id=f.hall.pk)
            .values("window_id")
            .annotate(**LEVEL_SUMS)
            .order_by()
        )
        windows = {w.pk: w for w in Window.objects.filter(hall=f.hall)}
        out = []
        for row in rows:
            w = windows.get(row["window_id"])
            if w is None:
                continue
            out.append(
                {"key": str(w.pk), "name": _("%(w)s号窗口") % {"w": w.number}, "kind": "window", **_figures(row)}
            )
        return "window", _ranked(out)
    if f.region is not None and f.region.level == "county":
        return "hall", hall_ranking(f)
    level_of_children = "county"
    if f.region is None:
        if f.scope.everything or any(len(p) == 2 for p in f.scope.prefixes):
            column, level_of_children = "city_code", "city"
        elif any(len(p) == 4 for p in f.scope.prefixes):
            column = "county_code"
        elif f.scope.prefixes:
            return "hall", hall_ranking(f)
        else:
            return "hall", hall_ranking(f)
    elif f.region.level == "province":
        column, level_of_children = "city_code", "city"
    else:
        column = "county_code"
    rows = _tally_source(f).values(column).annotate(**LEVEL_SUMS).order_by()
    codes = {r[column] for r in rows}
    adcodes = {c: (c + "00" if len(c) == 4 else c) for c in codes}
    names = dict(Region.objects.filter(adcode__in=adcodes.values()).values_list("adcode", "name"))
    out = [
        {
            "key": adcodes[r[column]],
            "name": names.get(adcodes[r[column]], adcodes[r[column]]),
            "kind": "region",
            **_figures(r),
        }
        for r in rows
    ]
    return level_of_children, _ranked(out)


def _ranked(rows: list[dict[str, Any]]) -> list[dict[str, Any]]:
    return sorted(rows, key=lambda r: (-(r["satisfaction_rate"] or 0), -(r["average"] or 0), -r["count"], r["name"]))


def _halls_in(f: Filters) -> Q:
    """Hall ids under the filter, as a filter on a ``hall_id`` column (for the all-time tally)."""
    if f.hall is not None:
        return Q(hall_id=f.hall.pk)
    prefixes = [f.prefix] if f.region is not None else list(f.scope.prefixes)
    if f.region is None and f.scope.everything:
        return Q()
    if not prefixes:
        return Q(hall_id__in=list(f.scope.hall_ids))
    q = Q(pk__in=[])
    for p in prefixes:
        q |= Q(region__adcode__startswith=p)
    return Q(hall_id__in=Hall.objects.filter(q).values("pk"))


def hall_ranking(f: Filters, *, limit: int | None = None) -> list[dict[str, Any]]:
    """Halls under the filter with their figures, best first: one read of the all-time hall tally
    when no dates are given, else one grouped read of the per-day hall tally."""
    if f.date_from is None and f.date_to is None:
        rows = list(HallTally.objects.filter(_halls_in(f)).values("hall_id", *(f"c{n}" for n in LEVELS)))
        rows = [r for r in rows if any(r[f"c{n}"] for n in LEVELS)]
    else:
        qs = HallDayTally.objects.filter(f.days_q())
        if f.hall is not None:
            qs = qs.filter(hall_id=f.hall.pk)
        elif f.region is not None:
            qs = qs.filter(_prefix_q(f.prefix or ""))
        else:
            qs = qs.filter(f.scope.hall_q())
        rows = list(qs.values("hall_id").annotate(**LEVEL_SUMS).order_by())
    halls = {h["pk"]: h for h in Hall.objects.filter(pk__in=[r["hall_id"] for r in rows]).values("pk", "code", "name")}
    out = [
        {"key": halls[r["hall_id"]]["code"], "name": halls[r["hall_id"]]["name"], "kind": "hall", **_figures(r)}
        for r in rows
        if r["hall_id"] in halls
    ]
    ranked = _ranked(out)
    return ranked[:limit] if limit else ranked


def window_ranking(f: Filters, *, limit: int = 10) -> list[dict[str, Any]]:
    """Windows under the filter, best first. Needs a hall or county filter (bounded)."""
    qs = WindowDayTally.objects.filter(f.days_q())
    if f.hall is not None:
        qs = qs.filter(hall_id=f.hall.pk)
    elif f.region is not None and f.region.level == "county":
        qs = qs.filter(hall_id__in=list(Hall.objects.filter(region=f.region).values_list("pk", flat=True)))
    else:
        return []
    rows = list(qs.values("window_id").annotate(**LEVEL_SUMS).order_by())
    windows = {w.pk: w for w in Window.objects.filter(pk__in=[r["window_id"] for r in rows]).select_related("hall")}
    out = [
        {
            "key": str(r["window_id"]),
            "name": str(windows[r["window_id"]]),  # Window.__str__: "<hall> <n>号窗口"
            "kind": "window",
            **_figures(r),
        }
        for r in rows
        if r["window_id"] in windows
    ]
    return _ranked(out)[:limit]


# --- lists -----------------------------------------------------------------------------------------


def ratings_q(f: Filters) -> Q:
    q = f.days_q("rated_on")
    if f.window is not None:
        return q & Q(window_id=f.window.pk)
    if f.hall is not None:
        return q & Q(hall_id=f.hall.pk)
    if f.region is not None:
        return q & _prefix_q(f.prefix or "")
    return q & f.scope.hall_q()


def rating_list(f: Filters, *, bad_only: bool = False) -> QuerySet[Rating]:
    qs = Rating.objects.filter(ratings_q(f)).select_related("hall", "window", "item", "case", "ticket", "staff")
    if bad_only:
        qs = qs.filter(level__in=[1, 2])
    return qs.order_by("-rated_on", "-id")


def rating_for(user: User | None, rating_id: int) -> Rating:
    """One rating the supervisor may see (404 otherwise)."""
    scope = rating_scope(user)
    if scope.empty:
        raise Http404
    rating = (
        Rating.objects.filter(scope.hall_q(), pk=rating_id)
        .select_related("hall", "window", "item", "case", "ticket", "staff", "rater")
        .first()
    )
    if rating is None:
        raise Http404
    return rating


def _owned_department_ids(user: User | None) -> frozenset[int]:
    scope = scope_for(user)
    return scope.department_ids if scope.role == Role.APPROVER else frozenset()


def may_see_rectifications(user: User | None) -> bool:
    """Supervisors, and approvers: their department owns the bad ratings of its online cases."""
    return may_supervise(user) or bool(_owned_department_ids(user))


def rectifications_visible(user: User | None) -> QuerySet[Rectification]:
    """Rectifications the caller may see: hall supervisors their halls', approvers their
    department's, supervisors their region's."""
    scope = rating_scope(user)
    departments = _owned_department_ids(user)
    if scope.empty and not departments:
        return Rectification.objects.none()
    q = scope.hall_q() if not scope.empty else Q(pk__in=[])
    if departments:
        q |= Q(department_id__in=list(departments))
    return Rectification.objects.filter(q).select_related(
        "rating", "rating__case", "rating__ticket", "rating__item", "hall", "department", "assignee"
    )


def rectification_list(
    user: User | None,
    *,
    state: str = "",
    overdue: bool = False,
    escalated: bool = False,
    f: Filters | None = None,
    now: dt.datetime | None = None,
) -> QuerySet[Rectification]:
    qs = rectifications_visible(user)
    if f is not None:
        qs = qs.filter(_rect_q(f))
    if state:
        qs = qs.filter(state__in=[s for s in state.split(",") if s])
    if overdue:
        qs = qs.filter(state__in=list(UNANSWERED_STATES), deadline__lt=now or timezone.now())
    if escalated:
        qs = qs.filter(escalation_level__gt=0)
    return qs.order_by("deadline", "pk")


def urgent_bad_ratings(user: User | None, f: Filters, *, limit: int = 20) -> list[Rectification]:
    """The dashboard's bad ratings: unanswered ones first (earliest deadline first), then the most
    recent answered ones. Two small indexed reads instead of sorting every rectification in scope."""
    qs = rectification_list(user, f=f)
    waiting = list(qs.filter(state__in=list(UNANSWERED_STATES)).order_by("deadline", "pk")[:limit])
    if len(waiting) < limit:
        answered = qs.exclude(state__in=list(UNANSWERED_STATES)).order_by("-rated_on", "-pk")
        waiting += list(answered[: limit - len(waiting)])
    return waiting


def rectification_for(user: User | None, pk: int) -> Rectification:
    rect = rectifications_visible(user).filter(pk=pk).first()
    if rect is None:
        raise Http404
    return rect


# --- hall figures, the map, the public page --------------------------------------------------------


def hall_rating_stats(hall_ids: Iterable[int]) -> dict[int, tuple[float | None, int, int]]:
    """{hall_id: (average level, count, bad count)} of counted ratings, all time (one read)."""
    ids = list(hall_ids)
    if not ids:
        return {}
    out: dict[int, tuple[float | None, int, int]] = {}
    for chunk_start in range(0, len(ids), 5000):
        chunk = ids[chunk_start : chunk_start + 5000]
        for row in HallTally.objects.filter(hall_id__in=chunk).values("hall_id", "c1", "c2", "c3", "c4", "c5"):
            fig = _figures(row)
            out[row["hall_id"]] = (fig["average"], fig["count"], fig["bad_count"])
    return out


def county_satisfaction(date_from: dt.date | None = None, date_to: dt.date | None = None) -> dict[str, dict[str, Any]]:
    """Figures per county for the map's choropleth (public, aggregated, nothing personal).

    Returns ``{county adcode: {"count", "by_level": {"1".."5"}, "satisfaction_rate" (0..1 or None),
    "bad_count", "average"}}`` over counted ratings rated in [date_from, date_to] (all time when
    both are None). Counties without ratings are absent. One grouped read of the county tally.
    """
    q = Q()
    if date_from:
        q &= Q(day__gte=date_from)
    if date_to:
        q &= Q(day__lte=date_to)
    rows = RegionDayTally.objects.filter(q).values("county_code").annotate(**LEVEL_SUMS).order_by()
    return {r["county_code"]: _figures(r) for r in rows}


def public_figures(*, date_from: dt.date | None = None, date_to: dt.date | None = None) -> dict[str, Any]:
    """政务服务评价公开: province total, per city, and per hall (halls with enough ratings only, so
    a single citizen's rating cannot be singled out)."""
    everything = Filters(RatingScope(everything=True), date_from=date_from, date_to=date_to)
    total = summary(everything)
    _lvl, cities = breakdown(everything)
    halls = [h for h in hall_ranking(everything) if h["count"] >= PUBLIC_MIN_COUNT]
    return {"total": total, "cities": cities, "halls": halls}


# A hall's figures are published once it has this many ratings (anonymity of small numbers).
PUBLIC_MIN_COUNT = 5

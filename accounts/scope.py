"""The one answer to "what may this user see": a jurisdiction scope derived from role and posts.

Every selector that lists objects by jurisdiction (cases, halls' queues, ratings, ...) filters
with this scope, so the rule lives in one place.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from django.db.models import Exists, OuterRef, Q

from accounts.models import Role, User


def region_prefix(adcode: str) -> str:
    """The adcode prefix that every region under `adcode` shares (GB/T 2260 is hierarchical)."""
    if adcode.endswith("0000"):
        return adcode[:2]
    if adcode.endswith("00"):
        return adcode[:4]
    return adcode


@dataclass(frozen=True)
class Scope:
    user_id: int | None
    role: str
    everything: bool = False
    # Regions (as adcode prefixes) the user oversees: supervisors and region-limited admins.
    region_prefixes: tuple[str, ...] = ()
    # Halls where the user holds an active post: clerks and hall supervisors.
    hall_ids: frozenset[int] = field(default_factory=frozenset)
    # The department (competent authority) an approver acts for.
    department_ids: frozenset[int] = field(default_factory=frozenset)

    def covers_region(self, adcode: str | None) -> bool:
        if self.everything:
            return True
        return bool(adcode) and any(str(adcode).startswith(p) for p in self.region_prefixes)

    def region_q(self, field_name: str) -> Q:
        """A filter for objects whose `field_name` (an adcode) lies in the scope's regions."""
        if self.everything:
            return Q()
        if not self.region_prefixes:
            return Q(pk__in=[])
        q = Q()
        for p in self.region_prefixes:
            q |= Q(**{f"{field_name}__startswith": p})
        return q


def active_posts(user: User) -> list[Any]:
    """The user's active staff posts (``halls.StaffPost``, window loaded), one query per user object.

    Cached on the user object: a request loads its own user (session or token authentication), so
    this is one query per request, shared by the scope (hall ids) and the workflow rules (windows).
    """
    cached: list[Any] | None = getattr(user, "_workflow_posts", None)
    if cached is None:
        posts = user.posts.filter(is_active=True)  # type: ignore[attr-defined]
        window_model = posts.model._meta.get_field("window").related_model  # halls.Window (no import cycle)
        issuing = window_model._default_manager.filter(hall_id=OuterRef("hall_id"), issuing=True)
        cached = list(posts.select_related("window", "hall").annotate(hall_issues=Exists(issuing)))
        for post in cached:
            # The clerk's own halls come with the post (a clerk receives at them, delivers at them):
            # whether one has an issuing window is known without asking again.
            post.hall.has_issuing_window = post.hall_issues
        user._workflow_posts = cached  # type: ignore[attr-defined]
    return cached


def scope_for(user: User | None) -> Scope:
    """The user's scope, derived once per user object (= once per request; see ``active_posts``).

    The cache is keyed by every user field the scope reads, so a role, region or department edited
    on the same object is never answered from a stale scope.
    """
    if user is None or not user.is_authenticated or not user.is_active:
        return Scope(user_id=None, role="anonymous")
    key = (user.pk, user.role, user.is_superuser, user.region_id, user.department_id)
    cached: tuple[tuple[Any, ...], Scope] | None = getattr(user, "_scope_cache", None)
    if cached is not None and cached[0] == key:
        return cached[1]
    scope = _derive_scope(user)
    user._scope_cache = (key, scope)  # type: ignore[attr-defined]
    return scope


def _derive_scope(user: User) -> Scope:
    role = user.role
    if user.is_superuser or (role == Role.ADMIN and user.region_id is None):
        return Scope(user_id=user.pk, role=role, everything=True)
    prefixes: tuple[str, ...] = ()
    if role in (Role.SUPERVISOR, Role.ADMIN) and user.region_id:
        prefixes = (region_prefix(str(user.region_id)),)
    halls: frozenset[int] = frozenset()
    if role in (Role.WINDOW_CLERK, Role.HALL_SUPERVISOR):
        halls = frozenset(p.hall_id for p in active_posts(user))
    departments: frozenset[int] = (
        frozenset({user.department_id}) if role == Role.APPROVER and user.department_id else frozenset()
    )
    return Scope(user_id=user.pk, role=role, region_prefixes=prefixes, hall_ids=halls, department_ids=departments)

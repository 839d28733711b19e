"""The one answer to "what may this user see": a jurisdiction scope derived from role and posts.

Every selector that lists objects by jurisdiction (cases, halls' queues, ratings, ...) filters
with this scope, so the rule lives in one place. Posts (``StaffPost``) are halls' data, so the
scope is derived here; its value type and the user-only parts are ``accounts.scope``'s.
"""

from __future__ import annotations

from typing import Any

from django.db.models import Exists, OuterRef

from accounts.models import Role, User
from accounts.scope import Scope, province_wide, region_prefix
from core.baked import BakedQuery
from halls.models import StaffPost, Window

__all__ = ["Scope", "active_posts", "posted_at", "posted_halls", "region_prefix", "scope_for"]


# A clerk's every API call reads their posts: compiled once per process (core.baked), as building
# and compiling this join with its EXISTS cost ~0.9 ms per call. The user's ``posts`` manager would
# give the same SQL, but its rows know their user, which a baked query cannot: set below.
_posts_of = BakedQuery(
    lambda user_id: (
        StaffPost.objects.filter(user_id=user_id)
        .filter(is_active=True)
        .select_related("window", "hall")
        .annotate(hall_issues=Exists(Window.objects.filter(hall_id=OuterRef("hall_id"), issuing=True)))
    )
)


def active_posts(user: User) -> list[Any]:
    """The user's active staff posts (``halls.StaffPost``, window loaded), one query per user object.

    Cached on the user object: a request loads its own user (session or token authentication), so
    this is one query per request, shared by the scope (hall ids) and the workflow rules (windows).
    """
    cached: list[Any] | None = getattr(user, "_workflow_posts", None)
    if cached is None:
        if user.pk is None:
            user.posts  # type: ignore[attr-defined]  # noqa: B018  # refuses an unsaved or anonymous user, as before
        posts: list[Any] = _posts_of(user.pk)
        for post in posts:
            post.user = user  # as user.posts gives them
            # The clerk's own halls come with the post (a clerk receives at them, delivers at them):
            # whether one has an issuing window is known without asking again.
            post.hall.has_issuing_window = post.hall_issues
        user._workflow_posts = cached = posts  # type: ignore[attr-defined]
    return cached


def posted_at(user: User, hall_id: int) -> bool:
    """Whether the user holds an active post at the hall (from ``active_posts``)."""
    return any(post.hall_id == hall_id for post in active_posts(user))


def posted_halls(user: User) -> list[Any]:
    """The halls of the user's active posts, by code (from ``active_posts``: no query of its own)."""
    halls = {post.hall_id: post.hall for post in active_posts(user)}
    return sorted(halls.values(), key=lambda hall: hall.code)


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
    if province_wide(user):
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


def hall_supervisor_of(hall_id: int | None) -> int | None:
    """The hall's supervisor (the first active post, a stable choice): who owns its bad ratings."""
    if hall_id is None:
        return None
    return (
        StaffPost.objects.filter(hall_id=hall_id, is_active=True, user__role=Role.HALL_SUPERVISOR, user__is_active=True)
        .order_by("id")
        .values_list("user_id", flat=True)
        .first()
    )

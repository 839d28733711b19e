"""The one answer to "what may this user see": a jurisdiction scope derived from role and posts.

Every selector that lists objects by jurisdiction (cases, halls' queues, ratings, ...) filters
with this scope, so the rule lives in one place.
"""

from __future__ import annotations

from dataclasses import dataclass, field

from django.db.models import Q

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


def scope_for(user: User | None) -> Scope:
    if user is None or not user.is_authenticated or not user.is_active:
        return Scope(user_id=None, role="anonymous")
    role = user.role
    if user.is_superuser or (role == Role.ADMIN and user.region_id is None):
        return Scope(user_id=user.pk, role=role, everything=True)
    prefixes: tuple[str, ...] = ()
    if role in (Role.SUPERVISOR, Role.ADMIN) and user.region_id:
        prefixes = (region_prefix(str(user.region_id)),)
    halls: frozenset[int] = frozenset()
    if role in (Role.WINDOW_CLERK, Role.HALL_SUPERVISOR):
        halls = frozenset(user.posts.filter(is_active=True).values_list("hall_id", flat=True))
    departments: frozenset[int] = (
        frozenset({user.department_id}) if role == Role.APPROVER and user.department_id else frozenset()
    )
    return Scope(user_id=user.pk, role=role, region_prefixes=prefixes, hall_ids=halls, department_ids=departments)

"""The shape of a jurisdiction scope and the part of it that depends on the user alone.

The scope itself (role *and* staff posts) is derived by ``halls.scope.scope_for``: posts are halls'
data, and accounts sits below halls. What needs no post is here: the ``Scope`` value, the region
prefixes, and whether a user is province-wide (the ledger's default reader).
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


def province_wide(user: User | None) -> bool:
    """A superuser or an admin with no region: sees everything (``Scope.everything``)."""
    if user is None or not user.is_authenticated or not user.is_active:
        return False
    return bool(user.is_superuser or (user.role == Role.ADMIN and user.region_id is None))

"""Who may take which transition on which case: role plus jurisdiction (DOMAIN.md, "who" column).

``may(actor, case, name)`` answers "is this person the right one for this step of this case",
independently of the current state where the rule allows (the state is django-fsm's business).
The API turns a False into 403, a wrong state into 409. ``actor=None`` is the system (deemed
acceptance, issuing, a joint parent following its children): only internal code passes None.
Each transition's own rule is its entry in ``workflows.registry``; the tables here derive from it.
"""

from __future__ import annotations

from collections.abc import Callable
from functools import cached_property

from accounts.models import Role, User
from halls.models import Hall, StaffPost, Window
from halls.scope import active_posts
from workflows import registry
from workflows.models import Case
from workflows.registry import NAMES, OFFERED, REGISTRY


class Actor:
    """The acting user with their posts loaded once per request/action."""

    def __init__(self, user: User | None) -> None:
        self.user = user

    @property
    def is_system(self) -> bool:
        return self.user is None

    @property
    def role(self) -> str:
        return self.user.role if self.user is not None else "system"

    @cached_property
    def posts(self) -> list[StaffPost]:
        if self.user is None or self.user.role != Role.WINDOW_CLERK or not self.user.is_active:
            return []
        # One query per request, shared with the caller's scope (halls.scope.active_posts).
        return active_posts(self.user)

    def hall_ids(self) -> set[int]:
        return {p.hall_id for p in self.posts}

    def clerk_at(self, hall_id: int | None) -> bool:
        return hall_id is not None and hall_id in self.hall_ids()

    def window_at(self, hall_id: int | None, flag: str) -> Window | None:
        """The clerk's window at ``hall_id`` that has ``flag`` (e.g. "issuing"), if any.

        A post without a specific window counts as any window of that hall with the flag.
        """
        if hall_id is None:
            return None
        for post in self.posts:
            if post.hall_id != hall_id:
                continue
            if post.window is not None:
                if getattr(post.window, flag):
                    return post.window
                continue
            window = Window.objects.filter(hall_id=hall_id, **{flag: True}).order_by("number").first()
            if window is not None:
                return window
        return None

    def approver_for(self, case: Case) -> bool:
        u = self.user
        return (
            u is not None
            and u.is_active
            and u.role == Role.APPROVER
            and case.authority_id is not None
            and u.department_id == case.authority_id
        )

    def applicant_of(self, case: Case) -> bool:
        u = self.user
        return u is not None and u.is_active and case.applicant_id is not None and u.pk == case.applicant_id


def intake_window(actor: Actor, hall: Hall, *, cross_region: bool) -> Window | None:
    """The window a clerk receives at: 通办 intake for a cross-region case, general intake also
    acceptable for a local one."""
    window = actor.window_at(hall.pk, "tongban_intake")
    if window is None and not cross_region:
        window = actor.window_at(hall.pk, "general_intake")
    return window


# Derived from the one table of transitions (workflows.registry).
RULES: dict[str, Callable[[Actor, Case], bool]] = {name: t.rule for name, t in REGISTRY.items()}
TRANSITIONS: tuple[str, ...] = NAMES
# Steps only the system takes (rendering/signing, routing to print, electronic delivery).
SYSTEM_ONLY = frozenset(name for name, t in REGISTRY.items() if t.rule is registry.nobody)
# The authority's own steps: a joint parent (which has no authority) takes them only as the system.
AUTHORITY_STEPS = frozenset(name for name, t in REGISTRY.items() if t.rule is registry.authority)
# What available_transitions offers: the transitions with an action (receive creates the case).
_OFFERED: tuple[str, ...] = tuple(OFFERED)


def may(actor: Actor, case: Case, name: str) -> bool:
    """True when ``actor`` is the right person (role + jurisdiction) for ``name`` on ``case``."""
    if actor.is_system:
        return True
    rule = RULES.get(name)
    if rule is None:
        return False
    # A joint parent is moved only by the system following its children (its own authority is
    # empty), except for intake, delivery and withdrawal at the parent.
    if case.is_joint_parent and name in AUTHORITY_STEPS:
        return False
    return rule(actor, case)


def available_transitions(actor: Actor, case: Case) -> list[str]:
    """Transitions this actor may take on this case now (state and conditions and rules)."""
    names = [t.name for t in case.get_available_state_transitions()]  # type: ignore[attr-defined]
    return [n for n in _OFFERED if n in names and may(actor, case, n)]

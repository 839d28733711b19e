"""Who may take which transition on which case: role plus jurisdiction (DOMAIN.md, "who" column).

``may(actor, case, name)`` answers "is this person the right one for this step of this case",
independently of the current state where the rule allows (the state is django-fsm's business).
The API turns a False into 403, a wrong state into 409. ``actor=None`` is the system (deemed
acceptance, issuing, a joint parent following its children): only internal code passes None.
"""

from __future__ import annotations

from collections.abc import Callable
from functools import cached_property

from accounts.models import Role, User
from halls.models import Hall, StaffPost, Window
from halls.scope import active_posts
from workflows.models import Case, CaseState

S = CaseState

# Steps only the system takes (rendering/signing, routing to print, electronic delivery).
SYSTEM_ONLY = frozenset({"issue", "queue_print", "deliver_online"})
AUTHORITY_STEPS = frozenset({"accept", "reject", "start_review", "suspend", "resume", "approve", "deny"})


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
        # One query per request, shared with the caller's scope (accounts.scope.active_posts).
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


def _applicant(a: Actor, c: Case) -> bool:
    return a.applicant_of(c)


def _receiving_clerk(a: Actor, c: Case) -> bool:
    return a.clerk_at(c.receiving_hall_id)


def _authority(a: Actor, c: Case) -> bool:
    return a.approver_for(c)


def _request_correction(a: Actor, c: Case) -> bool:
    # At the window (received) the receiving clerk tells the applicant; after transfer / online
    # submission, the authority does.
    if c.state == S.RECEIVED:
        return _receiving_clerk(a, c)
    if c.state in (S.SUBMITTED, S.TRANSFERRED):
        return _authority(a, c)
    return _receiving_clerk(a, c) or _authority(a, c)


def _resubmit(a: Actor, c: Case) -> bool:
    if c.receiving_hall_id is None:
        return _applicant(a, c)
    # Corrections at a hall are brought to a window; a correction the receiving window itself asked
    # for goes back to that window.
    if c.correction_from == S.RECEIVED:
        return _receiving_clerk(a, c)
    return _receiving_clerk(a, c) or a.clerk_at(c.delivery_hall_id)


def _print(a: Actor, c: Case) -> bool:
    return a.window_at(c.delivery_hall_id, "issuing") is not None


def _delivery_clerk(a: Actor, c: Case) -> bool:
    return a.clerk_at(c.delivery_hall_id)


def _mail(a: Actor, c: Case) -> bool:
    return _authority(a, c) or _delivery_clerk(a, c) or _receiving_clerk(a, c)


def _confirm_receipt(a: Actor, c: Case) -> bool:
    return _applicant(a, c) or _delivery_clerk(a, c) or _receiving_clerk(a, c)


def _withdraw(a: Actor, c: Case) -> bool:
    # The applicant; at a hall, also the receiving window on the applicant's written request
    # (many applicants of proxy cases have no account).
    return _applicant(a, c) or (c.receiving_hall_id is not None and _receiving_clerk(a, c))


def _nobody(a: Actor, c: Case) -> bool:
    return False


RULES: dict[str, Callable[[Actor, Case], bool]] = {
    "submit": _applicant,
    "receive": _receiving_clerk,
    "verify": _receiving_clerk,
    "transfer": _receiving_clerk,
    "request_correction": _request_correction,
    "resubmit": _resubmit,
    "accept": _authority,
    "reject": _authority,
    "start_review": _authority,
    "suspend": _authority,
    "resume": _authority,
    "approve": _authority,
    "deny": _authority,
    "issue": _nobody,
    "queue_print": _nobody,
    "print": _print,
    "hand_over": _delivery_clerk,
    "mail": _mail,
    "confirm_receipt": _confirm_receipt,
    "deliver_online": _nobody,
    "withdraw": _withdraw,
}

TRANSITIONS: tuple[str, ...] = tuple(RULES)


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
    return [n for n in TRANSITIONS if n in names and n != "receive" and may(actor, case, n)]

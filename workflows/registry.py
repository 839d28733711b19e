"""The ONE table of case transitions: per transition its label, who may take it, the action that
runs it and the request inputs that action takes.

Everything else is derived from it: ``workflows.rules`` (RULES, TRANSITIONS, SYSTEM_ONLY,
AUTHORITY_STEPS, ``may``, ``available_transitions``), the labels of pages and timelines
(``TRANSITION_LABELS``), the dispatch table ``workflows.actions.TRANSITION_ACTIONS``, and the
keyword arguments the API body (``body_kwargs``) and the workbench / portal forms
(``form_kwargs``) turn into. The model's django-fsm ``@transition`` methods stay where django-fsm
needs them (``workflows.models.Case``); tests/workflows/test_registry.py checks that both name the
same transitions.

Adding a transition: its fsm method on Case, one entry here, and its action in
``workflows.actions`` (named by ``action``).

The order of the entries is the order ``available_transitions`` lists them in.
This module sits below the actions and ``workflows.rules`` (it imports neither at run time): the
action is named, not imported, and the rules take the acting ``rules.Actor``.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any, Protocol

from django.utils.translation import gettext_lazy as _

from workflows.models import Case, CaseState

if TYPE_CHECKING:
    from django.utils.functional import _StrOrPromise

    from workflows.rules import Actor

S = CaseState

Rule = Callable[["Actor", Case], bool]


# --- who may take a step (role plus jurisdiction; the state is django-fsm's business) ---------


def applicant(a: Actor, c: Case) -> bool:
    return a.applicant_of(c)


def receiving_clerk(a: Actor, c: Case) -> bool:
    return a.clerk_at(c.receiving_hall_id)


def authority(a: Actor, c: Case) -> bool:
    return a.approver_for(c)


def nobody(a: Actor, c: Case) -> bool:
    """Steps only the system takes (rendering/signing, routing to print, electronic delivery)."""
    return False


def _request_correction(a: Actor, c: Case) -> bool:
    # At the window (received) the receiving clerk tells the applicant; after transfer / online
    # submission, the authority does.
    if c.state == S.RECEIVED:
        return receiving_clerk(a, c)
    if c.state in (S.SUBMITTED, S.TRANSFERRED):
        return authority(a, c)
    return receiving_clerk(a, c) or authority(a, c)


def _resubmit(a: Actor, c: Case) -> bool:
    if c.receiving_hall_id is None:
        return applicant(a, c)
    # Corrections at a hall are brought to a window; a correction the receiving window itself asked
    # for goes back to that window.
    if c.correction_from == S.RECEIVED:
        return receiving_clerk(a, c)
    return receiving_clerk(a, c) or a.clerk_at(c.delivery_hall_id)


def _print(a: Actor, c: Case) -> bool:
    return a.window_at(c.delivery_hall_id, "issuing") is not None


def _delivery_clerk(a: Actor, c: Case) -> bool:
    return a.clerk_at(c.delivery_hall_id)


def _mail(a: Actor, c: Case) -> bool:
    return authority(a, c) or _delivery_clerk(a, c) or receiving_clerk(a, c)


def _confirm_receipt(a: Actor, c: Case) -> bool:
    return applicant(a, c) or _delivery_clerk(a, c) or receiving_clerk(a, c)


def _withdraw(a: Actor, c: Case) -> bool:
    # The applicant; at a hall, also the receiving window on the applicant's written request
    # (many applicants of proxy cases have no account).
    return applicant(a, c) or (c.receiving_hall_id is not None and receiving_clerk(a, c))


# --- the inputs a step takes: from the API's JSON body and from an HTML form -----------------


class Form(Protocol):
    """What ``request.POST`` offers (a QueryDict)."""

    def get(self, key: str, default: Any = ..., /) -> Any: ...

    def getlist(self, key: str) -> list[Any]: ...

    def items(self) -> Any: ...


class Input(Protocol):
    """One keyword argument of an action: ``name``, read from the body or from a form."""

    @property
    def name(self) -> str: ...

    def from_body(self, data: Mapping[str, Any]) -> Any: ...

    def from_form(self, post: Form) -> Any: ...


@dataclass(frozen=True)
class Text:
    """A free text (a reason, a legal basis, a tracking number)."""

    name: str

    def from_body(self, data: Mapping[str, Any]) -> Any:
        return data.get(self.name, "")

    def from_form(self, post: Form) -> Any:
        return post.get(self.name, "")


@dataclass(frozen=True)
class Flag:
    """A yes/no: JSON true in the body (or ``body_default`` when absent), a ticked box in a form."""

    name: str
    body_default: bool | None = None

    def from_body(self, data: Mapping[str, Any]) -> Any:
        if self.body_default is None:
            return data.get(self.name) is True
        return data.get(self.name, self.body_default)

    def from_form(self, post: Form) -> Any:
        return post.get(self.name) == "on"


@dataclass(frozen=True)
class Codes:
    """A list of codes: a JSON list, or the form's repeated field."""

    name: str

    def from_body(self, data: Mapping[str, Any]) -> Any:
        return data.get(self.name, [])

    def from_form(self, post: Form) -> Any:
        return post.getlist(self.name)


@dataclass(frozen=True)
class Keyed:
    """A mapping (key → text): a JSON object, or one form field per key named ``<prefix><key>``."""

    name: str
    prefix: str

    def from_body(self, data: Mapping[str, Any]) -> Any:
        return data.get(self.name) or {}

    def from_form(self, post: Form) -> Any:
        return {k.removeprefix(self.prefix): v for k, v in post.items() if k.startswith(self.prefix)}


@dataclass(frozen=True)
class CorrectionItem:
    requirement: str | None
    reason: str


@dataclass(frozen=True)
class Corrections:
    """一次性告知's items: a JSON list of {requirement, reason}, or the form's paired
    ``requirement``/``reason`` fields (rows left without a reason are the form's empty rows)."""

    name: str = "items"

    def from_body(self, data: Mapping[str, Any]) -> Any:
        return [CorrectionItem(i.get("requirement") or None, i.get("reason", "")) for i in data.get(self.name, [])]

    def from_form(self, post: Form) -> Any:
        pairs = zip(post.getlist("requirement"), post.getlist("reason"), strict=False)
        return [CorrectionItem(code or None, reason) for code, reason in pairs if reason.strip()]


# --- the table ---------------------------------------------------------------------------------


@dataclass(frozen=True)
class Transition:
    name: str
    label: _StrOrPromise
    rule: Rule
    # The function in workflows.actions that runs it (``case=, actor=, **inputs``); None: not taken
    # at the transition endpoints (receive: workflows.actions.receive creates the case received).
    action: str | None
    inputs: tuple[Input, ...] = ()

    def body_kwargs(self, data: Mapping[str, Any]) -> dict[str, Any]:
        """The action's keyword arguments from the API's (validated) JSON body."""
        return {i.name: i.from_body(data) for i in self.inputs}

    def form_kwargs(self, post: Form) -> dict[str, Any]:
        """The action's keyword arguments from a page's form (``request.POST``)."""
        return {i.name: i.from_form(post) for i in self.inputs}


_REASON = (Text("reason"),)

REGISTRY: dict[str, Transition] = {
    t.name: t
    for t in (
        Transition("submit", _("提交申请"), applicant, "submit"),
        Transition("receive", _("收件"), receiving_clerk, None),
        Transition("verify", _("核验"), receiving_clerk, "verify", (Flag("id_checked"), Codes("originals_sighted"))),
        Transition("transfer", _("流转"), receiving_clerk, "transfer"),
        Transition(
            "request_correction", _("一次性告知补正"), _request_correction, "request_correction", (Corrections(),)
        ),
        Transition("resubmit", _("补正后重新提交"), _resubmit, "resubmit", (Keyed("notes", "note_"),)),
        Transition("accept", _("受理"), authority, "accept"),
        Transition("reject", _("不予受理"), authority, "reject", _REASON),
        Transition("start_review", _("开始审查"), authority, "start_review"),
        Transition("suspend", _("进入特别程序"), authority, "suspend", _REASON),
        Transition("resume", _("恢复审查"), authority, "resume"),
        Transition("approve", _("准予"), authority, "approve"),
        Transition("deny", _("不予批准"), authority, "deny", (*_REASON, Text("legal_basis"))),
        Transition("issue", _("出证"), nobody, "issue"),
        Transition("queue_print", _("转打证"), nobody, "queue_print"),
        Transition("print", _("打证"), _print, "print_result", (Keyed("blank_serials", "serial_"),)),
        Transition(
            "hand_over",
            _("交付领取"),
            _delivery_clerk,
            "hand_over",
            (
                # An API call that says nothing about the ID check means the clerk checked it.
                Flag("id_checked", body_default=True),
                Text("collector_id_number"),
                Flag("by_proxy"),
                Text("collector_name"),
                Text("authorisation"),
                Flag("authorisation_checked"),
            ),
        ),
        Transition("mail", _("寄出"), _mail, "mail", (Text("tracking_number"),)),
        Transition("confirm_receipt", _("确认签收"), _confirm_receipt, "confirm_receipt"),
        Transition("deliver_online", _("电子送达"), nobody, "deliver_online"),
        Transition("withdraw", _("撤回"), _withdraw, "withdraw", _REASON),
    )
}

# Every transition, in the table's order; those taken at the transition endpoints (not receive).
NAMES: tuple[str, ...] = tuple(REGISTRY)
OFFERED: dict[str, Transition] = {name: t for name, t in REGISTRY.items() if t.action is not None}

# The label of every event kind a case's timeline shows: the transitions, and the events that are
# not transitions (a case's creation; facts recorded without a state change).
TRANSITION_LABELS: dict[str, Any] = {
    "create": _("创建"),
    **{name: t.label for name, t in REGISTRY.items()},
    "video_verification": _("远程视频核验"),
}

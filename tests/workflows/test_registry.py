"""The one table of transitions (workflows.registry) and what is derived from it."""

from __future__ import annotations

from django.http import QueryDict

from workflows import actions, registry, rules
from workflows.models import Case
from workflows.registry import REGISTRY, CorrectionItem


def _fsm_names() -> set[str]:
    field = Case._meta.get_field("state")
    return {t.name for t in field.get_all_transitions(Case)}  # type: ignore[union-attr]


def test_the_registry_and_the_model_name_the_same_transitions():
    assert set(REGISTRY) == _fsm_names()


def test_every_entry_names_an_action_the_dispatch_table_holds():
    assert [n for n, t in REGISTRY.items() if t.action is None] == ["receive"]
    assert list(actions.TRANSITION_ACTIONS) == list(registry.OFFERED)
    for name, t in registry.OFFERED.items():
        assert t.action is not None
        assert actions.TRANSITION_ACTIONS[name] is getattr(actions, t.action)
    assert actions.TRANSITION_ACTIONS["print"] is actions.print_result


def test_the_rules_tables_are_derived_in_the_registry_order():
    assert rules.TRANSITIONS == (
        "submit",
        "receive",
        "verify",
        "transfer",
        "request_correction",
        "resubmit",
        "accept",
        "reject",
        "start_review",
        "suspend",
        "resume",
        "approve",
        "deny",
        "issue",
        "queue_print",
        "print",
        "hand_over",
        "mail",
        "confirm_receipt",
        "deliver_online",
        "withdraw",
    )
    assert {n: t.rule for n, t in REGISTRY.items()} == rules.RULES
    assert {"issue", "queue_print", "deliver_online"} == rules.SYSTEM_ONLY
    assert {"accept", "reject", "start_review", "suspend", "resume", "approve", "deny"} == rules.AUTHORITY_STEPS
    assert {n: str(registry.TRANSITION_LABELS[n]) for n in ("create", "approve", "video_verification")} == {
        "create": "创建",
        "approve": "准予",
        "video_verification": "远程视频核验",
    }


def test_inputs_from_the_api_body():
    body = REGISTRY["verify"].body_kwargs
    assert body({}) == {"id_checked": False, "originals_sighted": []}
    assert body({"id_checked": True, "originals_sighted": ["id"]}) == {"id_checked": True, "originals_sighted": ["id"]}
    hand_over = REGISTRY["hand_over"].body_kwargs({})
    assert hand_over["id_checked"] is True and hand_over["by_proxy"] is False
    assert REGISTRY["request_correction"].body_kwargs({"items": [{"requirement": "", "reason": "x"}]}) == {
        "items": [CorrectionItem(None, "x")]
    }
    assert REGISTRY["print"].body_kwargs({"blank_serials": None}) == {"blank_serials": {}}
    assert REGISTRY["deny"].body_kwargs({"reason": "r"}) == {"reason": "r", "legal_basis": ""}
    assert REGISTRY["approve"].body_kwargs({"reason": "ignored"}) == {}


def test_inputs_from_a_form():
    post = QueryDict(mutable=True)
    post.setlist("requirement", ["id", ""])
    post.setlist("reason", ["blurred", "  "])
    post.update({"id_checked": "on", "serial_R1": "A001", "note_1": "signed"})
    assert REGISTRY["request_correction"].form_kwargs(post) == {"items": [CorrectionItem("id", "blurred")]}
    assert REGISTRY["print"].form_kwargs(post) == {"blank_serials": {"R1": "A001"}}
    assert REGISTRY["resubmit"].form_kwargs(post) == {"notes": {"1": "signed"}}
    assert REGISTRY["hand_over"].form_kwargs(post)["id_checked"] is True
    assert REGISTRY["hand_over"].form_kwargs(QueryDict())["id_checked"] is False
    assert REGISTRY["withdraw"].form_kwargs(QueryDict("reason=moved")) == {"reason": "moved"}

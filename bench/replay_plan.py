"""What the replay's people are and do next: seeded residents with valid ID numbers, and for a
case's state the next transition (who, which, with what body). Pure: no HTTP, no clock.
Used by bench/replay.py; never imported by the app.
"""

from __future__ import annotations

import random
from typing import Any

SURNAMES = "王李张刘陈杨黄赵吴周徐孙马朱胡郭何林罗高"
GIVEN = "伟芳娜敏静丽强磊军洋勇艳杰娟涛明超秀霞平刚桂"
# Counties whose 1990 codes python-stdnum knows (an ID keeps the code of first registration).
BIRTH_REGIONS = ["520102", "520103", "520111", "520112", "520113", "520302", "520303", "520402", "520201"]


def _check_digit(prefix17: str) -> str:
    from stdnum.cn import ric

    return ric.calc_check_digit(prefix17 + "0")


def make_person(rng: random.Random, seed: int, seq: int) -> dict[str, str]:
    """The seq-th resident of a run with this seed: name, a valid ID number, a phone, an address."""
    prefix = (
        f"{rng.choice(BIRTH_REGIONS)}{rng.randint(1950, 2004)}{rng.randint(1, 12):02d}{rng.randint(1, 28):02d}"
        f"{rng.randint(0, 999):03d}"
    )
    seed_digits = f"{seed % 100:02d}{seq % 10**6:06d}{rng.randint(0, 9)}"
    return {
        "name": rng.choice(SURNAMES) + rng.choice(GIVEN) + rng.choice(GIVEN),
        "id_number": prefix + _check_digit(prefix),
        "phone": f"1{rng.choice('3589')}{seed_digits}"[:11],
        "ip": f"10.{rng.randint(0, 255)}.{rng.randint(0, 255)}.{rng.randint(1, 254)}",
    }


def decide(case: dict[str, Any], ctx: dict[str, Any]) -> tuple[str, str, dict[str, Any]] | None:
    """(who, transition, body) for the case's state, or None when nothing is left for us."""
    plan = ctx["plan"]
    state = case["state"]
    if case.get("parent") and state == "approved":
        return None  # a joint part ends at its authority's decision; the parent issues
    done = {e["transition"] for e in case.get("events", [])}
    originals = [m["requirement"] for m in case.get("materials", [])]
    if state == "draft":
        return "citizen", "submit", {}
    if state == "received":
        return "clerk", "verify", {"id_checked": True, "originals_sighted": sorted(set(originals))}
    if state == "verified":
        return "clerk", "transfer", {}
    if state in ("submitted", "transferred"):
        if case.get("children"):
            return None  # a joint parent: its sub-cases are decided, the parent follows
        if plan["correction"] and "request_correction" not in done:
            req = originals[0] if originals else None
            return (
                "approver",
                "request_correction",
                {"items": [{"requirement": req, "reason": "扫描件不清晰，请重新提交"}]},
            )
        return "approver", "accept", {}
    if state == "needs_correction":
        return ("citizen" if ctx["online"] else "clerk"), "resubmit", {"notes": {"1": "已按告知重新提交"}}
    if state == "accepted":
        return "approver", "start_review", {}
    if state == "under_review":
        if plan["suspend"] and "suspend" not in done:
            return "approver", "suspend", {"reason": "需现场核查"}
        if plan["deny"]:
            return (
                "approver",
                "deny",
                {"reason": "不符合条件", "legal_basis": "《中华人民共和国行政许可法》第三十八条"},
            )
        return "approver", "approve", {}
    if state == "suspended":
        return "approver", "resume", {}
    if state == "issued" and case["delivery"]["method"] == "mail":
        return (
            ("clerk" if not ctx["online"] else "approver"),
            "mail",
            {"tracking_number": f"EMS{case['number'][-6:]}"},
        )
    if state == "print_queued":
        return "clerk", "print", {}
    if state == "ready_for_pickup":
        return "clerk", "hand_over", {"collector_id_number": ctx["who"]["id_number"]}
    if state == "mailed":
        return ("citizen" if ctx["online"] else "clerk"), "confirm_receipt", {}
    return None

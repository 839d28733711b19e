"""Chinese punctuation joined once: clauses that carry their own 。 joined with ；, a message that
ends with 。 followed by the template's 。 — texts that read “。；” or “。。” to the citizen."""

from __future__ import annotations

import re
from collections.abc import Iterable

_TRAILING = "。；;，,、！!？?. "
# A run of sentence punctuation collapses to its last mark ("缺页。；" → "缺页；", "。。" → "。").
_RUN = re.compile(r"[。；，、！？]{2,}")


def clause(text: str) -> str:
    """``text`` without the sentence punctuation it ends with, ready to be joined."""
    return str(text or "").strip().rstrip(_TRAILING)


def join_clauses(parts: Iterable[str], sep: str = "；", end: str = "。") -> str:
    """Join non-empty clauses with ``sep``, ending with ``end`` exactly once."""
    cleaned = [c for c in (clause(p) for p in parts) if c]
    return sep.join(cleaned) + end if cleaned else ""


def tidy(text: str) -> str:
    """Collapse doubled punctuation left where a value ending in a mark meets the template's own."""
    return _RUN.sub(lambda m: m.group(0)[-1], text)

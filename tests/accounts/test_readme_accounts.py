"""Every demo account the README names exists after load_demo (one did not: approver-520102-gongan)."""

from __future__ import annotations

import re
from pathlib import Path
from typing import Any

README = Path(__file__).resolve().parents[2] / "README.md"


def test_readme_demo_accounts_exist(demo_halls: Any) -> None:
    from accounts.models import User
    from demo.staff import load_staff

    load_staff()
    text = README.read_text(encoding="utf-8")
    block = text[text.index("Demo accounts") : text.index("The UI speaks")]
    named = [n for n in re.findall(r"`([a-z][a-z0-9_-]+)`", block) if "-" in n and "_demo" not in n]
    assert "clerk-zunyi" in named and any(n.startswith("approver-") for n in named)
    missing = [n for n in named if n != "admin" and not User.objects.filter(username=n).exists()]
    assert missing == []

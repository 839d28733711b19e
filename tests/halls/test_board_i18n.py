"""The live boards speak the page's language: texts their scripts write come from the server."""

from __future__ import annotations

import json
import re
from typing import Any

import pytest
from django.test import Client

pytestmark = pytest.mark.django_db


def _json_script(html: str, element_id: str) -> Any:
    m = re.search(rf'<script id="{element_id}" type="application/json">(.*?)</script>', html, re.S)
    assert m, f"no #{element_id} in the page"
    return json.loads(m.group(1))


def test_call_screen_chinese_by_default(client: Client, live_hall: Any) -> None:
    html = client.get(f"/halls/{live_hall.code}/screen/").content.decode()
    assert '<html lang="zh-hans">' in html
    assert _json_script(html, "board-labels")["live"] == "● 实时"


def test_call_screen_in_english(client: Client, live_hall: Any) -> None:
    client.cookies["django_language"] = "en"
    html = client.get(f"/halls/{live_hall.code}/screen/").content.decode()
    assert '<html lang="en">' in html
    labels = _json_script(html, "board-labels")
    assert labels == {"live": "● Live", "reconnecting": "○ Reconnecting…"}


def test_console_status_names_in_english(client: Client, live_hall: Any, clerk_for: Any) -> None:
    window = live_hall.windows.order_by("number").first()
    client.force_login(clerk_for(live_hall, window.number))
    client.cookies["django_language"] = "en"
    html = client.get(f"/halls/{live_hall.code}/console/").content.decode()
    labels = _json_script(html, "console-labels")
    from django.utils import translation

    from halls.models import TicketStatus

    with translation.override("en"):
        assert labels["status"] == {s.value: str(s.label) for s in TicketStatus}
    assert labels["status"]["no_show"] != "过号"
    assert labels["noneWaiting"] == "Nobody is waiting at the moment."
    assert f"Window {window.number}" in html


def test_window_str_uses_the_active_language(live_hall: Any) -> None:
    from django.utils import translation

    window = live_hall.windows.order_by("number").first()
    with translation.override("zh-hans"):
        assert str(window) == f"{live_hall.name} {window.number}号窗口"
    with translation.override("en"):
        assert str(window) == f"{live_hall.name} window {window.number}"

"""The call screen (叫号屏) updates live when a clerk calls the next ticket from the console."""

from __future__ import annotations

import pytest
from django.test import Client

pytestmark = pytest.mark.browser


def _session_cookie(user, base_url: str) -> dict:
    client = Client()
    client.force_login(user)
    return {"name": "sessionid", "value": client.cookies["sessionid"].value, "url": base_url}


def test_call_screen_follows_the_clerk(asgi_server, offline_context, live_hall, clerk_for):
    from playwright.sync_api import expect

    from halls import actions

    clerk = clerk_for(live_hall, "2")
    for _ in range(2):
        actions.issue_ticket(hall=live_hall, category="A", actor=None)

    screen = offline_context()
    screen.page.goto(f"{asgi_server}/halls/{live_hall.code}/screen/")
    expect(screen.page.locator("#conn")).to_have_attribute("data-state", "open", timeout=10_000)
    expect(screen.page.locator("#waiting")).to_have_text("2")
    expect(screen.page.locator("#latest-ticket")).to_have_text("—")

    console = offline_context()
    console.context.add_cookies([_session_cookie(clerk, asgi_server)])
    console.page.goto(f"{asgi_server}/halls/{live_hall.code}/console/")
    card = console.page.locator('.window-card[data-window-number="2"]')
    card.locator(".call-next").click()
    expect(card.locator(".current-ticket")).to_have_text("A001", timeout=10_000)

    # The screen hears it over the WebSocket: no reload.
    expect(screen.page.locator("#latest-ticket")).to_have_text("A001", timeout=10_000)
    expect(screen.page.locator("#latest-window")).to_have_text("2")
    expect(screen.page.locator("#waiting")).to_have_text("1")

    card.locator('.act[data-transition="finish"]').click()
    expect(card.locator(".current-status")).to_contain_text("已办结", timeout=10_000)
    card.locator(".call-next").click()
    expect(screen.page.locator("#latest-ticket")).to_have_text("A002", timeout=10_000)
    expect(screen.page.locator("#waiting")).to_have_text("0")

    # A third call finds nobody waiting and says so.
    card.locator(".call-next").click()
    expect(console.page.locator("#console-error")).to_contain_text("没有等候", timeout=10_000)

    for p in (screen, console):
        assert p.blocked == [], p.blocked
        assert p.errors == [], p.errors

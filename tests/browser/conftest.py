"""Browser tests: Debian's chromium through Playwright, against a real ASGI server (uvicorn).

* ``chromium`` — a headless browser; SKIPPED when /usr/bin/chromium is missing, except under
  CI=true where that is a failure.
* ``asgi_server`` — uvicorn serving config.asgi.application (HTTP + WebSocket) in a thread of the
  test process, on the test database (committed data: the tests use ``transactional_db``).
* ``offline_page`` — a page in a fresh context where every non-loopback request is aborted and
  recorded, so a test can assert the page asked for nothing outside.
"""

from __future__ import annotations

import os
import socket
import threading
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any
from urllib.parse import urlparse

import pytest

CHROMIUM = Path("/usr/bin/chromium")
CHROMIUM_ARGS = [
    "--no-sandbox",
    "--disable-gpu",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--no-first-run",
]
LOOPBACK = {"127.0.0.1", "localhost", "::1"}


@pytest.fixture(scope="session")
def chromium() -> Iterator[Any]:
    if not CHROMIUM.exists():
        if os.environ.get("CI", "").lower() in ("1", "true", "yes"):
            pytest.fail("required under CI=true: /usr/bin/chromium (apt-get install chromium)", pytrace=False)
        pytest.skip("needs Debian's chromium at /usr/bin/chromium")
    from playwright.sync_api import sync_playwright

    # Playwright's sync API keeps an event loop running in the test's thread; the ORM calls the tests
    # make between browser steps are still plain synchronous code.
    os.environ.setdefault("DJANGO_ALLOW_ASYNC_UNSAFE", "true")
    with sync_playwright() as p:
        browser = p.chromium.launch(executable_path=str(CHROMIUM), headless=True, args=CHROMIUM_ARGS)
        yield browser
        browser.close()


@pytest.fixture
def asgi_server(transactional_db: None, settings: Any) -> Iterator[str]:
    import uvicorn
    from django.db import connections

    from config.asgi import application

    settings.ALLOWED_HOSTS = ["127.0.0.1", "localhost"]
    # The server's worker threads must not keep persistent connections: the test database is
    # dropped at the end of the session (PostgreSQL refuses while sessions remain).
    db_settings = connections.settings["default"]
    old_max_age = db_settings.get("CONN_MAX_AGE", 0)
    db_settings["CONN_MAX_AGE"] = 0
    sock = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
    sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    sock.bind(("127.0.0.1", 0))
    port = sock.getsockname()[1]
    server = uvicorn.Server(
        uvicorn.Config(
            application, host="127.0.0.1", port=port, log_level="warning", lifespan="off", ws="websockets-sansio"
        )
    )
    thread = threading.Thread(target=server.run, kwargs={"sockets": [sock]}, daemon=True)
    thread.start()
    deadline = time.monotonic() + 20
    while not server.started:
        if time.monotonic() > deadline or not thread.is_alive():
            raise RuntimeError("uvicorn did not start")
        time.sleep(0.05)
    try:
        yield f"http://127.0.0.1:{port}"
    finally:
        server.should_exit = True
        thread.join(timeout=10)
        sock.close()
        db_settings["CONN_MAX_AGE"] = old_max_age


class OfflinePage:
    def __init__(self, context: Any) -> None:
        self.context = context
        self.blocked: list[str] = []
        self.dialogs: list[str] = []
        self.errors: list[str] = []
        context.route("**/*", self._route)
        self.page = context.new_page()
        self.page.on("dialog", self._dialog)
        self.page.on("pageerror", lambda exc: self.errors.append(str(exc)))
        self.console: list[str] = []
        self.page.on("console", lambda msg: self.console.append(f"{msg.type}: {msg.text}"))

    def _route(self, route: Any) -> None:
        host = urlparse(route.request.url).hostname or ""
        if host in LOOPBACK:
            route.continue_()
        else:
            self.blocked.append(route.request.url)
            route.abort()

    def _dialog(self, dialog: Any) -> None:
        self.dialogs.append(dialog.message)
        dialog.dismiss()


@pytest.fixture
def offline_context(chromium: Any) -> Iterator[Any]:
    contexts: list[Any] = []

    def _make(**options: Any) -> OfflinePage:
        ctx = chromium.new_context(locale="zh-CN", viewport={"width": 1280, "height": 800}, **options)
        contexts.append(ctx)
        return OfflinePage(ctx)

    yield _make
    for ctx in contexts:
        ctx.close()

"""A local stand-in for a national real-name service (实名核验): a real HTTP server on 127.0.0.1.

It answers what ``accounts.realname.HttpRealNameService`` asks — ``POST`` JSON ``{name, id_number,
phone}`` with a bearer key — from a small registry of people: ``match`` when the phone is the one
registered for that ID number (and the name agrees), ``mismatch`` when the number is registered to
another phone or name, ``unknown`` for a number it does not know. Every request is recorded.
"""

from __future__ import annotations

import json
import secrets
import threading
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any


@dataclass
class RealNameStandin:
    key: str = field(default_factory=lambda: secrets.token_hex(12))
    people: dict[str, tuple[str, str]] = field(default_factory=dict)  # id_number → (name, phone)
    requests: list[dict[str, Any]] = field(default_factory=list)
    _server: ThreadingHTTPServer | None = None
    _lock: threading.Lock = field(default_factory=threading.Lock)

    def start(self) -> RealNameStandin:
        standin = self

        class Handler(BaseHTTPRequestHandler):
            def do_POST(self) -> None:
                length = int(self.headers.get("Content-Length") or 0)
                raw = self.rfile.read(length)
                authorized = self.headers.get("Authorization") == f"Bearer {standin.key}"
                try:
                    body = json.loads(raw or b"{}")
                except ValueError:
                    body = {}
                with standin._lock:
                    standin.requests.append({"body": body, "authorized": authorized})
                if not authorized:
                    self._send(401, {"error": "unauthorized"})
                    return
                known = standin.people.get(str(body.get("id_number", "")))
                if known is None:
                    result = "unknown"
                elif known == (body.get("name"), body.get("phone")):
                    result = "match"
                else:
                    result = "mismatch"
                self._send(200, {"result": result})

            def _send(self, status: int, payload: dict[str, Any]) -> None:
                data = json.dumps(payload).encode()
                self.send_response(status)
                self.send_header("Content-Type", "application/json")
                self.send_header("Content-Length", str(len(data)))
                self.end_headers()
                self.wfile.write(data)

            def log_message(self, format: str, *args: Any) -> None:
                pass

        self._server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self._server.daemon_threads = True
        threading.Thread(target=self._server.serve_forever, kwargs={"poll_interval": 0.05}, daemon=True).start()
        return self

    @property
    def url(self) -> str:
        assert self._server is not None
        host, port = self._server.server_address[:2]
        return f"http://{host!s}:{port}/v1/verify"

    def stop(self) -> None:
        if self._server is not None:
            self._server.shutdown()
            self._server.server_close()
            self._server = None

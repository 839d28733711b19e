"""A local stand-in for Twilio's Messages API: a real HTTP server on 127.0.0.1, random port.

It implements what our backend uses — `POST /2010-04-01/Accounts/<sid>/Messages.json`, form-encoded,
HTTP basic auth, and `GET` of the same list filtered by `To` (asked before a retry) — answering
with Twilio-shaped JSON, and records every request. It can be told to fail the next N requests
the way Twilio does (400 with error 21211 for an invalid number, 500, 429).

Also `signed_callback(...)`: the headers and form of a status callback signed exactly as Twilio signs
them, to drive our status endpoint.
"""

from __future__ import annotations

import base64
import json
import secrets
import threading
from dataclasses import dataclass, field
from email.utils import formatdate
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any
from urllib.parse import parse_qs

from twilio.request_validator import RequestValidator


@dataclass
class RecordedRequest:
    method: str
    path: str
    form: dict[str, str]
    headers: dict[str, str]
    authorized: bool


@dataclass
class _Failure:
    status: int
    code: int
    message: str
    remaining: int


@dataclass
class TwilioStandin:
    account_sid: str = field(default_factory=lambda: "AC" + secrets.token_hex(16))
    auth_token: str = field(default_factory=lambda: secrets.token_hex(16))
    requests: list[RecordedRequest] = field(default_factory=list)
    messages: dict[str, dict[str, Any]] = field(default_factory=dict)
    _failures: list[_Failure] = field(default_factory=list)
    _lock: threading.Lock = field(default_factory=threading.Lock)
    _server: ThreadingHTTPServer | None = None
    _thread: threading.Thread | None = None

    # --- lifecycle -------------------------------------------------------------------------------
    def start(self) -> TwilioStandin:
        standin = self

        class Handler(BaseHTTPRequestHandler):
            def do_POST(self) -> None:
                standin._handle(self)

            def do_GET(self) -> None:
                standin._handle(self)

            def log_message(self, format: str, *args: Any) -> None:  # keep test output quiet
                pass

        self._server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self._server.daemon_threads = True
        self._thread = threading.Thread(
            target=self._server.serve_forever, kwargs={"poll_interval": 0.05}, name="twilio-standin", daemon=True
        )
        self._thread.start()
        return self

    def stop(self) -> None:
        if self._server is not None:
            self._server.shutdown()
            self._server.server_close()
            self._server = None

    @property
    def base_url(self) -> str:
        assert self._server is not None, "start() first"
        host, port = self._server.server_address[:2]
        return f"http://{host}:{port}"

    # --- test controls ---------------------------------------------------------------------------
    def fail_next(self, n: int = 1, *, status: int = 500, code: int | None = None, message: str = "") -> None:
        """Answer the next `n` message requests with an error. status=400 defaults to Twilio's
        21211 (invalid 'To' number), 429 to 20429, 5xx to 20500."""
        default_code = {400: 21211, 429: 20429}.get(status, 20500)
        default_msg = {
            21211: "The 'To' number is not a valid phone number.",
            20429: "Too Many Requests",
        }.get(code or default_code, "Internal Server Error")
        with self._lock:
            self._failures.append(_Failure(status, code or default_code, message or default_msg, n))

    @property
    def message_requests(self) -> list[RecordedRequest]:
        with self._lock:
            return [r for r in self.requests if r.method == "POST" and r.path.endswith("/Messages.json")]

    # --- the fake API ----------------------------------------------------------------------------
    def _handle(self, h: BaseHTTPRequestHandler) -> None:
        length = int(h.headers.get("Content-Length") or 0)
        raw = h.rfile.read(length).decode("utf-8") if length else ""
        form = {k: v[-1] for k, v in parse_qs(raw, keep_blank_values=True).items()}
        authorized = self._authorized(h.headers.get("Authorization", ""))
        path = h.path.split("?", 1)[0]
        with self._lock:
            self.requests.append(RecordedRequest(h.command, path, form, dict(h.headers.items()), authorized))
        messages_path = f"/2010-04-01/Accounts/{self.account_sid}/Messages.json"
        if not authorized:
            return self._error(h, 401, 20003, "Authenticate")
        if h.command == "GET" and path == messages_path:
            # The list our backend reads before a retry (find_sent): newest first, filtered by To.
            query = {k: v[-1] for k, v in parse_qs(h.path.partition("?")[2]).items()}
            with self._lock:
                found = [m for m in reversed(self.messages.values()) if m["to"] == query.get("To", m["to"])]
            return self._json(h, 200, {"messages": found, "next_page_uri": None, "page": 0, "page_size": 50})
        if h.command != "POST" or path != messages_path:
            return self._error(h, 404, 20404, f"The requested resource {path} was not found")
        with self._lock:
            failure = self._failures[0] if self._failures else None
            if failure is not None:
                failure.remaining -= 1
                if failure.remaining <= 0:
                    self._failures.pop(0)
        if failure is not None:
            return self._error(h, failure.status, failure.code, failure.message)
        if not form.get("To"):
            return self._error(h, 400, 21604, "A 'To' phone number is required.")
        if not form.get("Body"):
            return self._error(h, 400, 21602, "Message body is required.")
        if not (form.get("From") or form.get("MessagingServiceSid")):
            return self._error(h, 400, 21603, "A 'From' phone number is required.")
        sid = "SM" + secrets.token_hex(16)
        now = formatdate(usegmt=True)
        message = {
            "sid": sid,
            "account_sid": self.account_sid,
            "api_version": "2010-04-01",
            "body": form["Body"],
            "date_created": now,
            "date_updated": now,
            "date_sent": None,
            "direction": "outbound-api",
            "error_code": None,
            "error_message": None,
            "from": form.get("From"),
            "messaging_service_sid": form.get("MessagingServiceSid"),
            "num_media": "0",
            "num_segments": str(max(1, -(-len(form["Body"]) // 67))),
            "price": None,
            "price_unit": "USD",
            "status": "queued",
            "to": form["To"],
            "uri": f"/2010-04-01/Accounts/{self.account_sid}/Messages/{sid}.json",
            "subresource_uris": {"media": f"/2010-04-01/Accounts/{self.account_sid}/Messages/{sid}/Media.json"},
        }
        with self._lock:
            self.messages[sid] = message
        self._json(h, 201, message)

    def _authorized(self, header: str) -> bool:
        if not header.startswith("Basic "):
            return False
        try:
            user, _, password = base64.b64decode(header[6:]).decode().partition(":")
        except ValueError:
            return False
        return secrets.compare_digest(user, self.account_sid) and secrets.compare_digest(password, self.auth_token)

    def _error(self, h: BaseHTTPRequestHandler, status: int, code: int, message: str) -> None:
        self._json(
            h,
            status,
            {
                "code": code,
                "message": message,
                "more_info": f"https://www.twilio.com/docs/errors/{code}",
                "status": status,
            },
        )

    @staticmethod
    def _json(h: BaseHTTPRequestHandler, status: int, payload: dict[str, Any]) -> None:
        body = json.dumps(payload).encode()
        h.send_response(status)
        h.send_header("Content-Type", "application/json")
        h.send_header("Content-Length", str(len(body)))
        h.end_headers()
        h.wfile.write(body)

    # --- status callbacks ------------------------------------------------------------------------
    def signed_callback(self, url: str, message_sid: str, status: str, **extra: str) -> tuple[dict[str, str], str]:
        """The form and X-Twilio-Signature of the status callback Twilio would POST to `url`."""
        form = {
            "AccountSid": self.account_sid,
            "ApiVersion": "2010-04-01",
            "MessageSid": message_sid,
            "SmsSid": message_sid,
            "MessageStatus": status,
            "SmsStatus": status,
            **extra,
        }
        signature = RequestValidator(self.auth_token).compute_signature(url, form)
        return form, signature

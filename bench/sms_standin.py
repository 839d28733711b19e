"""The SMS stand-in for the replay and the fault drill: a Twilio-shaped HTTP server, its own process.

    .venv/bin/python bench/sms_standin.py --port 8999 --journal /tmp/sms.jsonl [--delay 0.2]

Implements what notifications.backends.TwilioBackend uses: `POST .../Messages.json` (accepts,
journals one JSON line {sid, to, body, at} and only then waits `--delay` seconds before answering,
so a worker killed "mid-send" leaves a message the provider has taken but whose answer nobody read)
and `GET .../Messages.json?To=&DateSent>=` (the provider-side lookup the backend makes before a
retry). `GET /inbox?to=<number>` returns the bodies sent to one number (how the replay reads a
login code, like a phone would). The journal is the drill's ground truth of what was sent.
"""

from __future__ import annotations

import argparse
import base64
import json
import secrets
import threading
import time
from email.utils import formatdate
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any
from urllib.parse import parse_qs, urlsplit


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--port", type=int, required=True)
    parser.add_argument("--journal", type=Path, required=True)
    parser.add_argument("--delay", type=float, default=0.0)
    parser.add_argument("--account-sid", required=True)
    parser.add_argument("--auth-token", required=True)
    args = parser.parse_args()

    lock = threading.Lock()
    by_to: dict[str, list[dict[str, Any]]] = {}
    if args.journal.exists():  # a restarted stand-in still answers lookups for what it took before
        for line in args.journal.read_text(encoding="utf-8").splitlines():
            if line.strip():
                rec = json.loads(line)
                by_to.setdefault(rec["to"], []).append(rec)
    journal = args.journal.open("a", encoding="utf-8")
    expected_auth = "Basic " + base64.b64encode(f"{args.account_sid}:{args.auth_token}".encode()).decode()
    messages_path = f"/2010-04-01/Accounts/{args.account_sid}/Messages.json"

    def twilio_message(rec: dict[str, Any]) -> dict[str, Any]:
        return {
            "sid": rec["sid"],
            "account_sid": args.account_sid,
            "api_version": "2010-04-01",
            "body": rec["body"],
            "to": rec["to"],
            "from": rec.get("from"),
            "status": "queued",
            "date_created": formatdate(rec["at"], usegmt=True),
            "date_updated": formatdate(rec["at"], usegmt=True),
            "date_sent": formatdate(rec["at"], usegmt=True),
            "direction": "outbound-api",
            "num_segments": "1",
            "error_code": None,
            "error_message": None,
            "uri": f"/2010-04-01/Accounts/{args.account_sid}/Messages/{rec['sid']}.json",
        }

    class Handler(BaseHTTPRequestHandler):
        protocol_version = "HTTP/1.1"

        def log_message(self, format: str, *a: Any) -> None:
            pass

        def _json(self, status: int, payload: Any) -> None:
            body = json.dumps(payload, ensure_ascii=False).encode()
            self.send_response(status)
            self.send_header("Content-Type", "application/json")
            self.send_header("Content-Length", str(len(body)))
            self.end_headers()
            self.wfile.write(body)

        def do_GET(self) -> None:
            parts = urlsplit(self.path)
            query = {k: v[-1] for k, v in parse_qs(parts.query).items()}
            if parts.path == "/inbox":
                with lock:
                    recs = list(by_to.get(query.get("to", ""), []))
                return self._json(
                    200, {"messages": [{"sid": r["sid"], "body": r["body"], "at": r["at"]} for r in recs]}
                )
            if parts.path == "/stats":
                with lock:
                    return self._json(200, {"messages": sum(len(v) for v in by_to.values())})
            if parts.path != messages_path or self.headers.get("Authorization") != expected_auth:
                return self._json(404, {"code": 20404, "message": "not found", "status": 404})
            with lock:
                recs = list(by_to.get(query.get("To", ""), []))
            page = {
                "messages": [twilio_message(r) for r in recs],
                "uri": self.path,
                "first_page_uri": self.path,
                "next_page_uri": None,
                "previous_page_uri": None,
                "page": 0,
                "page_size": len(recs),
                "start": 0,
                "end": max(0, len(recs) - 1),
            }
            return self._json(200, page)

        def do_POST(self) -> None:
            length = int(self.headers.get("Content-Length") or 0)
            form = {k: v[-1] for k, v in parse_qs(self.rfile.read(length).decode("utf-8")).items()}
            if urlsplit(self.path).path != messages_path or self.headers.get("Authorization") != expected_auth:
                return self._json(401, {"code": 20003, "message": "Authenticate", "status": 401})
            if not form.get("To") or not form.get("Body"):
                return self._json(400, {"code": 21604, "message": "To and Body are required", "status": 400})
            rec = {"sid": "SM" + secrets.token_hex(16), "to": form["To"], "body": form["Body"], "at": time.time()}
            rec["from"] = form.get("From")
            with lock:
                journal.write(json.dumps(rec, ensure_ascii=False) + "\n")
                journal.flush()
                by_to.setdefault(rec["to"], []).append(rec)
            if args.delay:
                time.sleep(args.delay)  # taken, answer not yet sent: the window a kill -9 falls into
            return self._json(201, twilio_message(rec))

    server = ThreadingHTTPServer(("127.0.0.1", args.port), Handler)
    server.daemon_threads = True
    server.serve_forever(poll_interval=0.2)


if __name__ == "__main__":
    main()

"""What issue 11 added to a staff login: the token endpoint with and without the second factor.

    .venv/bin/python bench/bench_login.py [--n 200] [--database-url postgres://…/scratch]

The database named in --database-url is DROPPED and re-created (PostgreSQL); without it a throw-away
SQLite file is used. Through Django's test client (in-process, no network), POST /api/v1/auth/token/
for a window clerk (password only: axes, token rotation) and for an approver with an enrolled TOTP
device (password + TOTP verification + rotation); the staff login page likewise. p50 / p95 of each;
the password hasher is the production one (PBKDF2), so the difference is what 2FA and rotation add.
Writes bench/results/login.json (one entry per database vendor).
"""

from __future__ import annotations

import argparse
import json
import platform
import statistics
import tempfile
import time
from datetime import UTC, datetime
from typing import Any

from _bootstrap import ROOT, prepare_database, setup_django

PASSWORD = "Tongban-bench-2026!"


def _pct(values: list[float], q: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, int(q * len(ordered)))]


def _summary(ms: list[float]) -> dict[str, float]:
    return {"p50_ms": round(statistics.median(ms), 2), "p95_ms": round(_pct(ms, 0.95), 2), "n": len(ms)}


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--n", type=int, default=200)
    parser.add_argument("--database-url", default="")
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as tmp:
        url = prepare_database(args.database_url or None, tmp)
        setup_django(url, RESULT_SIGNING_KEYS_DIR=f"{tmp}/keys")
        from django.conf import settings
        from django.db import connection
        from django.test import Client
        from django_otp.oath import totp
        from django_otp.plugins.otp_totp.models import TOTPDevice

        from accounts import twofactor
        from accounts.models import Role, User

        settings.ALLOWED_HOSTS = ["*"]
        clerk = User.objects.create_user(username="bench-clerk", password=PASSWORD, role=Role.WINDOW_CLERK)
        approver = User.objects.create_user(username="bench-approver", password=PASSWORD, role=Role.APPROVER)
        twofactor.enroll(approver)
        device = TOTPDevice.objects.get(user=approver)
        client = Client()

        def token_login(username: str, otp: str | None) -> float:
            body: dict[str, Any] = {"username": username, "password": PASSWORD}
            if otp:
                body["otp"] = otp
            started = time.perf_counter()
            resp = client.post("/api/v1/auth/token/", body, content_type="application/json")
            elapsed = (time.perf_counter() - started) * 1000
            assert resp.status_code == 200, resp.content
            return elapsed

        def code() -> str:
            # A TOTP code is single use: reset the device's last-used step so each login may use the current one.
            TOTPDevice.objects.filter(pk=device.pk).update(last_t=-1)
            return f"{totp(device.bin_key, step=device.step, t0=device.t0, digits=device.digits):06d}"

        token_login("bench-clerk", None)  # warm up
        # Interleaved, so a busy machine slows both series alike.
        password_only: list[float] = []
        with_totp: list[float] = []
        for _ in range(args.n):
            password_only.append(token_login("bench-clerk", None))
            c = code()
            with_totp.append(token_login("bench-approver", c))
        # What rotation costs against the old get_or_create (both through the ORM, no HTTP).
        from rest_framework.authtoken.models import Token

        from accounts import tokens

        def timed(fn: Any) -> float:
            started = time.perf_counter()
            fn()
            return (time.perf_counter() - started) * 1000

        old_way = [timed(lambda: Token.objects.get_or_create(user=clerk)) for _ in range(args.n)]
        rotation = [timed(lambda: tokens.issue(clerk)) for _ in range(args.n)]
        p50_added = statistics.median(with_totp) - statistics.median(password_only)
        result = {
            "at": datetime.now(UTC).isoformat(timespec="seconds"),
            "python": platform.python_version(),
            "database": connection.vendor,
            "hasher": settings.PASSWORD_HASHERS[0].rsplit(".", 1)[-1],
            "token_password_only": _summary(password_only),
            "token_password_and_totp": _summary(with_totp),
            "second_factor_adds_p50_ms": round(p50_added, 2),
            "token_get_or_create_before": _summary(old_way),
            "token_rotation_now": _summary(rotation),
            "rotation_adds_p50_ms": round(statistics.median(rotation) - statistics.median(old_way), 2),
        }
    out = ROOT / "bench" / "results" / "login.json"
    existing = json.loads(out.read_text()) if out.exists() else {}
    existing[result["database"]] = result
    out.write_text(json.dumps(existing, ensure_ascii=False, indent=2) + "\n")
    print(json.dumps(result, ensure_ascii=False, indent=2))


if __name__ == "__main__":
    main()

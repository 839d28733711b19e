"""The device cookie of the SMS login: a signed random id, so OTP limits can follow one browser or app.

Behind carrier-grade NAT one address is hundreds of citizens, so limits keyed on the address either
lock them all out or are too loose to matter. A device id is per browser: the login code limits
count per device too. It is only a hint (a script can drop it), so a request without one is still
bounded per phone, per address and by the global breaker; a forged or tampered value is ignored.
"""

from __future__ import annotations

import secrets

from django.conf import settings
from django.core import signing
from django.http import HttpRequest, HttpResponse

COOKIE = "tb_device"
SALT = "tongban.accounts.device"


def device_id(request: HttpRequest) -> str | None:
    raw = request.COOKIES.get(COOKIE, "")
    if not raw:
        return None
    try:
        value = signing.Signer(salt=SALT).unsign(raw)
    except signing.BadSignature:
        return None
    return value if len(value) == 32 and value.isalnum() else None


def ensure_device(request: HttpRequest) -> str:
    """The request's device id, minted (and remembered on the request for the response) if absent."""
    existing = device_id(request) or getattr(request, "_tb_new_device", None)
    if existing:
        return str(existing)
    new = secrets.token_hex(16)
    request._tb_new_device = new  # type: ignore[attr-defined]
    return new


def set_device_cookie(request: HttpRequest, response: HttpResponse) -> HttpResponse:
    new = getattr(request, "_tb_new_device", None)
    if new:
        response.set_cookie(
            COOKIE,
            signing.Signer(salt=SALT).sign(new),
            max_age=settings.OTP_KNOWN_DEVICE_DAYS * 86400,
            httponly=True,
            samesite="Lax",
            secure=settings.SESSION_COOKIE_SECURE,
        )
    return response

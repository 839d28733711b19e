"""The signed QR payload of a result: compact, verifiable offline with the province's public key.

Format (ASCII, fits a version ~12 QR code at error level M)::

    TB1.<base64url(claims JSON)>.<base64url(Ed25519 signature over "TB1.<base64url(claims)>")>

Claims (short keys): ``k`` key id, ``r`` result id (32 hex), ``n`` result number, ``h`` holder
name masked, ``x`` holder ID masked, ``i`` item code, ``t`` result type, ``a`` issuing department
code, ``d`` issue date (YYYY-MM-DD), ``u`` valid until (optional). The kid inside the signed claims
must equal the key that verifies the signature, so a payload cannot be re-labelled.

The QR code may carry the token alone or a verification URL ``https://…/verify/<id>/?p=<token>``
(phones open it); ``extract_token`` accepts both. This module depends only on ``cryptography``:
it is the reference for an offline verifier app.
"""

from __future__ import annotations

import base64
import binascii
import json
import re
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any
from urllib.parse import parse_qs, urlsplit

from cryptography.exceptions import InvalidSignature
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PublicKey

PREFIX = "TB1"
MAX_TOKEN = 2048
REQUIRED = ("k", "r", "n", "h", "i", "t", "a", "d")
_B64 = re.compile(r"^[A-Za-z0-9_-]+$")
_DATE = re.compile(r"^\d{4}-\d{2}-\d{2}$")
_HEX32 = re.compile(r"^[0-9a-f]{32}$")


class Status:
    VALID = "valid"
    FORGED = "forged"  # well-formed, but the signature is not the province's
    UNKNOWN_KEY = "unknown_key"  # signed with a key id nobody published
    MALFORMED = "malformed"  # truncated, corrupted, not a result code at all


def gettext_noop(message: str) -> str:
    """Marks a reason for the translation catalogue without importing Django (this module stays
    usable by an offline verifier); the web side translates ``Check.reason`` when showing it."""
    return message


@dataclass(frozen=True)
class Check:
    status: str
    reason: str
    claims: dict[str, Any] = field(default_factory=dict)

    @property
    def valid(self) -> bool:
        return self.status == Status.VALID


def b64e(data: bytes) -> str:
    return base64.urlsafe_b64encode(data).rstrip(b"=").decode("ascii")


def b64d(text: str) -> bytes:
    if not _B64.match(text):
        raise ValueError("not base64url")
    return base64.urlsafe_b64decode(text + "=" * (-len(text) % 4))


def encode_claims(claims: Mapping[str, Any]) -> str:
    return b64e(json.dumps(dict(claims), sort_keys=True, separators=(",", ":"), ensure_ascii=False).encode())


def signing_input(claims_b64: str) -> bytes:
    return f"{PREFIX}.{claims_b64}".encode("ascii")


def make_token(claims: Mapping[str, Any], sign: Any) -> str:
    """``sign(message) -> (kid, signature)`` signs with the active key, whose kid must be ``claims['k']``."""
    body = encode_claims(claims)
    kid, signature = sign(signing_input(body))
    if kid != claims.get("k"):
        raise ValueError("the claims name another key than the one signing")
    return f"{PREFIX}.{body}.{b64e(signature)}"


def extract_token(text: str) -> str:
    """The token from a scanned QR text: the token itself, or a verification URL with ?p=."""
    text = (text or "").strip()
    if text.startswith(("http://", "https://")):
        values = parse_qs(urlsplit(text).query).get("p", [])
        return values[0] if values else ""
    return text


def verify_token(text: str, public_keys: Mapping[str, Ed25519PublicKey]) -> Check:
    """Offline verification. Never raises on bad input: anything but a correct signature by a
    known key over well-formed claims is reported as malformed / unknown_key / forged."""
    token = extract_token(text)
    if not token or len(token) > MAX_TOKEN:
        return Check(Status.MALFORMED, gettext_noop("不是有效的结果二维码内容。"))
    parts = token.split(".")
    if len(parts) != 3 or parts[0] != PREFIX:
        return Check(Status.MALFORMED, gettext_noop("二维码内容不完整或格式错误。"))
    _prefix, body, sig_b64 = parts
    try:
        raw_claims = b64d(body)
        signature = b64d(sig_b64)
        claims = json.loads(raw_claims.decode("utf-8"))
    except (ValueError, binascii.Error, UnicodeDecodeError):
        return Check(Status.MALFORMED, gettext_noop("二维码内容不完整或已损坏。"))
    if not isinstance(claims, dict) or any(k not in claims for k in REQUIRED):
        return Check(Status.MALFORMED, gettext_noop("二维码内容缺少必要信息。"))
    if len(signature) != 64:
        return Check(Status.MALFORMED, gettext_noop("二维码签名不完整。"))
    if not (isinstance(claims["r"], str) and _HEX32.match(claims["r"])) or not (
        isinstance(claims["d"], str) and _DATE.match(claims["d"])
    ):
        return Check(Status.MALFORMED, gettext_noop("二维码内容格式错误。"))
    public = public_keys.get(str(claims["k"]))
    if public is None:
        return Check(Status.UNKNOWN_KEY, gettext_noop("签名密钥未知：该二维码不是本省签发的。"), claims)
    try:
        public.verify(signature, signing_input(body))
    except InvalidSignature:
        return Check(Status.FORGED, gettext_noop("签名验证失败：二维码内容被篡改或伪造。"), claims)
    return Check(Status.VALID, gettext_noop("签名有效。"), claims)

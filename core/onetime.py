"""One-time link tokens (the window pad, the video guest link): the raw token travels in a URL,
only its digest is stored, so a database read alone opens nothing."""

from __future__ import annotations

import hashlib
import secrets


def new_token() -> str:
    return secrets.token_urlsafe(24)


def token_digest(token: str) -> str:
    return hashlib.sha256(token.encode()).hexdigest()

"""Protection of personal identifiers: encryption at rest, keyed lookup hashes, masking."""

from __future__ import annotations

import base64
import hashlib
import hmac
from functools import lru_cache

from cryptography.fernet import Fernet
from django.conf import settings

# One masking rule for phones system-wide (core.phones); re-exported here beside the other
# identifier masks for accounts.models and workflows.models.
from core.phones import mask_phone as mask_phone


@lru_cache(maxsize=4)
def _fernet(secret: str) -> Fernet:
    key = base64.urlsafe_b64encode(hashlib.sha256(b"tongban-pii:" + secret.encode()).digest())
    return Fernet(key)


def _secret() -> str:
    # A dedicated key lets operators rotate SECRET_KEY without losing the ID numbers.
    return str(getattr(settings, "PII_ENCRYPTION_KEY", "") or settings.SECRET_KEY)


def protect(value: str) -> str:
    return _fernet(_secret()).encrypt(value.encode()).decode()


def reveal(token: str) -> str:
    return _fernet(_secret()).decrypt(token.encode()).decode()


def lookup_hash(value: str) -> str:
    return hmac.new(_secret().encode(), value.upper().encode(), hashlib.sha256).hexdigest()


def mask_id_number(value: str) -> str:
    """520102********1234 style: region and last four visible, birth date hidden."""
    if not value:
        return ""
    if len(value) <= 8:
        return value[:1] + "*" * (len(value) - 1)
    return value[:6] + "*" * (len(value) - 10) + value[-4:]

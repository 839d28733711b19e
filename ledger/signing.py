"""The ledger's view of the province keyring: sign a batch statement, check one.

The keyring object is provided by the app that owns the keys (``LEDGER_KEYRING`` names a callable,
default ``licences.keys.get_keyring``); the ledger only needs ``sign(message) -> (kid, signature)``
and ``verify(kid, signature, message) -> bool``.
"""

from __future__ import annotations

import base64
from typing import Any, Protocol

from django.utils.module_loading import import_string

from ledger import conf
from ledger.hashing import root_message


class KeyringLike(Protocol):
    def sign(self, message: bytes) -> tuple[str, bytes]: ...

    def verify(self, kid: str, signature: bytes, message: bytes) -> bool: ...


def keyring() -> KeyringLike:
    factory: Any = import_string(conf.keyring_path())
    return factory()  # type: ignore[no-any-return]


def b64(data: bytes) -> str:
    return base64.urlsafe_b64encode(data).rstrip(b"=").decode()


def unb64(text: str) -> bytes:
    return base64.urlsafe_b64decode(text + "=" * (-len(text) % 4))


def sign_statement(statement: str) -> tuple[str, str]:
    kid, signature = keyring().sign(root_message(statement))
    return kid, b64(signature)


def statement_signature_ok(statement: str, kid: str, signature: str, ring: KeyringLike | None = None) -> bool:
    try:
        raw = unb64(signature)
    except (ValueError, TypeError):
        return False
    return (ring or keyring()).verify(kid, raw, root_message(statement))

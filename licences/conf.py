"""Settings of the results module (declared with their defaults in config/settings/base.py)."""

from __future__ import annotations

import os
from pathlib import Path

from django.conf import settings


def signing_keys_dir() -> Path:
    """Where Ed25519 keys live: ``<kid>.key`` (private, PEM, 0600) and ``<kid>.pub`` (public only,
    for retired keys whose signatures must still verify). Outside the web root."""
    value = settings.RESULT_SIGNING_KEYS_DIR or os.environ.get("RESULT_SIGNING_KEYS_DIR")
    return Path(value) if value else Path(settings.BASE_DIR) / "var" / "keys"


def signing_key_pem() -> str:
    """A private key given directly (PEM text) — e.g. from a secret store; wins over the directory."""
    return str(settings.RESULT_SIGNING_KEY or os.environ.get("RESULT_SIGNING_KEY", ""))


def active_kid() -> str:
    """Which known private key signs new payloads; empty = the env key, else the newest file."""
    return str(settings.RESULT_SIGNING_ACTIVE_KID or os.environ.get("RESULT_SIGNING_ACTIVE_KID", ""))


def autogenerate_dev_key() -> bool:
    """Embedded default: create a development key on first use (logged loudly). Turn off in production."""
    return bool(settings.RESULT_SIGNING_AUTOGENERATE)


def documents_prefix() -> str:
    """Storage prefix of rendered result PDFs (default storage: MEDIA_ROOT, never served directly)."""
    return str(settings.RESULT_DOCUMENTS_PREFIX)


def verify_base_url() -> str:
    """Public origin printed into the QR code: ``RESULT_VERIFY_BASE_URL`` when set, else the site's
    ``PUBLIC_BASE_URL`` — a phone camera or WeChat opens a URL, while a bare token shows gibberish.
    The token rides in the URL's ``?p=``, so the code still verifies offline from the payload alone."""
    value = settings.RESULT_VERIFY_BASE_URL or os.environ.get("RESULT_VERIFY_BASE_URL", "")
    if not value:
        value = settings.PUBLIC_BASE_URL
    return str(value or "").rstrip("/")


def issuing_authority_title() -> str:
    return str(settings.RESULT_PROVINCE_NAME)


def font_candidates() -> list[str]:
    """CJK TrueType fonts to embed, first found wins (CFF-flavoured OpenType cannot be embedded by
    reportlab and is skipped)."""
    return list(settings.RESULT_PDF_FONTS)


def blank_stock_result_types() -> set[str]:
    """Result types printed on pre-printed, serially numbered blank stock (空白证书)."""
    return set(settings.RESULT_BLANK_STOCK_TYPES)


def verify_rate() -> str:
    """Anonymous rate for the public verification API (DRF rate syntax)."""
    return str(settings.RESULT_VERIFY_RATE)

"""Settings of the results module with their defaults (override in the Django settings or the env)."""

from __future__ import annotations

import os
from pathlib import Path

from django.conf import settings


def signing_keys_dir() -> Path:
    """Where Ed25519 keys live: ``<kid>.key`` (private, PEM, 0600) and ``<kid>.pub`` (public only,
    for retired keys whose signatures must still verify). Outside the web root."""
    value = getattr(settings, "RESULT_SIGNING_KEYS_DIR", None) or os.environ.get("RESULT_SIGNING_KEYS_DIR")
    return Path(value) if value else Path(settings.BASE_DIR) / "var" / "keys"


def signing_key_pem() -> str:
    """A private key given directly (PEM text) — e.g. from a secret store; wins over the directory."""
    return str(getattr(settings, "RESULT_SIGNING_KEY", "") or os.environ.get("RESULT_SIGNING_KEY", ""))


def active_kid() -> str:
    """Which known private key signs new payloads; empty = the env key, else the newest file."""
    return str(getattr(settings, "RESULT_SIGNING_ACTIVE_KID", "") or os.environ.get("RESULT_SIGNING_ACTIVE_KID", ""))


def autogenerate_dev_key() -> bool:
    """Embedded default: create a development key on first use (logged loudly). Turn off in production."""
    value = getattr(settings, "RESULT_SIGNING_AUTOGENERATE", None)
    if value is None:
        value = os.environ.get("RESULT_SIGNING_AUTOGENERATE", "1") not in ("0", "false", "False", "no")
    return bool(value)


def documents_prefix() -> str:
    """Storage prefix of rendered result PDFs (default storage: MEDIA_ROOT, never served directly)."""
    return str(getattr(settings, "RESULT_DOCUMENTS_PREFIX", "results"))


def verify_base_url() -> str:
    """Public origin printed into the QR code: ``RESULT_VERIFY_BASE_URL`` when set, else the site's
    ``PUBLIC_BASE_URL`` — a phone camera or WeChat opens a URL, while a bare token shows gibberish.
    The token rides in the URL's ``?p=``, so the code still verifies offline from the payload alone."""
    value = getattr(settings, "RESULT_VERIFY_BASE_URL", "") or os.environ.get("RESULT_VERIFY_BASE_URL", "")
    if not value:
        value = getattr(settings, "PUBLIC_BASE_URL", "")
    return str(value or "").rstrip("/")


def issuing_authority_title() -> str:
    return str(getattr(settings, "RESULT_PROVINCE_NAME", "贵州省"))


def font_candidates() -> list[str]:
    """CJK TrueType fonts to embed, first found wins (CFF-flavoured OpenType cannot be embedded by
    reportlab and is skipped)."""
    default = [
        "/usr/share/fonts/truetype/wqy/wqy-microhei.ttc",
        "/usr/share/fonts/truetype/wqy/wqy-zenhei.ttc",
        "/usr/share/fonts/truetype/arphic/uming.ttc",
        "/usr/share/fonts/truetype/droid/DroidSansFallbackFull.ttf",
        "/usr/share/fonts/opentype/noto/NotoSansCJK-Regular.ttc",
        "/usr/share/fonts/opentype/noto/NotoSerifCJK-Regular.ttc",
    ]
    return list(getattr(settings, "RESULT_PDF_FONTS", default))


def blank_stock_result_types() -> set[str]:
    """Result types printed on pre-printed, serially numbered blank stock (空白证书)."""
    return set(getattr(settings, "RESULT_BLANK_STOCK_TYPES", ["licence", "certificate"]))


def verify_rate() -> str:
    """Anonymous rate for the public verification API (DRF rate syntax)."""
    return str(getattr(settings, "RESULT_VERIFY_RATE", "120/minute"))

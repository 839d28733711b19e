"""System check: the province signing key (without loading it, so checks never create keys)."""

from __future__ import annotations

from typing import Any

from django.conf import settings
from django.core import checks

from licences import conf


def check_signing_key(app_configs: Any = None, **kwargs: Any) -> list[checks.CheckMessage]:
    from licences.keys import development_keys

    directory = conf.signing_keys_dir()
    dev = development_keys(directory)
    real_files = directory.is_dir() and any(p not in dev for p in directory.glob("*.key"))
    if dev and not conf.autogenerate_dev_key():
        return [
            checks.Error(
                f"Development signing key(s) generated automatically in {directory}: "
                f"{', '.join(p.name for p in dev)}. Documents signed with them prove nothing.",
                hint="Delete them and create a real key (manage.py create_signing_key) or set RESULT_SIGNING_KEY.",
                id="licences.E002",
            )
        ]
    configured = bool(conf.signing_key_pem()) or real_files
    if configured:
        return []
    if dev:
        return (
            [
                checks.Warning(
                    f"Result documents are signed with an automatically generated DEVELOPMENT key in {directory}.",
                    hint="Production: create one with `manage.py create_signing_key` or set RESULT_SIGNING_KEY, "
                    "and set RESULT_SIGNING_AUTOGENERATE=0.",
                    id="licences.W003",
                )
            ]
            if not settings.DEBUG
            else []
        )
    if not conf.autogenerate_dev_key():
        return [
            checks.Error(
                "No result signing key: set RESULT_SIGNING_KEY (PEM) or put a key in RESULT_SIGNING_KEYS_DIR "
                "(python manage.py create_signing_key).",
                id="licences.E001",
            )
        ]
    if not settings.DEBUG:
        return [
            checks.Warning(
                f"No result signing key configured: a DEVELOPMENT key will be generated in {directory} on first use.",
                hint="Production: create one with `manage.py create_signing_key` or set RESULT_SIGNING_KEY, "
                "and set RESULT_SIGNING_AUTOGENERATE=0.",
                id="licences.W001",
            )
        ]
    return []


def check_verify_base_url(app_configs: Any = None, **kwargs: Any) -> list[checks.CheckMessage]:
    """Printed QR codes outlive any configuration change: in production they must point at the
    public https origin (a phone refuses or warns on plain http, and 127.0.0.1 opens nothing)."""
    if settings.DEBUG:
        return []
    base = conf.verify_base_url()
    if base.startswith("https://") and "127.0.0.1" not in base and "localhost" not in base:
        return []
    return [
        checks.Warning(
            f"Result QR codes will point at {base or '(nothing)'}: not a public https address.",
            hint="Set PUBLIC_BASE_URL (or RESULT_VERIFY_BASE_URL) to the site's public https origin.",
            id="licences.W002",
        )
    ]

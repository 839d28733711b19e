"""Links that leave the site (an SMS, a QR code): absolute, on the public origin."""

from __future__ import annotations

from django.conf import settings


def public_url(path: str) -> str:
    """``path`` (starting with /) on the site's public origin, ``PUBLIC_BASE_URL``: a text message
    has no request to take the host from."""
    return f"{str(settings.PUBLIC_BASE_URL).rstrip('/')}{path}"

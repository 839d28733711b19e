"""The real client address behind our own reverse proxies, and nothing a client can choose.

X-Forwarded-For is a list each proxy appends to: `client, proxy1, proxy2`, and whoever connects to the
first proxy can put anything in front. Only hops added by proxies we run are trustworthy, so the client
is the right-most address that is *not* one of ours (TRUSTED_PROXIES, CIDR list), found by walking
the header from the right, starting from the connecting peer (REMOTE_ADDR). When the peer is not a
trusted proxy the header is ignored entirely. Anything that is not an IP address ends the walk: the
last address we could vouch for is used (never the text, so `evil-not-an-ip` is never stored).

`ClientAddressMiddleware` runs first and rewrites REMOTE_ADDR to that address and drops the
forwarded header, so every reader agrees: DRF's throttles (which would otherwise key on the whole
client-supplied header), django-axes (AXES_CLIENT_IP_CALLABLE points here too), the OTP limits and
every stored address.
"""

from __future__ import annotations

import ipaddress
from collections.abc import Callable
from functools import lru_cache
from typing import Any

from django.conf import settings
from django.core.exceptions import ImproperlyConfigured
from django.http import HttpRequest, HttpResponse

IPNetwork = ipaddress.IPv4Network | ipaddress.IPv6Network


@lru_cache(maxsize=8)
def _networks(spec: tuple[str, ...]) -> tuple[IPNetwork, ...]:
    try:
        return tuple(ipaddress.ip_network(s.strip(), strict=False) for s in spec if s.strip())
    except ValueError as exc:
        raise ImproperlyConfigured(f"TRUSTED_PROXIES: {exc}") from None


def trusted_networks() -> tuple[IPNetwork, ...]:
    return _networks(tuple(getattr(settings, "TRUSTED_PROXIES", ()) or ()))


def _parse(value: str) -> ipaddress.IPv4Address | ipaddress.IPv6Address | None:
    value = value.strip()
    if value.startswith("[") and "]" in value:  # [2001:db8::1]:443
        value = value[1 : value.index("]")]
    elif value.count(":") == 1:  # 203.0.113.7:51234
        value = value.split(":", 1)[0]
    try:
        addr = ipaddress.ip_address(value)
    except ValueError:
        return None
    # An IPv4-mapped IPv6 peer (::ffff:10.0.0.1) is the IPv4 host for every comparison and record.
    if isinstance(addr, ipaddress.IPv6Address) and addr.ipv4_mapped is not None:
        return addr.ipv4_mapped
    return addr


def resolve(remote_addr: str | None, forwarded_for: str | None) -> str | None:
    """The client address from the peer and the X-Forwarded-For header (None when the peer is unknown)."""
    peer = _parse(remote_addr or "")
    if peer is None:
        return None
    nets = trusted_networks()
    current = peer
    hops = [h for h in (forwarded_for or "").split(",") if h.strip()]
    while any(current in net for net in nets) and hops:
        hop = _parse(hops.pop())
        if hop is None:
            break  # a malformed hop: keep the last address a trusted proxy reported
        current = hop
    return str(current)


def client_ip(request: Any) -> str | None:
    """The client address of a Django request (after the middleware, REMOTE_ADDR already is it)."""
    meta = getattr(request, "META", {})
    return resolve(meta.get("REMOTE_ADDR"), meta.get("HTTP_X_FORWARDED_FOR"))


class ClientAddressMiddleware:
    """Replace REMOTE_ADDR by the resolved client address before anything reads it."""

    def __init__(self, get_response: Callable[[HttpRequest], HttpResponse]) -> None:
        self.get_response = get_response

    def __call__(self, request: HttpRequest) -> HttpResponse:
        forwarded = request.META.pop("HTTP_X_FORWARDED_FOR", None)
        resolved = resolve(request.META.get("REMOTE_ADDR"), forwarded)
        if forwarded is not None:
            # Kept for logs under a name no library reads as the client address.
            request.META["TONGBAN_ORIGINAL_FORWARDED_FOR"] = forwarded
        if resolved is None:
            request.META.pop("REMOTE_ADDR", None)
        else:
            request.META["REMOTE_ADDR"] = resolved
        return self.get_response(request)

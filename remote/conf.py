"""Settings of remote video verification (each overridable in settings or the environment)."""

from __future__ import annotations

from typing import Any

from django.conf import settings


def ice_servers() -> list[dict[str, Any]]:
    """RTCPeerConnection ``iceServers``. None by default: inside one government extranet the two
    browsers reach each other directly; a STUN/TURN server is a setting (REMOTE_ICE_SERVERS, a JSON
    list such as ``[{"urls": "turn:turn.example.gov.cn:3478", "username": "u", "credential": "c"}]``)."""
    value = getattr(settings, "REMOTE_ICE_SERVERS", [])
    return list(value) if isinstance(value, list | tuple) else []


def join_minutes() -> int:
    """A session nobody joins within this many minutes expires (REMOTE_JOIN_MINUTES, default 10)."""
    return max(1, int(settings.REMOTE_JOIN_MINUTES))


def max_signal_bytes() -> int:
    """Largest signalling message relayed (an SDP offer is a few KB)."""
    return int(getattr(settings, "REMOTE_MAX_SIGNAL_BYTES", 64 * 1024))

"""Evidence that an ID number belongs to the person holding a phone (实名核验).

A valid check digit proves only that a number is well formed. Before an account may act on an ID
number — see the cases received for it, its e-licence library, its materials — the system needs
evidence that the phone's holder is that person. Three sources, in order of authority:

1. the national real-name service (公安/运营商实名核验): a pluggable backend named by the
   ``REAL_NAME_SERVICE`` setting. ``NoRealNameService`` (the embedded default: no service is
   reachable) answers ``unknown``; ``HttpRealNameService`` asks an HTTP endpoint
   (``REAL_NAME_SERVICE_URL``), replaced in tests by a local stand-in server at its network edge;
2. the window's record: a clerk checked this ID card for a case and recorded this phone (a lower
   app cannot read cases: ``workflows`` registers that source in ``accounts.extensions``);
3. a clerk confirming the binding at a window (``accounts.actions.confirm_identity``).

``match`` from any source verifies; ``mismatch`` is a conflicting claim (refused and flagged for a
clerk); ``unknown`` everywhere leaves the declaration unverified: the account keeps its name and
number but nothing is linked to it by the ID number.
"""

from __future__ import annotations

import json
import logging
import urllib.error
import urllib.request
from dataclasses import dataclass
from enum import StrEnum
from typing import Protocol

from django.conf import settings
from django.utils.module_loading import import_string

from core.phones import national

logger = logging.getLogger(__name__)


class Verdict(StrEnum):
    MATCH = "match"
    MISMATCH = "mismatch"
    UNKNOWN = "unknown"


class RealNameService(Protocol):
    def check(self, *, name: str, id_number: str, phone: str) -> Verdict: ...


class NoRealNameService:
    """No national service configured: every answer is ``unknown`` (evidence must come from a window)."""

    def check(self, *, name: str, id_number: str, phone: str) -> Verdict:
        return Verdict.UNKNOWN


class HttpRealNameService:
    """POST ``{"name", "id_number", "phone"}`` as JSON to ``REAL_NAME_SERVICE_URL`` (bearer
    ``REAL_NAME_SERVICE_KEY``); the answer ``{"result": "match"|"mismatch"|"unknown"}``.

    A service that is down, slow or answers nonsense yields ``unknown``, never ``match``: an outage
    must not verify anybody (the citizen can still bind at a window)."""

    def __init__(self, url: str | None = None, key: str | None = None, timeout: float | None = None) -> None:
        self.url = url if url is not None else settings.REAL_NAME_SERVICE_URL
        self.key = key if key is not None else settings.REAL_NAME_SERVICE_KEY
        self.timeout = timeout if timeout is not None else float(settings.REAL_NAME_SERVICE_TIMEOUT)

    def check(self, *, name: str, id_number: str, phone: str) -> Verdict:
        if not self.url:
            return Verdict.UNKNOWN
        # The service's contract takes the 11 digits (phones are stored in E.164, core.phones).
        body = json.dumps({"name": name, "id_number": id_number, "phone": national(phone)}).encode()
        request = urllib.request.Request(  # noqa: S310 - the URL is an operator's setting
            self.url,
            data=body,
            method="POST",
            headers={"Content-Type": "application/json", "Authorization": f"Bearer {self.key}"},
        )
        try:
            with urllib.request.urlopen(request, timeout=self.timeout) as response:  # noqa: S310
                answer = json.loads(response.read(4096) or b"{}")
        except (urllib.error.URLError, TimeoutError, OSError, ValueError) as exc:
            logger.warning("real-name service unavailable: %s", exc)
            return Verdict.UNKNOWN
        result = answer.get("result") if isinstance(answer, dict) else None
        try:
            return Verdict(str(result))
        except ValueError:
            logger.warning("real-name service answered %r", result)
            return Verdict.UNKNOWN


def get_service() -> RealNameService:
    path = settings.REAL_NAME_SERVICE
    service: RealNameService = import_string(path)()
    return service


@dataclass(frozen=True)
class Evidence:
    verdict: Verdict
    source: str  # real_name_service | window_record | ""


def evidence_for(*, name: str, id_number: str, id_hash: str, phone: str) -> Evidence:
    """The strongest answer available: the national service when it knows, else the window records."""
    verdict = get_service().check(name=name, id_number=id_number, phone=phone)
    if verdict != Verdict.UNKNOWN:
        return Evidence(verdict, "real_name_service")
    from accounts.extensions import identity_record_sources

    answers = [source(phone, id_hash) for source in identity_record_sources.all()]
    if Verdict.MATCH in answers:
        return Evidence(Verdict.MATCH, "window_record")
    if Verdict.MISMATCH in answers:
        return Evidence(Verdict.MISMATCH, "window_record")
    return Evidence(Verdict.UNKNOWN, "")

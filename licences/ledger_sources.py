"""Source resolvers for ``verify_ledger --sources``: rebuild each recorded payload from the rows
it was built from, with the same builders, so any later change to a result, a revocation or a
consent shows up as a mismatch (case events and materials: workflows/ledger_sources.py)."""

from __future__ import annotations

import hashlib
from typing import Any

from ledger import extensions as ledger
from licences.models import ResultDocument, ReuseConsent, Revocation
from licences.records import consent_payload, result_payload, revocation_payload

Payloads = dict[str, dict[str, Any] | None]


def _ids(refs: list[str]) -> dict[str, str]:
    return {ref.split(":", 1)[1]: ref for ref in refs}


def _int_ids(refs: list[str]) -> dict[int, str]:
    out: dict[int, str] = {}
    for key, ref in _ids(refs).items():
        if key.isdigit():
            out[int(key)] = ref
    return out


def results(refs: list[str]) -> Payloads:
    wanted = _ids(refs)
    found: Payloads = dict.fromkeys(refs)
    docs = ResultDocument.objects.filter(result_id__in=list(wanted)).select_related(
        "result__case__item", "result__issuing_department"
    )
    for doc in docs:
        found[wanted[str(doc.result_id)]] = result_payload(
            doc.result,
            document_sha256=doc.sha256,
            qr_sha256=hashlib.sha256(doc.qr_payload.encode()).hexdigest(),
            kid=doc.kid,
        )
    return found


def revocations(refs: list[str]) -> Payloads:
    wanted = _ids(refs)
    found: Payloads = dict.fromkeys(refs)
    for rev in Revocation.objects.filter(result_id__in=list(wanted)).select_related("result__case", "department"):
        found[wanted[str(rev.result_id)]] = revocation_payload(
            result=rev.result,
            reason=rev.reason,
            department=rev.department.code,
            revoked_by=rev.revoked_by_id,
            revoked_at=rev.revoked_at,
        )
    return found


def consents(refs: list[str]) -> Payloads:
    wanted = _int_ids(refs)
    found: Payloads = dict.fromkeys(refs)
    for c in ReuseConsent.objects.filter(pk__in=wanted).select_related(
        "case", "requirement", "material", "e_licence", "shared_material"
    ):
        found[wanted[c.pk]] = consent_payload(
            case=c.case.number,
            requirement=c.requirement.code,
            kind=c.kind,
            material=c.material_id,
            sha256=c.material.sha256,
            source=(c.e_licence.number if c.e_licence else f"material:{c.shared_material_id or ''}"),
            recorded_by=c.recorded_by_id,
            channel=c.channel,
            consented_at=c.consented_at,
        )
    return found


def register_sources() -> None:
    ledger.sources.register(results, key="result")
    ledger.sources.register(revocations, key="result_revoked")
    ledger.sources.register(consents, key="consent")

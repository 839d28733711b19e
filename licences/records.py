"""What the ledger records about results, revocations and reuse consents (payload builders shared
by the writers in ``licences.actions`` and the verifier's source resolvers)."""

from __future__ import annotations

from typing import Any

from workflows.results import Result


def mask_name(name: str) -> str:
    """张三 → 张*, 欧阳娜娜 → 欧阳**, 贵阳某某餐饮有限公司 → 贵阳******公司."""
    name = (name or "").strip()
    if len(name) <= 1:
        return "*" * len(name)
    if len(name) <= 3:
        return name[0] + "*" * (len(name) - 1)
    if len(name) <= 5:
        return name[:2] + "*" * (len(name) - 2)
    return name[:2] + "*" * (len(name) - 4) + name[-2:]


def result_payload(result: Result, *, document_sha256: str, qr_sha256: str, kid: str) -> dict[str, Any]:
    """The result digest's payload: public (no personal data beyond masks), so anyone holding the
    result can be shown its ledger entry and inclusion proof."""
    case = result.case
    return {
        "result": str(result.pk),
        "number": result.number,
        "case": case.number,
        "type": result.result_type,
        "title": result.title,
        "item": case.item.code,
        "license_type": result.license_type,
        "issuer": result.issuing_department.code,
        "issued_at": result.issued_at,
        "valid_until": result.valid_until,
        "holder_masked": mask_name(result.holder_name),
        "holder_id_masked": result.holder_id_masked,
        "document_sha256": document_sha256,
        "qr_sha256": qr_sha256,
        "kid": kid,
    }


def revocation_payload(
    *, result: Result, reason: str, department: str, revoked_by: int, revoked_at: Any
) -> dict[str, Any]:
    return {
        "result": str(result.pk),
        "number": result.number,
        "case": result.case.number,
        "reason": reason,
        "department": department,
        "revoked_by": revoked_by,
        "revoked_at": revoked_at,
    }


def consent_payload(
    *,
    case: str,
    requirement: str,
    kind: str,
    material: int,
    sha256: str,
    source: str,
    recorded_by: int,
    channel: str,
    consented_at: Any,
) -> dict[str, Any]:
    return {
        "case": case,
        "requirement": requirement,
        "kind": kind,
        "material": material,
        "sha256": sha256,
        "source": source,
        "recorded_by": recorded_by,
        "channel": channel,
        "consented_at": consented_at,
    }

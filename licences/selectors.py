"""Reads of the results module: visibility by the workflow's scope, verification, the library,
what a case can reuse, the print helpers."""

from __future__ import annotations

import uuid
from dataclasses import dataclass, field
from typing import Any

from django.db.models import QuerySet
from django.urls import reverse
from django.utils import timezone
from django.utils.translation import gettext as _

from accounts.models import User
from ledger.models import Entry
from licences import qr
from licences.actions import shared_source_valid
from licences.consent import identity_established
from licences.keys import get_keyring
from licences.models import BlankStock, ELicence, ResultDocument, ReuseConsent, StockStatus
from licences.records import mask_name
from workflows import selectors as wf_selectors
from workflows.models import Case, Material
from workflows.results import Result


def parse_uuid(value: Any) -> uuid.UUID | None:
    try:
        return uuid.UUID(str(value))
    except (ValueError, TypeError, AttributeError):
        return None


def result_of_case(user: User | None, number: str, result_id: Any = None) -> Result | None:
    """A result of case ``number`` if ``user`` may see the case (workflows' scope), else None → 404.
    Without ``result_id`` the case's first result (a joint case has one per authority)."""
    case = wf_selectors.case_for(user, number)
    if case is None:
        return None
    qs = Result.objects.filter(case=case).select_related("case__item", "issuing_department")
    if result_id:
        pk = parse_uuid(result_id)
        return qs.filter(pk=pk).first() if pk else None
    return qs.order_by("number").first()


def visible_result(user: User | None, result_id: Any) -> Result | None:
    pk = parse_uuid(result_id)
    if pk is None:
        return None
    result = Result.objects.select_related("case", "issuing_department").filter(pk=pk).first()
    if result is None or wf_selectors.case_for(user, result.case.number) is None:
        return None
    return result


def pdf_url(result: Result) -> str:
    """Where the clerk's workbench (or the applicant) opens the PDF: the permission-checked API."""
    path = reverse("licences:api-case-result-pdf", args=[result.case.number])
    return f"{path}?result={result.pk}"


# --- verification ---------------------------------------------------------------------------


@dataclass
class Verification:
    status: str  # valid | revoked | forged | unknown_key | malformed | unknown
    reason: str
    result: Result | None = None
    claims: dict[str, Any] = field(default_factory=dict)
    document: ResultDocument | None = None
    ledger_entry: Entry | None = None

    @property
    def valid(self) -> bool:
        return self.status == "valid"

    @property
    def revoked(self) -> bool:
        return self.result is not None and self.result.revoked_at is not None

    def as_dict(self) -> dict[str, Any]:
        r = self.result
        show = r is not None and self.status in ("valid", "revoked")
        entry = self.ledger_entry
        return {
            "valid": self.valid,
            "revoked": self.revoked if show else False,
            "status": self.status,
            "reason": self.reason,
            "id": str(r.pk) if show and r else None,
            "number": r.number if show and r else self.claims.get("n"),
            "title": r.title if show and r else None,
            "result_type": r.result_type if show and r else None,
            "item": r.case.item.name if show and r else None,
            "item_code": r.case.item.code if show and r else self.claims.get("i"),
            "holder_masked": mask_name(r.holder_name) if show and r else None,
            "holder_id_masked": r.holder_id_masked if show and r else None,
            "issued_at": r.issued_at.isoformat() if show and r else None,
            "valid_until": r.valid_until.isoformat() if show and r and r.valid_until else None,
            "issuer": r.issuing_department.name if show and r else None,
            "issuer_code": r.issuing_department.code if show and r else self.claims.get("a"),
            "revoked_at": r.revoked_at.isoformat() if show and r and r.revoked_at else None,
            "revoked_reason": r.revoked_reason if show and r and r.revoked_at else None,
            "kid": self.claims.get("k") or (self.document.kid if self.document else None),
            "document_sha256": self.document.sha256 if show and self.document else None,
            "ledger": (
                {
                    "entry": entry.pk,
                    "sealed": entry.batch_id is not None,
                    "proof_url": reverse("ledger:api-proof", args=[entry.pk]),
                }
                if show and entry is not None
                else None
            ),
        }


_CLAIM_FIELDS = (("n", "number"), ("i", "item"), ("a", "issuer"), ("d", "date"))


def _db_claims(result: Result) -> dict[str, str]:
    return {
        "n": result.number,
        "i": result.case.item.code,
        "a": result.issuing_department.code,
        "d": timezone.localdate(result.issued_at).isoformat(),
    }


def verify(result_id: Any = None, token: str | None = None) -> Verification | None:
    """Verify a result by id, by QR token, or both (the token must then be for that id).

    Returns None only for an unknown id without a token (→ 404). A token that does not verify is
    reported as forged / unknown_key / malformed and nothing from the database is shown with it.
    """
    pk = parse_uuid(result_id) if result_id is not None else None
    if result_id is not None and pk is None and not token:
        return None
    result = Result.objects.select_related("case__item", "issuing_department").filter(pk=pk).first() if pk else None
    claims: dict[str, Any] = {}
    if token:
        check = qr.verify_token(token, get_keyring().public_keys())
        if not check.valid:
            return Verification(status=check.status, reason=_(check.reason), claims=check.claims)
        claims = check.claims
        claimed = parse_uuid(claims["r"])
        if result is None and pk is None:
            result = (
                Result.objects.select_related("case__item", "issuing_department").filter(pk=claimed).first()
                if claimed
                else None
            )
        if result is None:
            return Verification(
                status="unknown", reason=_("签名有效，但系统中没有该结果，请联系发证部门。"), claims=claims
            )
        if claimed != result.pk:
            return Verification(
                status="forged", reason=_("二维码与该结果不符：可能是伪造或被替换的证照。"), claims=claims
            )
        db = _db_claims(result)
        if any(str(claims.get(k)) != db[k] for k, _label in _CLAIM_FIELDS):
            return Verification(status="forged", reason=_("二维码内容与登记信息不符。"), claims=claims)
    if result is None:
        return None
    document = ResultDocument.objects.filter(result=result).select_related("ledger_entry").first()
    entry = document.ledger_entry if document else None
    if result.revoked_at is not None:
        return Verification(
            status="revoked",
            reason=_("该结果已被发证部门撤销：%(reason)s") % {"reason": result.revoked_reason},
            result=result,
            claims=claims,
            document=document,
            ledger_entry=entry,
        )
    return Verification(
        status="valid",
        reason=_("签名有效，结果真实有效。") if token else _("结果真实有效（系统登记）。"),
        result=result,
        claims=claims,
        document=document,
        ledger_entry=entry,
    )


# --- the e-licence library and shared materials ----------------------------------------------


def library_for(user: User) -> QuerySet[ELicence]:
    """The user's own e-licences: by account, and by the ID number's lookup hash only once the
    account's ID number is verified (a declared number must not open someone else's library)."""
    if not user.is_authenticated:
        return ELicence.objects.none()
    qs = ELicence.objects.select_related("result", "issuer")
    if user.id_verified:
        return qs.filter(holder_id_hash=user.id_number_hash)
    return qs.filter(holder=user)


def e_licences_for_case(case: Case) -> QuerySet[ELicence]:
    return ELicence.objects.filter(
        holder_id_hash=case.applicant_id_hash, result__revoked_at__isnull=True
    ).select_related("result", "issuer")


def shared_materials_for_case(case: Case) -> list[Material]:
    """Materials the same applicant supplied in other cases, still valid, with their digest and
    original-sighted record (what a clerk in another city checks before reusing one)."""
    candidates = (
        Material.objects.filter(case__applicant_id_hash=case.applicant_id_hash, superseded_at__isnull=True)
        .exclude(case=case)
        .exclude(file="")
        .select_related("case", "requirement", "original_sighted_by", "original_sighted_hall")
        .order_by("-uploaded_at")
    )
    codes = set(case.item.materials.values_list("code", flat=True))
    return [m for m in candidates if m.requirement.code in codes and shared_source_valid(m)]


def reusable_for_case(case: Case) -> list[dict[str, Any]]:
    """Per requirement of the case's item: matching e-licences and shareable materials — none at
    all unless an account holds the case's ID number verified (and, online, it is that account's
    case): a declared number must not list the real holder's materials. Who may call this for a
    case (the applicant, or staff under the applicant's grant) is the caller's check."""
    if identity_established(case):
        elicences = [e for e in e_licences_for_case(case) if e.status == "valid"]
        shared = shared_materials_for_case(case)
    else:
        elicences, shared = [], []
    out = []
    for req in case.item.materials.all():
        out.append(
            {
                "requirement": req.code,
                "name": req.name,
                "e_license_type": req.e_license_type,
                "e_licences": [
                    e
                    for e in elicences
                    if req.e_license_type and req.e_license_type in (e.license_type, e.item_code, e.title)
                ],
                "shared_materials": [m for m in shared if m.requirement.code == req.code],
            }
        )
    return out


# --- printing -------------------------------------------------------------------------------


def stock_available(hall_id: int, result_type: str) -> int:
    return BlankStock.objects.filter(hall_id=hall_id, result_type=result_type, status=StockStatus.AVAILABLE).count()


def stock_for_result(result: Result) -> BlankStock | None:
    return BlankStock.objects.filter(result=result, status=StockStatus.USED).first()


def e_licence_for_case(case: Case, value: Any) -> ELicence | None:
    """Resolve the ``e_license`` id of the materials API: an ELicence id or its result's UUID,
    only within the case applicant's own library."""
    if not identity_established(case):
        return None
    qs = ELicence.objects.filter(holder_id_hash=case.applicant_id_hash).select_related("result")
    pk = parse_uuid(value)
    if pk is not None:
        return qs.filter(result_id=pk).first()
    try:
        return qs.filter(pk=int(value)).first()
    except (TypeError, ValueError):
        return None


def shared_material_for_case(case: Case, value: Any) -> Material | None:
    """Resolve the ``shared_material`` id of the materials API (same applicant only)."""
    if not identity_established(case):
        return None
    try:
        pk = int(value)
    except (TypeError, ValueError):
        return None
    return Material.objects.filter(pk=pk, case__applicant_id_hash=case.applicant_id_hash).first()


def consents_for_case(case: Case) -> QuerySet[ReuseConsent]:
    return (
        ReuseConsent.objects.filter(case=case)
        .select_related("requirement", "material", "e_licence", "shared_material__case", "recorded_by")
        .order_by("consented_at", "pk")
    )

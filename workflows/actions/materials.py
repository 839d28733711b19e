"""Materials: uploads (size, magic-byte sniffing), e-licences, shared materials, pledges, opening a material; facts."""

from __future__ import annotations

import hashlib
import logging
import re
import zoneinfo
from dataclasses import dataclass
from datetime import datetime
from typing import Any, Protocol

from django.conf import settings
from django.core.exceptions import ValidationError
from django.core.files.base import File
from django.db import transaction
from django.utils import timezone
from django.utils.translation import gettext as _

from accounts.models import User
from core import errors as domain
from core.baked import BakedQuery
from ledger.actions import append as ledger_append
from ledger.models import Kind as LedgerKind
from services.models import MaterialGrade, MaterialRequirement
from workflows import ledger_records, material_files
from workflows.actions.engine import TransitionConflict, TransitionForbidden, _label
from workflows.models import (
    Case,
    CaseEvent,
    CaseState,
    Material,
    MaterialSource,
    MaterialView,
)
from workflows.results import Result
from workflows.rules import Actor, available_transitions

logger = logging.getLogger(__name__)
S = CaseState


class Upload(Protocol):
    """A readable, seekable binary file (an UploadedFile, a BytesIO, an open file)."""

    def read(self, size: int = ..., /) -> bytes: ...

    def seek(self, offset: int, whence: int = ..., /) -> int: ...


class UploadTooLarge(domain.TooLarge):
    """The uploaded file exceeds MAX_UPLOAD_BYTES (413)."""

    def __init__(self, limit: int) -> None:
        super().__init__(_("文件过大，单个文件不能超过 %(mb)s MB。") % {"mb": limit // (1024 * 1024)})
        self.limit = limit


# --- materials -------------------------------------------------------------------------------

MATERIAL_STATES = (S.DRAFT, S.RECEIVED, S.NEEDS_CORRECTION)
_MAGIC: list[tuple[bytes, str, str]] = [
    (b"%PDF-", "pdf", "application/pdf"),
    (b"\xff\xd8\xff", "jpg", "image/jpeg"),
    (b"\x89PNG\r\n\x1a\n", "png", "image/png"),
]


def max_upload_bytes() -> int:
    return int(getattr(settings, "MAX_UPLOAD_BYTES", 20 * 1024 * 1024))


def sniff_type(head: bytes) -> tuple[str, str] | None:
    for magic, ext, mime in _MAGIC:
        if head.startswith(magic):
            return ext, mime
    return None


def _material_actor(case: Case, user: User) -> str:
    """The source a material from this user gets, or raise 403."""
    a = Actor(user)
    if a.applicant_of(case) and case.receiving_hall_id is None:
        return MaterialSource.UPLOAD
    if a.clerk_at(case.receiving_hall_id):
        return MaterialSource.WINDOW_SCAN
    raise TransitionForbidden(_("您不能为该办件提交材料。"))


# Compiled once per process (core.baked): every upload names its requirement by code. The first in
# the model's order, as ``case.item.materials.filter(code=...).first()``.
_requirement_by_code = BakedQuery(
    lambda item_id, code: MaterialRequirement.objects.filter(item_id=item_id, code=code)[:1]
)


def _requirement(case: Case, code: str | MaterialRequirement) -> MaterialRequirement:
    # licences.actions resolves the requirement before delegating here: reuse it, no second query.
    if isinstance(code, MaterialRequirement):
        if code.item_id == case.item_id:
            return code
        code = code.code
    found = _requirement_by_code(case.item_id, (code or "").strip())
    req = found[0] if found else None
    if req is None:
        raise ValidationError({"requirement": [_("该事项没有编码为“%(code)s”的材料。") % {"code": code}]})
    return req


def _check_material_state(case: Case, user: User) -> None:
    if case.is_subcase:
        raise ValidationError({"case": [_("联办子件的材料随主件提交。")]})
    if case.state not in MATERIAL_STATES:
        raise TransitionConflict(
            _("当前状态“%(state)s”不能再提交材料。") % {"state": CaseState(case.state).label},
            state=case.state,
            allowed=available_transitions(Actor(user), case),
        )


def _supersede(case: Case, req: MaterialRequirement, now: datetime) -> None:
    Material.objects.filter(case=case, requirement=req, superseded_at__isnull=True).update(superseded_at=now)


def _admit(case: Case, actor: User, requirement: str | MaterialRequirement) -> tuple[str, MaterialRequirement]:
    """The checks every ``add_material_*`` starts with, in this order: may ``actor`` supply materials
    for ``case`` (403), does the case still take them (400 for a sub-case, 409), which requirement
    (400). Returns the source a material from ``actor`` gets and the requirement."""
    source = _material_actor(case, actor)
    _check_material_state(case, actor)
    return source, _requirement(case, requirement)


def _create_material(case: Case, req: MaterialRequirement, *, consent: bool = False, **fields: Any) -> Material:
    """One transaction: the requirement's current material superseded, the new row created (the
    applicant's consent stamped at the same instant when ``consent``) and its ledger entry."""
    with transaction.atomic():
        now = timezone.now()
        _supersede(case, req, now)
        if consent:
            fields["consent_at"] = now
        material = Material.objects.create(case=case, requirement=req, **fields)
        ledger_records.record_material(material, case.number)
        return material


def add_material_file(*, case: Case, actor: User, requirement: str, upload: Upload, filename: str = "") -> Material:
    """Store one file for a requirement: size limit (413), PDF/JPG/PNG by magic bytes (400), a random
    file name under MEDIA_ROOT (never served directly), its SHA-256. Replaces an earlier file for
    the same requirement. Side effects: the file on storage (removed again if the transaction fails)."""
    source, req = _admit(case, actor, requirement)
    limit = max_upload_bytes()
    size = getattr(upload, "size", None)
    if size is not None and size > limit:
        raise UploadTooLarge(limit)
    upload.seek(0)
    kind = sniff_type(upload.read(16))
    if kind is None:
        raise ValidationError({"file": [_("仅支持 PDF、JPG、PNG 格式的文件。")]})
    upload.seek(0)
    digest = hashlib.sha256()
    total = 0
    for chunk in iter(lambda: upload.read(1024 * 1024), b""):
        total += len(chunk)
        if total > limit:
            raise UploadTooLarge(limit)
        digest.update(chunk)
    if total == 0:
        raise ValidationError({"file": [_("文件为空。")]})
    upload.seek(0)
    ext, mime = kind
    safe_name = re.sub(r"[^\w.\-\u4e00-\u9fff]", "_", (filename or "").rsplit("/", 1)[-1])[:200]
    with transaction.atomic():
        now = timezone.now()
        _supersede(case, req, now)
        material = Material(
            case=case,
            requirement=req,
            source=source,
            original_name=safe_name,
            content_type=mime,
            size=total,
            sha256=digest.hexdigest(),
            grade=MaterialGrade.UPLOADED,
            uploaded_by=actor,
        )
        material.file.save(f"upload.{ext}", File(upload), save=False)  # type: ignore[arg-type]
        stored = material.file.name
        try:
            material.save()
            ledger_records.record_material(material, case.number)
        except Exception:
            if stored:
                material.file.storage.delete(stored)
            raise
    return material


def add_material_e_license(
    *, case: Case, actor: User, requirement: str | MaterialRequirement, result_id: str | Result
) -> Material:
    """免提交: use the applicant's e-licence (an issued, unrevoked result) for a requirement that names
    that licence type; the applicant's consent is recorded. ``requirement`` / ``result_id`` may be
    the already-loaded objects (licences.actions passes them). Side effects: the material row."""
    req = _admit(case, actor, requirement)[1]
    if not req.e_license_type:
        raise ValidationError({"e_license": [_("该材料不能以电子证照代替。")]})
    if isinstance(result_id, Result):
        result: Result | None = result_id
    else:
        result = Result.objects.filter(pk=result_id).first() if _is_uuid(result_id) else None
    if result is None or result.holder_id_hash != case.applicant_id_hash or result.revoked_at is not None:
        raise ValidationError({"e_license": [_("未找到申请人名下有效的该电子证照。")]})
    if req.e_license_type not in (result.license_type, result.result_type, result.title):
        raise ValidationError({"e_license": [_("该电子证照不是此材料要求的证照类型。")]})
    return _create_material(
        case,
        req,
        consent=True,
        source=MaterialSource.E_LICENSE,
        sha256=hashlib.sha256(f"{result.pk}|{result.number}|{result.issued_at.isoformat()}".encode()).hexdigest(),
        e_license=result,
        grade=MaterialGrade.ISSUED,
        valid_until=result.valid_until,
        uploaded_by=actor,
    )


def add_material_shared(
    *, case: Case, actor: User, requirement: str | MaterialRequirement, material_id: int | str | Material
) -> Material:
    """材料共享: reuse a material the same applicant supplied in an earlier case for the same
    requirement code, while it is valid. ``requirement`` / ``material_id`` may be the already-loaded
    objects (licences.actions passes them). Side effects: the material row (same file, same digest)."""
    req = _admit(case, actor, requirement)[1]
    source: Material | None
    if isinstance(material_id, Material):
        source = material_id
    else:
        try:
            pk = int(material_id)
        except (TypeError, ValueError):
            pk = -1
        source = Material.objects.select_related("case", "requirement").filter(pk=pk).first()
    today = timezone.localdate()
    if (
        source is None
        or source.case.applicant_id_hash != case.applicant_id_hash
        or source.requirement.code != req.code
        or not source.file
        or (source.valid_until is not None and source.valid_until < today)
    ):
        raise ValidationError({"shared_material": [_("未找到申请人可复用的该材料。")]})
    return _create_material(
        case,
        req,
        consent=True,
        source=MaterialSource.SHARED,
        file=source.file.name,
        original_name=source.original_name,
        content_type=source.content_type,
        size=source.size,
        sha256=source.sha256,
        shared_from=source,
        # The same bytes as the earlier case's material, with the trust that material earned.
        grade=source.grade,
        valid_until=source.valid_until,
        uploaded_by=actor,
    )


_PLEDGE_MAX = 2000


def add_material_pledge(*, case: Case, actor: User, requirement: str | MaterialRequirement, text: str) -> Material:
    """告知承诺: the applicant's written pledge instead of a material, where the requirement allows it.
    Its digest is the SHA-256 of the pledge text; its grade is "pledge" (the lowest), so a
    requirement asking for a higher grade still blocks verify. Side effects: the material row and
    its ledger entry."""
    req = _admit(case, actor, requirement)[1]
    if not req.pledge_allowed:
        raise ValidationError({"pledge": [_("该材料不适用告知承诺。")]})
    body = (text or "").strip()
    if not body:
        raise ValidationError({"pledge": [_("请填写承诺内容。")]})
    if len(body) > _PLEDGE_MAX:
        raise ValidationError({"pledge": [_("承诺内容不能超过 %(n)s 字。") % {"n": _PLEDGE_MAX}]})
    return _create_material(
        case,
        req,
        source=MaterialSource.PLEDGE,
        grade=MaterialGrade.PLEDGE,
        pledge_text=body,
        size=len(body.encode()),
        sha256=hashlib.sha256(body.encode()).hexdigest(),
        uploaded_by=actor,
    )


# --- viewing a material (download / watermarked preview) -------------------------------------


@dataclass(frozen=True)
class OpenedMaterial:
    data: bytes
    content_type: str
    filename: str
    page: int = 1
    pages: int = 1


def material_view_payload(view: MaterialView, case_number: str, sha256: str) -> dict[str, Any]:
    """The ledger payload of one view (also rebuilt by the verifier's ``material_view`` resolver)."""
    return {
        "case": case_number,
        "material": view.material_id,
        "sha256": sha256,
        "viewer": view.viewer_id,
        "viewer_label": view.viewer_label,
        "kind": view.kind,
        "outcome": view.outcome,
        "at": view.at,
    }


def _record_view(case: Case, material: Material, actor: User, kind: str, outcome: str) -> MaterialView:
    with transaction.atomic():
        view = MaterialView.objects.create(
            case=case,
            material=material,
            viewer=actor,
            viewer_label=_label(actor),
            viewer_role=actor.role,
            kind=kind,
            outcome=outcome,
            at=timezone.now(),
        )
        ledger_append(
            subject=ledger_records.case_subject(case.number),
            kind=LedgerKind.OTHER,
            payload=material_view_payload(view, case.number, material.sha256),
            ref=f"material_view:{view.pk}",
        )
    return view


def watermark_lines(case: Case, actor: User, at: datetime) -> list[str]:
    # Beijing time whatever the server's TIME_ZONE: the watermark is read by people in Guizhou.
    local = timezone.localtime(at, zoneinfo.ZoneInfo("Asia/Shanghai"))
    return [
        _("仅供 %(number)s 办理使用") % {"number": case.number},
        _("查阅人：%(name)s（%(username)s）") % {"name": _label(actor), "username": actor.get_username()},
        _("时间：%(at)s（北京时间）") % {"at": local.strftime("%Y-%m-%d %H:%M:%S")},
    ]


def open_material(*, case: Case, material: Material, actor: User, kind: str, page: int = 1) -> OpenedMaterial:
    """Serve one material's file to ``actor`` (whose scope the caller already checked with
    ``selectors.material_for``): the stored bytes are re-hashed first; a digest mismatch or a
    missing file is refused (MaterialTampered / MaterialUnavailable) and logged as an alert.
    ``kind="preview"`` returns a watermarked PNG of ``page`` (PreviewUnavailable when it cannot be
    rendered). Side effects: a MaterialView row with its ledger entry, for served and refused
    attempts alike (committed even when the file is refused)."""
    if kind not in MaterialView.Kind.values:
        raise ValidationError({"kind": [_("未知的查阅方式。")]})
    try:
        data = material_files.read_checked(material)
    except material_files.MaterialTampered as exc:
        _record_view(case, material, actor, kind, MaterialView.Outcome.TAMPERED)
        # An alert, not just a refusal: the file under MEDIA_ROOT was changed after submission.
        logger.error(
            "SECURITY: material %s of case %s failed its SHA-256 check (recorded %s, stored %s); refused to %s",
            material.pk,
            case.number,
            exc.expected,
            exc.actual,
            actor.get_username(),
        )
        raise
    except material_files.MaterialUnavailable:
        _record_view(case, material, actor, kind, MaterialView.Outcome.MISSING)
        logger.error("material %s of case %s has no readable stored file", material.pk, case.number)
        raise
    if kind == MaterialView.Kind.PREVIEW:
        preview = material_files.watermarked_preview(
            data, material.content_type, watermark_lines(case, actor, timezone.now()), page=page
        )
        _record_view(case, material, actor, kind, MaterialView.Outcome.SERVED)
        return OpenedMaterial(
            preview.png, "image/png", f"{case.number}-{material.pk}-p{preview.page}.png", preview.page, preview.pages
        )
    _record_view(case, material, actor, kind, MaterialView.Outcome.SERVED)
    ext = {"application/pdf": "pdf", "image/jpeg": "jpg", "image/png": "png"}.get(material.content_type, "bin")
    return OpenedMaterial(
        data, material.content_type or "application/octet-stream", f"{case.number}-{material.requirement.code}.{ext}"
    )


# --- facts about a case that are not transitions ---------------------------------------------


def record_case_fact(*, case: Case, actor: User | None, name: str, payload: dict[str, Any]) -> CaseEvent:
    """Append an event that records a fact without moving the state (a video verification's
    outcome): from = to = the current state, so the case's chain of events stays unbroken.
    Call inside the caller's transaction. Locks the case row (the next seq is allocated under it)."""
    if not transaction.get_connection().in_atomic_block:
        raise RuntimeError("record_case_fact() must run inside the caller's transaction")
    locked = Case.objects.select_for_update().only("pk", "state", "last_event_seq", "number").get(pk=case.pk)
    locked.last_event_seq += 1
    Case.objects.filter(pk=case.pk).update(last_event_seq=locked.last_event_seq, updated_at=timezone.now())
    case.last_event_seq = locked.last_event_seq
    event = CaseEvent(
        case=case,
        seq=locked.last_event_seq,
        transition=name,
        from_state=locked.state,
        to_state=locked.state,
        actor=actor,
        actor_label=_label(actor),
        at=timezone.now(),
        payload=payload,
    )
    ledger_records.create_case_event(event, case.number)
    return event


def _is_uuid(value: str) -> bool:
    import uuid

    try:
        uuid.UUID(str(value))
    except ValueError:
        return False
    return True
